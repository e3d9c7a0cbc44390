// SHA-256 digests and their hex form, as the trail uses them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ztgate::audit {

using Digest = std::array<uint8_t, 32>;

Digest sha256(std::string_view bytes);
std::string to_hex(const Digest& d);
std::string to_hex(std::string_view bytes);
// 64 lowercase or uppercase hex digits; nullopt otherwise.
std::optional<Digest> digest_from_hex(std::string_view hex);
// Any even-length hex string; nullopt on a bad digit.
std::optional<std::string> bytes_from_hex(std::string_view hex);

}  // namespace ztgate::audit
