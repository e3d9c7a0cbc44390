// JWS compact serialization verification (RFC 7515 §7.1, algorithms RFC 7518
// §3 and RFC 8037). Verification only, with public keys only.
//
// Guarantees, each with a stable error code:
//   jws_malformed         not three strict base64url segments, header not a
//                         JSON object with a string "alg", a header parameter
//                         name repeated (RFC 7515 §4), token > 16 KiB
//   jws_alg_none          "alg":"none" in any letter case
//   jws_alg_not_allowed   HS* (always: we hold no shared secrets, so an HMAC
//                         token is an algorithm-confusion attempt) or any alg
//                         outside JwsPolicy::allowed_algs
//   jws_alg_key_mismatch  no candidate key fits the alg (RS/PS need RSA,
//                         ES256 P-256, ES384 P-384, EdDSA Ed25519; a JWK's own
//                         "alg" must equal the header's)
//   jws_unknown_kid       header kid matches no key: the caller may refresh
//                         its JWKS and retry
//   jws_crit_unsupported  "crit" malformed or naming a parameter we do not
//                         understand (RFC 7515 §4.1.11)
//   jws_typ_mismatch      JwsPolicy::required_typ set and "typ" differs
//   jws_bad_signature     no candidate key verifies the signature, or the
//                         signature has the wrong length for the alg
// verify_jws is pure and thread-safe for shared const keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "authn/jwk.h"
#include "common/result.h"

namespace ztgate::authn {

struct JwsPolicy {
  std::vector<std::string> allowed_algs = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                           "PS512", "ES256", "ES384", "EdDSA"};
  // When non-empty, the header "typ" must equal this, ignoring ASCII case
  // (RFC 7515 §4.1.9); "application/" prefixes are not stripped.
  std::string required_typ;
  // Header parameters this caller processes and may therefore appear in "crit".
  std::vector<std::string> understood_crit;
  // Largest compact serialization accepted. Bearer tokens: 16 KiB; signed
  // documents (model manifests) set their own bound.
  size_t max_bytes = 16 * 1024;
};

struct JwsHeader {
  std::string alg;
  std::string kid;                // "" when absent
  std::string typ;                // "" when absent
  std::vector<std::string> crit;  // empty when absent
};

struct VerifiedJws {
  JwsHeader header;
  std::string payload;  // decoded payload bytes, not interpreted
  std::string kid;      // kid of the key that verified ("" if that key had none)
};

inline constexpr size_t kMaxJwsBytes = 16 * 1024;

Result<VerifiedJws> verify_jws(std::string_view compact, const std::vector<Jwk>& keys,
                               const JwsPolicy& policy = {});

}  // namespace ztgate::authn
