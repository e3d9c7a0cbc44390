// Fuzz target: JWK / JWKS parsing and compact JWS verification (src/authn).
//
// Properties checked, for any input:
//   1. parse_jwk, parse_jwks and verify_jws return a value or an error; they
//      never crash, hang, leak or hit undefined behavior.
//   2. No input verifies against keys the fuzzer does not hold the private
//      half of: a success of verify_jws on fuzzer-made text would be a forged
//      signature (or an accepted `none` / HMAC token), so it aborts.
//
// Input: either a JWK/JWKS JSON text, or a compact JWS (seeds in
// fuzz/corpus/fuzz_jose/). Both interpretations run on every input.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "authn/base64url.h"
#include "authn/jwk.h"
#include "authn/jws.h"
#include "property.h"

namespace {

using namespace ztgate::authn;
using ztgate::fuzz::require;

std::string ed25519_public_jwk(EVP_PKEY* pkey, const std::string& kid) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len);
  return R"({"kty":"OKP","crv":"Ed25519","kid":")" + kid + R"(","x":")" + base64url_encode(raw) +
         R"("})";
}

// Fresh keys whose private halves are dropped at once: nothing the fuzzer
// writes can carry a valid signature for them.
const std::vector<Jwk>& verification_keys() {
  static const std::vector<Jwk> keys = [] {
    std::vector<Jwk> out;
    for (const char* kid : {"k1", "k2"}) {
      EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      auto jwk = parse_jwk(ed25519_public_jwk(pkey, kid));
      EVP_PKEY_free(pkey);
      if (jwk) out.push_back(std::move(*jwk));
    }
    return out;
  }();
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto jwk = parse_jwk(input);
  auto jwks = parse_jwks(input);
  // Keys parsed from the input are the fuzzer's own: tokens may verify
  // against them only if the fuzzer also made the signature, which it
  // cannot do for the fixed keys below.
  (void)jwk;
  (void)jwks;
  JwsPolicy policy;
  auto verified = verify_jws(input, verification_keys(), policy);
  require(!verified.ok(), "fuzzer-made text never verifies against keys it does not hold",
          std::string(input));
  return 0;
}
