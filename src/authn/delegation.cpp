#include "authn/delegation.h"

#include <openssl/rand.h>

#include <boost/json.hpp>

#include <algorithm>

#include "authn/base64url.h"
#include "authn/jws.h"

namespace ztgate::authn {
namespace {

namespace json = boost::json;

Error err(std::string code, std::string message) { return make_error(std::move(code), std::move(message)); }

Result<std::string> random_id(std::string_view prefix) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return err("delegation_invalid", "the random generator failed");
  return std::string(prefix) + base64url_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Status check_agent(const AgentRegistry& agents, const std::string& id) {
  const AgentRecord* a = agents.find(id);
  if (a == nullptr) return err("delegation_agent_unknown", "agent `" + id + "` is not registered");
  if (!a->enabled) return err("delegation_agent_disabled", "agent `" + id + "` is disabled");
  return Ok{};
}

json::array to_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

// The nested RFC 8693 `act` claim: current actor outermost.
json::object act_claim(const std::vector<std::string>& chain) {
  json::object act;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    json::object outer{{"sub", *it}};
    if (!act.empty()) outer["act"] = std::move(act);
    act = std::move(outer);
  }
  return act;
}

Result<std::vector<std::string>> parse_act(const json::object& claims, int max_depth) {
  std::vector<std::string> chain;
  const json::value* act = claims.if_contains("act");
  while (act != nullptr) {
    if (!act->is_object()) return err("delegation_invalid", "`act` must be an object");
    const json::object& o = act->get_object();
    const json::value* sub = o.if_contains("sub");
    if (sub == nullptr || !sub->is_string() || sub->get_string().empty())
      return err("delegation_invalid", "every `act` needs a string `sub`");
    if (static_cast<int>(chain.size()) >= max_depth)
      return err("delegation_chain_too_deep", "the actor chain is longer than " + std::to_string(max_depth));
    chain.emplace_back(sub->get_string());
    act = o.if_contains("act");
  }
  if (chain.empty()) return err("delegation_invalid", "the token names no actor (`act`)");
  return chain;
}

Result<std::string> get_string(const json::object& o, std::string_view name, bool required = true) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) {
    if (required) return err("delegation_invalid", "claim `" + std::string(name) + "` is missing");
    return std::string();
  }
  if (!v->is_string()) return err("delegation_invalid", "claim `" + std::string(name) + "` must be a string");
  return std::string(v->get_string());
}

}  // namespace

ScopeSet delegable_scopes(const ExchangeRequest& request, const AgentRecord& agent) {
  ScopeSet base = request.parent != nullptr ? request.parent->scopes
                  : request.user != nullptr ? request.user->scopes.unite(request.user_grants)
                                            : ScopeSet{};
  ScopeSet ceiling = agent.max_scopes.unite(request.agent_grants);
  return base.intersect(ceiling);
}

DelegationService::DelegationService(DelegationConfig config, const SigningKey& key,
                                     const AgentRegistry& agents, std::vector<Jwk> verification_keys)
    : config_(std::move(config)), key_(key), agents_(agents), verification_keys_(std::move(verification_keys)) {
  config_.max_chain_depth = std::clamp(config_.max_chain_depth, 1, kHardMaxChainDepth);
}

Result<MintedDelegation> DelegationService::exchange(const ExchangeRequest& req, int64_t now_s) const {
  if ((req.user == nullptr) == (req.parent == nullptr))
    return err("delegation_invalid", "an exchange needs either the user's identity or a parent delegation");
  if (auto st = check_agent(agents_, req.actor); !st) return st.error();
  const AgentRecord& agent = *agents_.find(req.actor);

  Delegation d;
  if (req.parent != nullptr) {
    const Delegation& p = *req.parent;
    const AgentRecord* current = agents_.find(p.agent());
    if (current == nullptr ||
        std::find(current->delegate_to.begin(), current->delegate_to.end(), req.actor) == current->delegate_to.end())
      return err("delegation_chain_forbidden",
                 "agent `" + p.agent() + "` may not delegate to agent `" + req.actor + "`");
    if (std::find(p.chain.begin(), p.chain.end(), req.actor) != p.chain.end())
      return err("delegation_chain_forbidden", "agent `" + req.actor + "` is already in the chain");
    if (p.depth() + 1 > config_.max_chain_depth)
      return err("delegation_chain_too_deep",
                 "a chain of " + std::to_string(p.depth() + 1) + " agents exceeds the maximum of " +
                     std::to_string(config_.max_chain_depth));
    if (!req.task.empty() && req.task != p.task)
      return err("delegation_task_invalid", "a chained delegation keeps its parent's task `" + p.task + "`");
    d = p;
    d.chain.insert(d.chain.begin(), req.actor);
  } else {
    const Identity& u = *req.user;
    d.user = u.principal;
    d.groups = u.groups;
    d.idp = u.authn.issuer;
    d.user_mfa = u.authn.mfa;
    d.user_auth_time = u.authn.auth_time;
    d.chain = {req.actor};
    if (req.task.empty()) {
      auto task = random_id("task-");
      if (!task) return task.error();
      d.task = *task;
    } else {
      d.task = req.task;
    }
  }
  if (d.task.empty() || d.task.size() > kMaxTaskBytes || !printable_ascii(d.task))
    return err("delegation_task_invalid", "a task id is 1.." + std::to_string(kMaxTaskBytes) +
                                              " printable ASCII characters without spaces");

  // Attenuation: requested ∩ user's permitted (or parent's) ∩ agent maximum.
  if (req.requested.empty()) return err("delegation_scope_empty", "no scope was requested");
  ScopeSet allowed = delegable_scopes(req, agent);
  ScopeSet missing = req.requested.minus(allowed);
  if (!missing.empty() && !req.allow_narrowing) {
    ScopeSet base = req.parent != nullptr ? req.parent->scopes : req.user->scopes.unite(req.user_grants);
    ScopeSet ceiling = agent.max_scopes.unite(req.agent_grants);
    std::vector<std::string> reasons;
    for (const auto& s : missing.items()) {
      std::string why;
      if (!base.contains(s))
        why = req.parent != nullptr ? "not in the parent delegation" : "not held by the user";
      if (!ceiling.contains(s)) why += std::string(why.empty() ? "" : " and ") + "beyond agent `" + req.actor + "`'s maximum";
      reasons.push_back(s + " (" + why + ")");
    }
    return err("delegation_scope_exceeded",
               "requested scopes exceed what may be delegated: " + join(reasons) +
                   "; request fewer scopes, or ask for narrowing");
  }
  d.scopes = req.requested.intersect(allowed);
  if (d.scopes.empty()) return err("delegation_scope_empty", "no requested scope may be delegated to this agent");

  int64_t max_ttl = config_.max_ttl_s;
  if (agent.max_ttl_s > 0) max_ttl = std::min(max_ttl, agent.max_ttl_s);
  if (req.ttl_s < 0 || req.ttl_s > max_ttl)
    return err("delegation_ttl_exceeded", "the lifetime must be 1.." + std::to_string(max_ttl) + " seconds");
  int64_t ttl = req.ttl_s == 0 ? max_ttl : req.ttl_s;
  d.iat = now_s;
  d.exp = now_s + ttl;
  if (req.parent != nullptr && d.exp > req.parent->exp) {
    if (req.ttl_s != 0)
      return err("delegation_ttl_exceeded", "a chained delegation cannot outlive its parent");
    d.exp = req.parent->exp;
  }
  if (d.exp <= now_s) return err("delegation_ttl_exceeded", "the parent delegation has expired");
  auto jti = random_id("");
  if (!jti) return jti.error();
  d.jti = *jti;

  json::object ztg{{"v", 1},
                   {"user", d.user.to_json()},
                   {"groups", to_array(d.groups)},
                   {"idp", d.idp},
                   {"mfa", d.user_mfa},
                   {"auth_time", d.user_auth_time},
                   {"depth", d.depth()}};
  json::object payload{{"iss", config_.issuer}, {"aud", config_.audience}, {"sub", d.user.id},
                       {"act", act_claim(d.chain)},  {"scope", d.scopes.to_string()},
                       {"task", d.task},             {"jti", d.jti},
                       {"iat", d.iat},               {"nbf", d.iat},
                       {"exp", d.exp},               {"ztg", std::move(ztg)}};
  auto token = key_.sign_compact(kDelegationTyp, json::serialize(payload));
  if (!token) return token.error();
  MintedDelegation out;
  out.token = std::move(*token);
  out.narrowed_away = req.requested.minus(d.scopes);
  out.claims = std::move(d);
  return out;
}

Result<Delegation> DelegationService::verify(std::string_view token, int64_t now_s, const RevokedCheck& revoked,
                                             const GrantLookup& grants) const {
  JwsPolicy jws_policy;
  jws_policy.allowed_algs = {"EdDSA"};
  jws_policy.required_typ = kDelegationTyp;
  JwtPolicy jwt_policy;
  jwt_policy.issuers = {config_.issuer};
  jwt_policy.audience = config_.audience;
  jwt_policy.clock_skew_s = config_.clock_skew_s;
  jwt_policy.max_age_s = config_.max_ttl_s;
  auto claims = verify_jwt(token, verification_keys_, jws_policy, jwt_policy, now_s);
  if (!claims) return claims.error();
  if (claims->exp - claims->iat > config_.max_ttl_s)
    return err("delegation_invalid", "the token's lifetime exceeds the maximum of " +
                                         std::to_string(config_.max_ttl_s) + " seconds");
  const json::object& all = claims->all;
  Delegation d;
  auto chain = parse_act(all, config_.max_chain_depth);
  if (!chain) return chain.error();
  d.chain = std::move(*chain);
  auto scope = get_string(all, "scope");
  if (!scope) return scope.error();
  auto scopes = ScopeSet::parse(*scope);
  if (!scopes) return scopes.error();
  auto task = get_string(all, "task");
  if (!task) return task.error();
  d.task = *task;
  d.jti = claims->jti;
  d.iat = claims->iat;
  d.exp = claims->exp;
  if (d.jti.empty()) return err("delegation_invalid", "claim `jti` is missing");
  const json::value* ztg_v = all.if_contains("ztg");
  if (ztg_v == nullptr || !ztg_v->is_object()) return err("delegation_invalid", "claim `ztg` is missing");
  const json::object& ztg = ztg_v->get_object();
  const json::value* user = ztg.if_contains("user");
  if (user == nullptr || !user->is_object()) return err("delegation_invalid", "claim `ztg.user` is missing");
  auto utype = get_string(user->get_object(), "type");
  auto uid = get_string(user->get_object(), "id");
  if (!utype || !uid || uid->empty() || *uid != claims->sub)
    return err("delegation_invalid", "`ztg.user` must name the subject");
  d.user = {*utype, *uid};
  auto idp = get_string(ztg, "idp", false);
  if (!idp) return idp.error();
  d.idp = *idp;
  if (const json::value* g = ztg.if_contains("groups")) {
    if (!g->is_array() || g->get_array().size() > kMaxGroups)
      return err("delegation_invalid", "`ztg.groups` must be an array of at most 1024 strings");
    for (const auto& item : g->get_array()) {
      if (!item.is_string()) return err("delegation_invalid", "`ztg.groups` must hold strings");
      d.groups.emplace_back(item.get_string());
    }
  }
  if (const json::value* m = ztg.if_contains("mfa"); m != nullptr && m->is_bool()) d.user_mfa = m->get_bool();
  if (const json::value* t = ztg.if_contains("auth_time"); t != nullptr && t->is_int64())
    d.user_auth_time = t->get_int64();
  const json::value* depth = ztg.if_contains("depth");
  if (depth == nullptr || !depth->is_int64() || depth->get_int64() != d.depth())
    return err("delegation_invalid", "`ztg.depth` does not match the actor chain");

  // Continuous verification: the registry and revocations as they are now.
  for (const auto& a : d.chain)
    if (auto st = check_agent(agents_, a); !st) return st.error();
  if (revoked && revoked(d))
    return err("delegation_revoked", "this delegation was revoked (token, principal or task)");
  ScopeSet ceiling = agents_.find(d.agent())->max_scopes;
  if (grants) ceiling = ceiling.unite(grants(EntityRef{"Agent", d.agent()}));
  d.scopes = scopes->intersect(ceiling);
  return d;
}

json::array delegation_entities(const Delegation& d, const AgentRegistry& agents) {
  json::array out;
  if (const AgentRecord* a = agents.find(d.agent())) out.push_back(agent_entity(*a, d.user));
  Identity user;
  user.principal = d.user;
  user.groups = d.groups;
  out.push_back(principal_entity(user));
  for (auto& g : group_entities(user)) out.push_back(std::move(g));
  return out;
}

Identity delegation_identity(const Delegation& d) {
  Identity id;
  id.principal = {"Agent", d.agent()};
  id.scopes = d.scopes;
  id.authn.method = "delegation";
  id.authn.issuer = d.idp;
  id.authn.mfa = d.user_mfa;
  id.authn.auth_time = d.user_auth_time;
  return id;
}

json::object delegation_context(const Delegation& d) {
  return {{"scopes", to_array(d.scopes.items())},
          {"task", d.task},
          {"depth", d.depth()},
          {"chain", to_array(d.chain)}};
}

json::object delegation_authn_context(const Delegation& d, int64_t now_s) {
  AuthnFacts facts;
  facts.method = "delegation";
  facts.issuer = d.idp;
  facts.mfa = d.user_mfa;
  facts.auth_time = d.user_auth_time;
  return authn_context(facts, now_s);
}

}  // namespace ztgate::authn
