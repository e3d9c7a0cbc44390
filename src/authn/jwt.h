// JWT claim validation (RFC 7519 §4.1, §7.2) on top of JWS verification.
//
// validate_jwt_claims checks the registered claims of an already verified
// payload; verify_jwt does both. Error codes (stable):
//   jwt_malformed          payload is not a JSON object, a member name repeats
//                          in any object of it, or a registered claim has the
//                          wrong JSON type
//   jwt_issuer_not_allowed "iss" missing or not one of JwtPolicy::issuers
//   jwt_audience_mismatch  JwtPolicy::audience not in "aud" (string or array)
//   jwt_expired            now >= exp + skew (or exp missing when required)
//   jwt_not_yet_valid      now + skew < nbf
//   jwt_issued_in_future   now + skew < iat
//   jwt_too_old            max_age set and now - iat > max_age + skew (or no iat)
// Times are whole seconds since the epoch; fractional NumericDates are floored.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "authn/jws.h"

namespace ztgate::authn {

struct JwtPolicy {
  std::vector<std::string> issuers;  // accepted "iss" values; must not be empty
  std::string audience;              // must appear in "aud"; empty: "aud" not checked
  int64_t clock_skew_s = 60;
  int64_t max_age_s = 0;             // > 0: "iat" required and at most this old
  bool require_exp = true;
};

struct JwtClaims {
  std::string iss, sub, jti;
  std::vector<std::string> aud;
  int64_t exp = 0, nbf = 0, iat = 0;  // 0 when absent
  boost::json::object all;            // every claim, for mapping to principals
};

Result<JwtClaims> validate_jwt_claims(std::string_view payload_json, const JwtPolicy& policy,
                                      int64_t now_s);

Result<JwtClaims> verify_jwt(std::string_view compact, const std::vector<Jwk>& keys,
                             const JwsPolicy& jws_policy, const JwtPolicy& jwt_policy,
                             int64_t now_s);

}  // namespace ztgate::authn
