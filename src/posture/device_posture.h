// Device posture: a signed assertion from the MDM/EDR issuer about the device
// a request comes from, bound to that device and to the user.
//
// The assertion is a JWT verified with authn::verify_jwt against the
// issuer's keys (alg, kid, signature, iss, aud, exp, nbf, iat). Then:
//   - "iat" is required; posture older than max_age_s (+ skew) is stale;
//   - "sub" is the device id (1..256 bytes); when the caller knows the device
//     from another channel (e.g. its mTLS certificate), it must equal "sub";
//   - "uid" must equal the authenticated user's subject;
//   - "managed", "disk_encrypted", "edr_running" are booleans and
//     "os_patch_age_days" an integer in [0, 36500], all required; "os" and
//     "platform" are optional strings (at most 128 bytes).
//
// Missing posture is a fact, not an error: device_context(nullptr) is
// {"present": false}, and policy decides what a device-less request may do.
// A presented assertion that fails any check is an error value; the gateway
// must refuse the request rather than treat it as missing (otherwise a
// forged assertion would be no worse than none, and a stale one would be
// silently downgraded). Error codes (stable):
//   posture_invalid          signature, issuer, audience, typ, alg, time
//                            window or claim shape; the message carries the
//                            underlying jws_* / jwt_* code
//   posture_stale            older than max_age_s, or expired
//   posture_user_mismatch    "uid" is not the authenticated user
//   posture_device_mismatch  "sub" is not the device known from elsewhere
// Bounds: the assertion at most 16 KiB (authn::kMaxJwsBytes); the other
// bounds are stated with the claims above. Pure and thread-safe for shared
// const keys.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authn/jwk.h"
#include "common/result.h"

namespace ztgate::posture {

struct DevicePosturePolicy {
  std::string issuer;        // the MDM/EDR issuer's "iss"; must not be empty
  std::string audience;      // when non-empty, must appear in "aud"
  int64_t max_age_s = 3600;  // posture older than this is stale
  int64_t clock_skew_s = 60;
  bool require_exp = true;
  std::string required_typ;  // when non-empty, the JWS "typ" must match
  std::vector<std::string> allowed_algs = {"ES256", "ES384", "EdDSA", "RS256", "PS256"};
};

struct DevicePosture {
  std::string device_id;  // "sub"
  std::string user;       // "uid"
  std::string issuer;
  bool managed = false;
  bool disk_encrypted = false;
  bool edr_running = false;
  int64_t os_patch_age_days = 0;
  std::optional<std::string> os, platform;
  int64_t issued_at = 0;  // "iat", seconds since the epoch
  int64_t age_s = 0;      // now - iat at verification (0 if iat is ahead within skew)
};

// Verifies `assertion` for `user_subject`. `known_device_id`, when set, must
// equal "sub". `issuer_keys` are the issuer's public keys.
Result<DevicePosture> verify_device_posture(std::string_view assertion,
                                            const std::vector<authn::Jwk>& issuer_keys,
                                            const DevicePosturePolicy& policy,
                                            std::string_view user_subject,
                                            std::optional<std::string_view> known_device_id,
                                            int64_t now_s);

// The Cedar `context.device` record: {present: true, device_id, managed,
// disk_encrypted, edr_running, os_patch_age_days, age_s} (the schema's
// `Device` type), or {present: false} for nullptr (no assertion presented).
boost::json::object device_context(const DevicePosture* posture);

}  // namespace ztgate::posture
