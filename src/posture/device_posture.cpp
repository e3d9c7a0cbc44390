#include "posture/device_posture.h"

#include "authn/jwt.h"

namespace ztgate::posture {
namespace {

constexpr size_t kMaxDeviceIdBytes = 256;
constexpr size_t kMaxOsBytes = 128;
constexpr int64_t kMaxPatchAgeDays = 36500;

Error invalid(std::string message) { return make_error("posture_invalid", std::move(message)); }

Result<bool> bool_claim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (!v || !v->is_bool())
    return invalid("posture claim \"" + std::string(name) + "\" must be a boolean");
  return v->get_bool();
}

Result<std::optional<std::string>> optional_text(const boost::json::object& claims,
                                                 std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (!v) return std::optional<std::string>();
  if (!v->is_string() || v->get_string().size() > kMaxOsBytes)
    return invalid("posture claim \"" + std::string(name) + "\" must be a string of at most " +
                   std::to_string(kMaxOsBytes) + " bytes");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<int64_t> patch_age(const boost::json::object& claims) {
  const auto* v = claims.if_contains("os_patch_age_days");
  int64_t days = -1;
  if (v && v->is_int64()) days = v->get_int64();
  else if (v && v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(kMaxPatchAgeDays))
    days = static_cast<int64_t>(v->get_uint64());
  if (days < 0 || days > kMaxPatchAgeDays)
    return invalid("posture claim \"os_patch_age_days\" must be an integer in [0, 36500]");
  return days;
}

// jwt_* failures that mean "too old" rather than "not genuine".
bool is_staleness(const Error& e) { return e.code == "jwt_expired" || e.code == "jwt_too_old"; }

Status check_binding(const authn::JwtClaims& c, std::string_view user_subject,
                     std::optional<std::string_view> known_device_id) {
  if (c.sub.empty() || c.sub.size() > kMaxDeviceIdBytes)
    return invalid("posture \"sub\" (the device id) must be 1 to 256 bytes");
  const auto* uid = c.all.if_contains("uid");
  if (!uid || !uid->is_string())
    return invalid("posture assertion has no \"uid\" binding it to a user");
  if (user_subject.empty() || uid->get_string() != user_subject)
    return make_error("posture_user_mismatch",
                      "posture assertion was issued for another user than the authenticated one");
  if (known_device_id && *known_device_id != c.sub)
    return make_error("posture_device_mismatch", "posture assertion is for device \"" + c.sub +
                                                     "\", not the device \"" +
                                                     std::string(*known_device_id) +
                                                     "\" the request comes from");
  return Ok{};
}

}  // namespace

Result<DevicePosture> verify_device_posture(std::string_view assertion,
                                            const std::vector<authn::Jwk>& issuer_keys,
                                            const DevicePosturePolicy& policy,
                                            std::string_view user_subject,
                                            std::optional<std::string_view> known_device_id,
                                            int64_t now_s) {
  if (policy.issuer.empty()) return invalid("no posture issuer is configured");
  authn::JwsPolicy jws;
  jws.allowed_algs = policy.allowed_algs;
  jws.required_typ = policy.required_typ;
  authn::JwtPolicy jwt;
  jwt.issuers = {policy.issuer};
  jwt.audience = policy.audience;
  jwt.clock_skew_s = policy.clock_skew_s;
  jwt.require_exp = policy.require_exp;
  jwt.max_age_s = 0;  // checked below, to tell a missing iat from a stale one
  auto claims = authn::verify_jwt(assertion, issuer_keys, jws, jwt, now_s);
  if (!claims) {
    const Error& e = claims.error();
    if (is_staleness(e)) return make_error("posture_stale", "posture assertion expired: " + e.message);
    return invalid("posture assertion rejected: " + e.code + ": " + e.message);
  }
  if (claims->iat <= 0) return invalid("posture assertion has no \"iat\"");
  int64_t age = now_s - claims->iat;
  if (age > policy.max_age_s + policy.clock_skew_s)
    return make_error("posture_stale", "posture assertion is " + std::to_string(age) +
                                           " s old; at most " + std::to_string(policy.max_age_s) +
                                           " s is accepted");
  if (auto st = check_binding(*claims, user_subject, known_device_id); !st) return st.error();

  DevicePosture p;
  p.device_id = claims->sub;
  p.user = std::string(user_subject);
  p.issuer = claims->iss;
  p.issued_at = claims->iat;
  p.age_s = age < 0 ? 0 : age;
  const auto& all = claims->all;
  auto managed = bool_claim(all, "managed");
  if (!managed) return managed.error();
  auto disk = bool_claim(all, "disk_encrypted");
  if (!disk) return disk.error();
  auto edr = bool_claim(all, "edr_running");
  if (!edr) return edr.error();
  auto patch = patch_age(all);
  if (!patch) return patch.error();
  auto os = optional_text(all, "os");
  if (!os) return os.error();
  auto platform = optional_text(all, "platform");
  if (!platform) return platform.error();
  p.managed = *managed;
  p.disk_encrypted = *disk;
  p.edr_running = *edr;
  p.os_patch_age_days = *patch;
  p.os = std::move(*os);
  p.platform = std::move(*platform);
  return p;
}

boost::json::object device_context(const DevicePosture* posture) {
  if (!posture) return boost::json::object{{"present", false}};
  // Exactly the attributes of the schema's closed `Device` record
  // (policies/ztgate.cedarschema); os and platform stay out of it.
  return boost::json::object{{"present", true},
                             {"device_id", posture->device_id},
                             {"managed", posture->managed},
                             {"disk_encrypted", posture->disk_encrypted},
                             {"edr_running", posture->edr_running},
                             {"os_patch_age_days", posture->os_patch_age_days},
                             {"age_s", posture->age_s}};
}

}  // namespace ztgate::posture
