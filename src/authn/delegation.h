// Delegation tokens: what an AI agent may do for a user, for one task.
//
// In the spirit of RFC 8693 token exchange: given the user's verified identity
// (or, for agent-to-agent chains, a verified delegation) and the agent's own
// verified credential, ztgate mints a short-lived EdDSA-signed JWT:
//
//   header  {"alg":"EdDSA","typ":"ztgate-delegation+jwt","kid":<thumbprint>}
//   payload {"iss": <gateway issuer>, "aud": <gateway audience>,
//            "sub": <user id>, "act": {"sub": <agent>, "act": {...earlier agents}},
//            "scope": "a b", "task": <task id>, "jti": <128-bit random>,
//            "iat", "nbf", "exp" (≤ iat + max TTL, default 600 s),
//            "ztg": {"v":1, "user": {"type","id"}, "groups": [...], "idp": <issuer id>,
//                    "mfa": bool, "auth_time": n, "depth": n}}
//
// Scope attenuation is the invariant: minted scope = requested ∩ user's
// permitted ∩ agent maximum (∩ the parent token's scope for a chain). A
// request beyond that is refused with delegation_scope_exceeded naming each
// missing scope and why, unless the caller sets allow_narrowing.
//
// Error codes (stable):
//   delegation_scope_exceeded  requested scopes outside the intersection
//   delegation_scope_empty     nothing requested, or nothing left after narrowing
//   delegation_agent_unknown   the actor (or an agent in the chain) is not registered
//   delegation_agent_disabled  ... or is disabled
//   delegation_chain_forbidden the current agent may not delegate to the next one
//   delegation_chain_too_deep  more than max_chain_depth agents
//   delegation_ttl_exceeded    requested TTL above the maximum, or beyond the parent's exp
//   delegation_task_invalid    task id empty-but-required, too long or not printable ASCII
//   delegation_invalid         a presented delegation token is malformed (claims)
//   delegation_revoked         by jti, by principal (user or any agent), or by task
//   plus jws_* / jwt_* from signature and claim checks, signing_key_error.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "authn/agent_registry.h"
#include "authn/identity.h"
#include "authn/jwt.h"
#include "authn/scopes.h"
#include "authn/signing_key.h"

namespace ztgate::authn {

inline constexpr const char* kDelegationTyp = "ztgate-delegation+jwt";
inline constexpr size_t kMaxTaskBytes = 128;
inline constexpr int kHardMaxChainDepth = 8;

struct DelegationConfig {
  std::string issuer = "urn:ztgate:gateway";  // "iss" of minted tokens
  std::string audience = "ztgate";            // "aud": tokens are for this gateway only
  int64_t max_ttl_s = 600;                    // default and ceiling: 10 minutes
  int max_chain_depth = 4;                    // agents in one chain (≤ kHardMaxChainDepth)
  int64_t clock_skew_s = 30;
};

// A verified delegation, as the gateway uses it on every request.
struct Delegation {
  EntityRef user;                    // on whose behalf
  std::vector<std::string> groups;   // the user's groups when the token was minted
  std::string idp;                   // issuer id that authenticated the user
  bool user_mfa = false;
  int64_t user_auth_time = 0;
  std::vector<std::string> chain;    // agent ids, current actor first
  ScopeSet scopes;                   // effective scopes
  std::string task;
  std::string jti;
  int64_t iat = 0, exp = 0;
  int depth() const { return static_cast<int>(chain.size()); }
  const std::string& agent() const { return chain.front(); }
};

// Token exchange input. Exactly one of `user` / `parent` is set: a user's
// identity starts a chain, a verified delegation extends one.
struct ExchangeRequest {
  const Identity* user = nullptr;
  const Delegation* parent = nullptr;
  std::string actor;                 // the authenticated agent's id
  ScopeSet requested;
  std::string task;                  // "" → a random task id (not allowed with a parent:
                                     // a chain keeps its task)
  int64_t ttl_s = 0;                 // 0 → the maximum
  bool allow_narrowing = false;      // grant the intersection instead of refusing
  ScopeSet user_grants;              // active just-in-time grants of the user
  ScopeSet agent_grants;             // ... and of the agent
};

struct MintedDelegation {
  std::string token;
  Delegation claims;
  ScopeSet narrowed_away;  // requested but not granted (only with allow_narrowing)
};

// What the revocation list answers for a token; see revocation.h.
using RevokedCheck = std::function<bool(const Delegation&)>;
// Active just-in-time grants of a principal (e.g. Agent::"x").
using GrantLookup = std::function<ScopeSet(const EntityRef&)>;

// The attenuation rule on its own, for property tests and the CLI's dry run:
// the scopes an exchange may grant.
ScopeSet delegable_scopes(const ExchangeRequest& request, const AgentRecord& agent);

class DelegationService {
 public:
  DelegationService(DelegationConfig config, const SigningKey& key, const AgentRegistry& agents,
                    std::vector<Jwk> verification_keys);

  Result<MintedDelegation> exchange(const ExchangeRequest& request, int64_t now_s) const;

  // Signature (EdDSA, our keys only), typ, iss, aud, exp/nbf/iat, lifetime ≤
  // max TTL, claim shapes; then continuous checks: every agent in the chain
  // still registered and enabled, not revoked; scopes cut down to the current
  // agent's maximum plus its active grants.
  Result<Delegation> verify(std::string_view token, int64_t now_s, const RevokedCheck& revoked = {},
                            const GrantLookup& grants = {}) const;

  const DelegationConfig& config() const { return config_; }

 private:
  DelegationConfig config_;
  const SigningKey& key_;
  const AgentRegistry& agents_;
  std::vector<Jwk> verification_keys_;  // current + previous public keys (rotation)
};

// Cedar request pieces for an agent request: principal Agent::"<current>"
// with on_behalf_of, the User entity and its groups, and the context records.
boost::json::array delegation_entities(const Delegation& d, const AgentRegistry& agents);
// The acting agent as an Identity: principal Agent::"<current>", the
// delegated scopes, and the user's authentication facts (method "delegation").
Identity delegation_identity(const Delegation& d);
// context.delegation: {scopes: Set<String>, task: String, depth: Long, chain: Set<String>}
boost::json::object delegation_context(const Delegation& d);
// context.authn for an agent request (method "delegation", the user's MFA and age).
boost::json::object delegation_authn_context(const Delegation& d, int64_t now_s);

}  // namespace ztgate::authn
