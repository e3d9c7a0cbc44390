// ztgate's own Ed25519 signing key, for the delegation tokens it mints.
//
// The private key lives in a PKCS#8 PEM file (mode 0600), generated on first
// use; its public half is published as a JWKS so that anyone (npm jose, a
// downstream service) can verify ztgate's tokens. The key id is the RFC 7638
// JWK thumbprint. Error code: signing_key_error.
#pragma once

#include <string>
#include <string_view>

#include "authn/jwk.h"

namespace ztgate::authn {

class SigningKey {
 public:
  // Loads the key at `path`, or generates and writes one when the file does
  // not exist. Refuses a file readable by group or others, and a key that is
  // not Ed25519.
  static Result<SigningKey> load_or_create(const std::string& path);
  static Result<SigningKey> load(const std::string& path);
  static Result<SigningKey> generate();

  const std::string& kid() const { return kid_; }
  // {"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"}
  std::string public_jwk_json() const;
  // The public key parsed as a verification key.
  Result<Jwk> public_jwk() const;
  // A compact JWS (alg EdDSA, this kid, the given typ) over `payload_json`.
  Result<std::string> sign_compact(std::string_view typ, std::string_view payload_json) const;
  // The raw Ed25519 signature (64 bytes) over `bytes`.
  Result<std::string> sign(std::string_view bytes) const;
  Status write_pem(const std::string& path) const;

 private:
  EvpPkeyPtr key_;
  std::string x_;  // base64url public key
  std::string kid_;
  static Result<SigningKey> from_pkey(EvpPkeyPtr key);
};

}  // namespace ztgate::authn
