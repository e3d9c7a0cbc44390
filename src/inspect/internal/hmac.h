// HMAC-SHA256 (OpenSSL) for the DLP layer: canary tokens, hash redaction and
// pseudonym ids.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace ztgate::inspect::internal {

// False only when OpenSSL fails (out of memory): callers fail closed.
bool hmac_sha256(std::string_view key, std::string_view data, std::array<unsigned char, 32>& out);
// Lowercase hex of the first `bytes` bytes of `digest`.
std::string hex_prefix(const std::array<unsigned char, 32>& digest, size_t bytes);

}  // namespace ztgate::inspect::internal
