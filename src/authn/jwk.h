// JSON Web Keys (RFC 7517, key types from RFC 7518 §6 and RFC 8037) for
// signature verification. Public keys only: a key carrying private members
// ("d", "p", "q", ...) is refused, so a leaked private JWK in a JWKS is noticed.
//
// Supported: RSA (modulus >= 2048 bits), EC P-256 and P-384 (point checked on
// the curve), OKP Ed25519. Errors carry code "jwk_invalid" or
// "jwk_unsupported"; a member name repeated in any object of the document is
// "jwk_invalid".
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::authn {


struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// The curve (EC) or subtype (OKP) of a key, so algorithm checks need no
// OpenSSL queries.
enum class KeyCurve { kNone, kP256, kP384, kEd25519 };

// A verified-shape public key. Immutable after parsing; safe to share across
// threads for verification (EVP_PKEY is read-only in EVP_DigestVerify).
struct Jwk {
  std::string kid;  // "" when absent
  std::string kty;  // "RSA", "EC" or "OKP"
  std::string alg;  // "" when absent; otherwise the only algorithm allowed
  std::string use;  // "" when absent
  KeyCurve curve = KeyCurve::kNone;
  EvpPkeyPtr key;
};

// Parses one JWK object. Unsupported kty/crv → "jwk_unsupported"; malformed
// or private → "jwk_invalid".
Result<Jwk> parse_jwk(std::string_view json);

// Parses a JWK Set {"keys":[...]}. Keys of unsupported type, curve, or with
// use "enc" are skipped silently; a malformed supported key fails the whole set
// (a half-loaded set would hide a publishing mistake).
Result<std::vector<Jwk>> parse_jwks(std::string_view json);

// RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key
// given as its base64url "x": the kid ztgate gives its own keys.
std::string ed25519_thumbprint(std::string_view x_b64url);

}  // namespace ztgate::authn
