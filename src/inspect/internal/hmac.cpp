// HMAC-SHA256 through OpenSSL's one-shot HMAC().
#include "inspect/internal/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace ztgate::inspect::internal {

bool hmac_sha256(std::string_view key, std::string_view data, std::array<unsigned char, 32>& out) {
  unsigned int length = 0;
  // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer.
  static const char kEmpty = 0;
  const void* key_ptr = key.empty() ? &kEmpty : key.data();
  return HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
              &length) != nullptr &&
         length == out.size();
}

std::string hex_prefix(const std::array<unsigned char, 32>& digest, size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < std::min(bytes, digest.size()); ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

}  // namespace ztgate::inspect::internal
