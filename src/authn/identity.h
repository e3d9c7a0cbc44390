// Verified identities and how they become Cedar principals.
//
// map_claims turns the claims of a verified token into an Identity using a
// configurable ClaimMapping; principal_entity / authn_context render it for
// the Cedar request (entity JSON in Cedar's entities format, and the
// `context.authn` record). Pure, no I/O.
//
// Error codes: identity_invalid (a mapped claim has the wrong JSON type, the
// subject is missing, or a bound is exceeded), scope_invalid.
// Bounds: kMaxGroups groups per identity, kMaxClaimBytes per mapped string.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "authn/jwt.h"
#include "authn/scopes.h"

namespace ztgate::authn {

inline constexpr size_t kMaxGroups = 1024;
inline constexpr size_t kMaxClaimBytes = 1024;

// A Cedar entity uid, kept as its two parts (type may be namespaced: "Acme::User").
struct EntityRef {
  std::string type;
  std::string id;
  std::string to_cedar() const;  // User::"alice", with Cedar string escaping
  boost::json::object to_json() const;  // {"type":..., "id":...}
  bool operator==(const EntityRef&) const = default;
};

// Which claims mean what. Defaults follow OIDC core and common IdP practice.
struct ClaimMapping {
  std::string user_type = "User";
  std::string group_type = "Group";
  std::string id_claim = "sub";         // becomes the User entity id
  std::string groups_claim = "groups";  // string or array of strings → parents
  std::string roles_claim = "roles";    // → parents too, as groups named role_prefix + role
  std::string role_prefix = "role:";
  std::string email_claim = "email";
  std::string tenant_claim = "tenant";
  std::vector<std::string> scope_claims = {"scope", "scp"};
  // Scopes a member of a group may delegate, for IdPs that issue groups, not scopes.
  std::map<std::string, std::vector<std::string>> group_scopes;
  // amr values (RFC 8176) that alone mean multi-factor. Besides these, a
  // knowledge factor (pwd, pin, kba) together with a possession or inherence
  // factor counts as MFA.
  std::vector<std::string> mfa_amr = {"mfa", "hwk", "sc", "fido"};
};

// Facts about how the principal authenticated (`context.authn`).
struct AuthnFacts {
  std::string method;  // "jwt", "api_key", "mtls", "delegation"
  std::string issuer;  // configured issuer id (or "ztgate" for delegation tokens)
  bool mfa = false;
  int64_t auth_time = 0;  // seconds since epoch: auth_time claim, else iat
  std::vector<std::string> amr;
};

struct Identity {
  EntityRef principal;
  std::vector<std::string> groups;  // group ids (entity type ClaimMapping::group_type)
  std::string group_type = "Group";
  boost::json::object attrs;        // email, tenant, roles (Cedar attribute JSON)
  ScopeSet scopes;                  // scopes the user holds and may delegate
  AuthnFacts authn;
};

Result<Identity> map_claims(const JwtClaims& claims, const ClaimMapping& mapping,
                            const std::string& issuer_id);

// The principal as a Cedar entity (JSON entities format) with Group parents.
boost::json::object principal_entity(const Identity& identity);
// The groups as entities with no parents of their own (the deployment's
// entity store may add a hierarchy); one per group.
boost::json::array group_entities(const Identity& identity);
// context.authn: {method, issuer, mfa, age_s, amr}. When the authentication
// time is unknown, age_s reads kUnknownAuthAge, so "age_s < N" fails safe.
inline constexpr int64_t kUnknownAuthAge = 2147483647;
boost::json::object authn_context(const AuthnFacts& facts, int64_t now_s);

}  // namespace ztgate::authn
