#include "authn/identity.h"

#include <boost/json.hpp>

#include <algorithm>

namespace ztgate::authn {
namespace {

namespace json = boost::json;

Error identity_error(std::string message) { return make_error("identity_invalid", std::move(message)); }

// A claim that may be one string or an array of strings.
Result<std::vector<std::string>> string_list(const json::object& claims, const std::string& name) {
  std::vector<std::string> out;
  if (name.empty()) return out;
  const json::value* v = claims.if_contains(name);
  if (v == nullptr || v->is_null()) return out;
  auto add = [&](const json::value& item) -> Status {
    if (!item.is_string()) return identity_error("claim `" + name + "` must hold strings");
    if (item.get_string().size() > kMaxClaimBytes || item.get_string().empty())
      return identity_error("claim `" + name + "` has an empty or oversized value");
    out.emplace_back(item.get_string());
    return Ok{};
  };
  if (v->is_string()) {
    if (auto st = add(*v); !st) return st.error();
  } else if (v->is_array()) {
    if (v->get_array().size() > kMaxGroups)
      return identity_error("claim `" + name + "` has more than " + std::to_string(kMaxGroups) + " values");
    for (const auto& item : v->get_array())
      if (auto st = add(item); !st) return st.error();
  } else {
    return identity_error("claim `" + name + "` must be a string or an array of strings");
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::string> optional_string(const json::object& claims, const std::string& name) {
  if (name.empty()) return std::string();
  const json::value* v = claims.if_contains(name);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string() || v->get_string().size() > kMaxClaimBytes)
    return identity_error("claim `" + name + "` must be a string of at most " +
                          std::to_string(kMaxClaimBytes) + " bytes");
  return std::string(v->get_string());
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// RFC 8176 factor categories.
bool is_knowledge(std::string_view m) { return m == "pwd" || m == "pin" || m == "kba"; }
bool is_possession_or_inherence(std::string_view m) {
  for (std::string_view f : {"otp", "hwk", "swk", "sms", "tel", "sc", "fpt", "face", "iris",
                             "retina", "vbm", "fido"})
    if (m == f) return true;
  return false;
}

bool is_mfa(const std::vector<std::string>& amr, const std::vector<std::string>& mfa_amr) {
  bool knowledge = false, other = false;
  for (const auto& m : amr) {
    if (contains(mfa_amr, m)) return true;
    knowledge = knowledge || is_knowledge(m);
    other = other || is_possession_or_inherence(m);
  }
  return knowledge && other;
}

int64_t int_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() < (uint64_t{1} << 62)) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double() && v->get_double() > 0 && v->get_double() < 9.0e15)
    return static_cast<int64_t>(v->get_double());
  return 0;
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

}  // namespace

std::string EntityRef::to_cedar() const {
  std::string out = type + "::\"";
  for (char c : id) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

json::object EntityRef::to_json() const { return {{"type", type}, {"id", id}}; }

Result<Identity> map_claims(const JwtClaims& claims, const ClaimMapping& mapping,
                            const std::string& issuer_id) {
  const json::object& all = claims.all;
  Identity id;
  auto subject = optional_string(all, mapping.id_claim);
  if (!subject) return subject.error();
  if (subject->empty()) return identity_error("the token has no `" + mapping.id_claim + "` claim to name the user");
  id.principal = {mapping.user_type, *subject};
  id.group_type = mapping.group_type;

  auto groups = string_list(all, mapping.groups_claim);
  if (!groups) return groups.error();
  auto roles = string_list(all, mapping.roles_claim);
  if (!roles) return roles.error();
  id.groups = *groups;
  for (const auto& r : *roles) id.groups.push_back(mapping.role_prefix + r);
  std::sort(id.groups.begin(), id.groups.end());
  id.groups.erase(std::unique(id.groups.begin(), id.groups.end()), id.groups.end());
  if (id.groups.size() > kMaxGroups)
    return identity_error("more than " + std::to_string(kMaxGroups) + " groups and roles");

  for (const auto& [attr, claim] : {std::pair{"email", &mapping.email_claim}, {"tenant", &mapping.tenant_claim}}) {
    auto value = optional_string(all, *claim);
    if (!value) return value.error();
    if (!value->empty()) id.attrs[attr] = *value;
  }
  if (!roles->empty()) id.attrs["roles"] = string_array(*roles);

  for (const auto& claim : mapping.scope_claims) {
    if (const json::value* v = all.if_contains(claim)) {
      auto scopes = ScopeSet::from_claim(*v);
      if (!scopes) return scopes.error();
      id.scopes = id.scopes.unite(*scopes);
    }
  }
  for (const auto& g : id.groups) {
    auto it = mapping.group_scopes.find(g);
    if (it == mapping.group_scopes.end()) continue;
    auto scopes = ScopeSet::from_list(it->second);
    if (!scopes) return scopes.error();
    id.scopes = id.scopes.unite(*scopes);
  }
  if (id.scopes.size() > kMaxScopes) return identity_error("more than " + std::to_string(kMaxScopes) + " scopes");

  auto amr = string_list(all, "amr");
  if (!amr) return amr.error();
  id.authn.method = "jwt";
  id.authn.issuer = issuer_id;
  id.authn.amr = *amr;
  id.authn.mfa = is_mfa(*amr, mapping.mfa_amr);
  id.authn.auth_time = int_claim(all, "auth_time");
  if (id.authn.auth_time == 0) id.authn.auth_time = claims.iat;
  return id;
}

json::object principal_entity(const Identity& identity) {
  json::array parents;
  for (const auto& g : identity.groups) parents.push_back(EntityRef{identity.group_type, g}.to_json());
  return {{"uid", identity.principal.to_json()}, {"attrs", identity.attrs}, {"parents", std::move(parents)}};
}

json::array group_entities(const Identity& identity) {
  json::array out;
  for (const auto& g : identity.groups)
    out.push_back(json::object{{"uid", EntityRef{identity.group_type, g}.to_json()},
                               {"attrs", json::object{}},
                               {"parents", json::array{}}});
  return out;
}

json::object authn_context(const AuthnFacts& facts, int64_t now_s) {
  int64_t age = kUnknownAuthAge;
  if (facts.auth_time > 0) age = now_s > facts.auth_time ? now_s - facts.auth_time : 0;
  return {{"method", facts.method},
          {"issuer", facts.issuer},
          {"mfa", facts.mfa},
          {"age_s", age},
          {"amr", string_array(facts.amr)}};
}

}  // namespace ztgate::authn
