// Cache-Control (RFC 9111 §5.2) as far as a key cache needs it: how long a
// response may be reused. Pure, no I/O; safe on untrusted header text.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ztgate::net {

struct CacheDirectives {
  // Seconds from max-age (token or quoted form); nullopt when absent or
  // malformed. Several max-age directives: the smallest wins (fail toward
  // fresher keys). Values are capped at kMaxAgeCap.
  std::optional<int64_t> max_age;
  bool no_store = false;  // no-store or no-cache: do not reuse without revalidating
};

inline constexpr int64_t kMaxAgeCap = 10LL * 365 * 24 * 3600;
inline constexpr size_t kMaxCacheControlBytes = 8 * 1024;  // longer text: ignored

// Never fails: text it cannot understand yields no directives.
CacheDirectives parse_cache_control(std::string_view header_value);

}  // namespace ztgate::net
