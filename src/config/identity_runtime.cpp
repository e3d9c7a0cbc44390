#include "config/identity_runtime.h"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "authn/base64url.h"
#include "authn/jwk.h"
#include "authn/jwt.h"
#include "store/sqlite.h"

namespace ztgate::config {
namespace {

namespace json = boost::json;

// The header and payload of a compact token, decoded but not verified.
Result<json::object> unverified_part(std::string_view token, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = token.find('.', start);
    if (start == std::string_view::npos) return make_error("jws_malformed", "not a compact JWS");
    ++start;
  }
  size_t end = token.find('.', start);
  if (end == std::string_view::npos) return make_error("jws_malformed", "not a compact JWS");
  auto bytes = authn::base64url_decode(token.substr(start, end - start));
  if (!bytes) return make_error("jws_malformed", "a token segment is not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) return make_error("jws_malformed", "a token segment is not a JSON object");
  return std::move(v.get_object());
}

}  // namespace

bool looks_like_delegation(std::string_view token) {
  if (token.size() > authn::kMaxJwsBytes) return false;
  auto header = unverified_part(token, 0);
  if (!header) return false;
  const json::value* typ = header->if_contains("typ");
  return typ != nullptr && typ->is_string() && typ->get_string() == authn::kDelegationTyp;
}

// Configured issuers with their keys. Keys come from jwks_file here.
struct IdentityRuntime::Issuers {
  struct Entry {
    IssuerSettings settings;
    std::vector<authn::Jwk> keys;
  };
  std::vector<Entry> entries;
};

IdentityRuntime::IdentityRuntime(IdentityConfig config, authn::AgentRegistry agents, authn::SigningKey key)
    : config_(std::move(config)), agents_(std::move(agents)), key_(std::move(key)) {}

IdentityRuntime::~IdentityRuntime() = default;

Result<std::unique_ptr<IdentityRuntime>> IdentityRuntime::open(IdentityConfig config) {
  if (auto st = store::ensure_private_dir(config.data_dir); !st) return st.error();
  auto agents = authn::AgentRegistry::create(config.agents);
  if (!agents) return agents.error();
  auto key = authn::SigningKey::load_or_create(config.signing_key_path);
  if (!key) return key.error();
  std::unique_ptr<IdentityRuntime> rt(new IdentityRuntime(std::move(config), std::move(*agents), std::move(*key)));
  std::vector<authn::Jwk> keys;
  auto own = rt->key_.public_jwk();
  if (!own) return own.error();
  keys.push_back(std::move(*own));
  rt->delegation_ = std::make_unique<authn::DelegationService>(rt->config_.delegation, rt->key_, rt->agents_,
                                                               std::move(keys));
  auto grants = authn::GrantStore::open(rt->config_.identity_db());
  if (!grants) return grants.error();
  rt->grants_ = std::move(*grants);
  auto revocations = authn::RevocationStore::open(rt->config_.identity_db());
  if (!revocations) return revocations.error();
  rt->revocations_ = std::move(*revocations);

  rt->issuers_ = std::make_unique<Issuers>();
  for (const auto& s : rt->config_.issuers) {
    Issuers::Entry e{s, {}};
    if (!s.jwks_file.empty()) {
      std::ifstream in(s.jwks_file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) return make_error("jwks_unavailable", "cannot read " + s.jwks_file);
      auto keys_or = authn::parse_jwks(text.str());
      if (!keys_or) return keys_or.error();
      e.keys = std::move(*keys_or);
    }
    rt->issuers_->entries.push_back(std::move(e));
  }
  return rt;
}

Result<authn::Identity> IdentityRuntime::authenticate_token(std::string_view token, int64_t now_s) {
  auto payload = unverified_part(token, 1);
  if (!payload) return payload.error();
  const json::value* iss = payload->if_contains("iss");
  std::string issuer = iss != nullptr && iss->is_string() ? std::string(iss->get_string()) : "";
  for (const auto& e : issuers_->entries) {
    if (e.settings.issuer != issuer) continue;
    authn::JwsPolicy jws;
    if (!e.settings.algorithms.empty()) jws.allowed_algs = e.settings.algorithms;
    jws.required_typ = e.settings.typ;
    authn::JwtPolicy jwt;
    jwt.issuers = {e.settings.issuer};
    jwt.audience = e.settings.audience;
    jwt.clock_skew_s = e.settings.clock_skew_s;
    jwt.max_age_s = e.settings.max_age_s;
    auto claims = authn::verify_jwt(token, e.keys, jws, jwt, now_s);
    if (!claims) return claims.error();
    return authn::map_claims(*claims, e.settings.claims, e.settings.id);
  }
  return make_error("authn_unknown_issuer", "no configured issuer matches the token's `iss`");
}

Result<std::string> IdentityRuntime::authenticate_agent(const ActorCredential& actor, int64_t now_s) {
  std::string agent;
  if (!actor.token.empty()) {
    auto id = authenticate_token(actor.token, now_s);
    if (!id) return id.error();
    if (id->principal.type != "Agent")
      return make_error("authn_not_an_agent", "the actor credential names " + id->principal.to_cedar() +
                                                  ", not an Agent (set claims.user_type: Agent for the agent issuer)");
    agent = id->principal.id;
  } else {
    return make_error("authn_not_an_agent", "the exchange needs the agent's own credential (--actor-token)");
  }
  const authn::AgentRecord* record = agents_.find(agent);
  if (record == nullptr) return make_error("delegation_agent_unknown", "agent `" + agent + "` is not registered");
  if (!record->enabled) return make_error("delegation_agent_disabled", "agent `" + agent + "` is disabled");
  return agent;
}

Result<authn::Delegation> IdentityRuntime::verify_delegation(std::string_view token, int64_t now_s) {
  auto list = revocations_->snapshot();
  if (!list) return list.error();
  auto revoked = [&](const authn::Delegation& d) { return (*list)->revokes(d); };
  Status grant_error = Ok{};
  auto grants = [&](const authn::EntityRef& who) {
    auto scopes = grants_->active_scopes(who, now_s);
    if (!scopes) {
      grant_error = scopes.error();
      return authn::ScopeSet{};
    }
    return *scopes;
  };
  auto d = delegation_->verify(token, now_s, revoked, grants);
  if (!grant_error) return grant_error.error();  // fail closed on a store error
  return d;
}

Result<authn::MintedDelegation> IdentityRuntime::exchange(const Exchange& x, int64_t now_s) {
  auto agent = authenticate_agent(x.actor, now_s);
  if (!agent) return agent.error();
  authn::ExchangeRequest req;
  req.actor = *agent;
  req.requested = x.scopes;
  req.task = x.task;
  req.ttl_s = x.ttl_s;
  req.allow_narrowing = x.allow_narrowing;
  std::optional<authn::Identity> user;
  std::optional<authn::Delegation> parent;
  if (looks_like_delegation(x.subject_token)) {
    auto d = verify_delegation(x.subject_token, now_s);
    if (!d) return d.error();
    parent = std::move(*d);
    req.parent = &*parent;
  } else {
    auto id = authenticate_token(x.subject_token, now_s);
    if (!id) return id.error();
    if (id->principal.type == "Agent")
      return make_error("authn_not_a_user", "the subject token names an agent; delegation starts from a user");
    user = std::move(*id);
    req.user = &*user;
    auto user_grants = grants_->active_scopes(user->principal, now_s);
    if (!user_grants) return user_grants.error();
    req.user_grants = *user_grants;
  }
  auto agent_grants = grants_->active_scopes({"Agent", *agent}, now_s);
  if (!agent_grants) return agent_grants.error();
  req.agent_grants = *agent_grants;
  auto minted = delegation_->exchange(req, now_s);
  if (!minted) return minted.error();
  // A revoked task cannot be restarted, and a principal revoked this very
  // second gets nothing new.
  auto list = revocations_->snapshot();
  if (!list) return list.error();
  if ((*list)->revokes(minted->claims))
    return make_error("delegation_revoked", "the task or a principal of this delegation is revoked");
  return minted;
}

std::string IdentityRuntime::jwks_json() const { return "{\"keys\":[" + key_.public_jwk_json() + "]}"; }

}  // namespace ztgate::config
