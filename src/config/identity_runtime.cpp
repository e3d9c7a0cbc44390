#include "config/identity_runtime.h"

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "authn/base64url.h"
#include "authn/jwk.h"
#include "authn/api_keys.h"
#include "authn/issuer_registry.h"
#include "authn/jwt.h"
#include "authn/token_cache.h"
#include "posture/device_posture.h"
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

// The configured issuers, each with its key source (file, JWKS URL or OIDC
// discovery) and its claim mapping.
struct IdentityRuntime::Issuers {
  Issuers(authn::IssuerRegistry r, std::map<std::string, authn::ClaimMapping, std::less<>> m)
      : registry(std::move(r)), mappings(std::move(m)) {}
  authn::IssuerRegistry registry;
  std::map<std::string, authn::ClaimMapping, std::less<>> mappings;
  // Verified and mapped tokens: a repeated bearer token skips the signature
  // check. Entries end at the token's exp and after 5 minutes at most, which
  // also bounds how long a token signed by a key the IdP withdrew stays usable.
  authn::TokenCache<authn::Identity> cache;
};

namespace {

authn::IssuerConfig issuer_config(const IssuerSettings& s) {
  authn::IssuerConfig c;
  c.id = s.id;
  c.issuer = s.issuer;
  if (!s.jwks_file.empty()) {
    c.keys.kind = authn::JwksSourceKind::kFile;
    c.keys.location = s.jwks_file;
  } else if (!s.jwks_uri.empty()) {
    c.keys.kind = authn::JwksSourceKind::kUrl;
    c.keys.location = s.jwks_uri;
  } else {
    c.keys.kind = authn::JwksSourceKind::kDiscovery;
    c.keys.location = s.issuer;
  }
  c.keys.http.ca_file = s.ca_file;
  c.keys.cache.min_ttl = std::chrono::seconds(s.min_ttl_s);
  c.keys.cache.max_ttl = std::chrono::seconds(s.max_ttl_s);
  c.keys.cache.default_ttl = std::chrono::seconds(s.default_ttl_s);
  c.keys.cache.min_refresh_interval = std::chrono::seconds(s.refresh_min_interval_s);
  c.keys.cache.stale_if_error = std::chrono::seconds(s.stale_if_error_s);
  c.audience = s.audience;
  c.allowed_algs = s.algorithms;
  c.required_typ = s.typ;
  c.clock_skew_s = s.clock_skew_s;
  c.max_age_s = s.max_age_s;
  return c;
}

}  // namespace

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
  auto api_keys = authn::ApiKeyStore::open(rt->config_.data_dir);
  if (!api_keys) return api_keys.error();
  rt->api_keys_ = std::move(*api_keys);
  auto revocations = authn::RevocationStore::open(rt->config_.identity_db());
  if (!revocations) return revocations.error();
  rt->revocations_ = std::move(*revocations);
  // Entries no live token can match any more: older than the longest lifetime.
  auto purged = rt->revocations_->purge(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(),
      rt->config_.delegation.max_ttl_s + rt->config_.delegation.clock_skew_s + 60);
  if (!purged) return purged.error();

  std::vector<authn::IssuerConfig> issuers;
  std::map<std::string, authn::ClaimMapping, std::less<>> mappings;
  for (const auto& s : rt->config_.issuers) {
    issuers.push_back(issuer_config(s));
    mappings[s.id] = s.claims;
  }
  if (!rt->config_.mtls_ca_files.empty()) {
    std::vector<std::string> bundles;
    for (const auto& path : rt->config_.mtls_ca_files) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in) return make_error("x509_config_invalid", "cannot read CA bundle " + path);
      bundles.push_back(text.str());
    }
    auto verifier = authn::X509Verifier::create(bundles, rt->config_.mtls);
    if (!verifier) return verifier.error();
    rt->mtls_ = std::make_unique<authn::X509Verifier>(std::move(*verifier));
  }
  if (!issuers.empty()) {  // without issuers only API keys and certificates authenticate
    auto registry = authn::IssuerRegistry::create(std::move(issuers));
    if (!registry) return registry.error();
    rt->issuers_ = std::make_unique<Issuers>(std::move(*registry), std::move(mappings));
  }
  return rt;
}

Result<authn::Identity> IdentityRuntime::authenticate_token(std::string_view token, int64_t now_s) {
  if (!issuers_) return make_error("jwt_issuer_not_allowed", "no token issuers are configured");
  if (auto cached = issuers_->cache.find(token, now_s)) return *cached;
  auto verified = issuers_->registry.verify(token, now_s);
  if (!verified) return verified.error();
  auto mapping = issuers_->mappings.find(verified->issuer_id);
  if (mapping == issuers_->mappings.end())
    return make_error("authn_unknown_issuer", "no claim mapping for issuer `" + verified->issuer_id + "`");
  auto identity = authn::map_claims(verified->claims, mapping->second, verified->issuer_id);
  if (!identity) return identity.error();
  if (verified->claims.exp > 0)
    issuers_->cache.insert(token, std::make_shared<const authn::Identity>(*identity), verified->claims.exp, now_s);
  return identity;
}

Result<authn::Identity> IdentityRuntime::authenticate_certificate(std::string_view chain_pem, int64_t now_s) {
  if (!mtls_) return make_error("x509_config_invalid", "identity.mtls is not configured");
  auto verified = mtls_->verify_pem(chain_pem, now_s);
  if (!verified) return verified.error();
  authn::Identity id;
  id.principal = verified->principal;
  id.authn.method = "mtls";
  id.authn.issuer = verified->spiffe_id.trust_domain;
  return id;
}

Result<boost::json::object> IdentityRuntime::device_context(std::string_view assertion,
                                                           std::string_view user_subject, int64_t now_s) {
  if (assertion.empty()) return posture::device_context(nullptr);
  if (!config_.posture)
    return make_error("posture_invalid", "a device assertion was presented but identity.posture is not configured");
  auto source = issuers_ ? issuers_->registry.source(config_.posture->issuer_id) : nullptr;
  if (!source) return make_error("posture_invalid", "the posture issuer has no key source");
  auto keys = source->keys();
  if (!keys) return keys.error();
  auto verified = posture::verify_device_posture(assertion, **keys, config_.posture->policy, user_subject,
                                                 std::nullopt, now_s);
  if (!verified && verified.error().message.find("jws_unknown_kid") != std::string::npos) {
    // The MDM may have rotated its key: refresh (rate-limited) and try once more.
    keys = source->refresh_after_unknown_kid();
    if (!keys) return keys.error();
    verified = posture::verify_device_posture(assertion, **keys, config_.posture->policy, user_subject,
                                              std::nullopt, now_s);
  }
  if (!verified) return verified.error();
  return posture::device_context(&*verified);
}

Result<authn::Identity> IdentityRuntime::authenticate_api_key(std::string_view key, int64_t now_s) {
  auto record = api_keys_->verify(key, now_s);
  if (!record) return record.error();
  authn::Identity id;
  id.principal = record->principal;
  id.authn.method = "api_key";
  id.authn.issuer = "ztgate";
  id.scopes = record->scopes;
  return id;
}

Result<authn::Identity> IdentityRuntime::authenticate_bearer(std::string_view credential, int64_t now_s) {
  if (credential.rfind("ztg_", 0) == 0) return authenticate_api_key(credential, now_s);
  if (looks_like_delegation(credential)) {
    auto d = verify_delegation(credential, now_s);
    if (!d) return d.error();
    return authn::delegation_identity(*d);
  }
  return authenticate_token(credential, now_s);
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
  } else if (!actor.api_key.empty()) {
    auto record = api_keys_->verify(actor.api_key, now_s);
    if (!record) return record.error();
    if (record->principal.type != "Agent")
      return make_error("authn_not_an_agent", "the API key belongs to " + record->principal.to_cedar() +
                                                  ", not an Agent");
    agent = record->principal.id;
  } else {
    return make_error("authn_not_an_agent",
                      "the exchange needs the agent's own credential (--actor-token or --actor-key)");
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
