// Fuzz target: the model manifest parser and signed-manifest verification
// (src/posture/model_manifest.h).
//
// Properties checked, for any input:
//   1. parse_manifest and verify_manifest_signature return a value or an
//      error; they never crash, hang, leak or hit undefined behavior.
//   2. A manifest that parses re-serializes canonically: serializing it and
//      parsing the result gives the same value, and serializing that again
//      gives the same bytes.
//   3. Every accepted path passes check_manifest_path (no "..", no absolute
//      path), and files are strictly sorted.
//   4. No fuzzer-made text verifies as a signed manifest against a key whose
//      private half the fuzzer does not hold.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "authn/base64url.h"
#include "posture/model_manifest.h"
#include "property.h"

namespace {

using namespace ztgate::posture;
using ztgate::fuzz::require;

const ztgate::authn::Jwk& publisher() {
  static const ztgate::authn::Jwk key = [] {
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    std::string raw(32, '\0');
    size_t len = raw.size();
    EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len);
    EVP_PKEY_free(pkey);  // the private half is gone: nothing can be signed for it
    auto jwk = parse_publisher_key(R"({"kty":"OKP","crv":"Ed25519","kid":"p","x":")" +
                                   ztgate::authn::base64url_encode(raw) + R"("})");
    require(jwk.ok(), "the fuzz publisher key parses");
    return std::move(*jwk);
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_manifest(input);
  if (parsed) {
    std::string canonical = serialize_manifest(*parsed);
    auto again = parse_manifest(canonical);
    require(again.ok(), "a canonical manifest parses", canonical);
    require(*again == *parsed, "the canonical form parses to the same manifest", canonical);
    require(serialize_manifest(*again) == canonical, "serialization is a fixed point", canonical);
    for (size_t i = 0; i < parsed->files.size(); ++i) {
      require(check_manifest_path(parsed->files[i].path).ok(), "accepted paths are safe",
              parsed->files[i].path);
      if (i > 0)
        require(parsed->files[i - 1].path < parsed->files[i].path, "files are strictly sorted");
    }
  }
  auto verified = verify_manifest_signature(input, publisher());
  require(!verified.ok(), "fuzzer-made text never verifies against a key it does not hold",
          std::string(input));
  return 0;
}
