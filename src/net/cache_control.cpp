#include "net/cache_control.h"

#include <algorithm>

namespace ztgate::net {
namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// delta-seconds (RFC 9111 §1.2.2): digits only; larger values saturate.
std::optional<int64_t> delta_seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min<int64_t>(n * 10 + (c - '0'), kMaxAgeCap);
  }
  return n;
}

}  // namespace

CacheDirectives parse_cache_control(std::string_view header_value) {
  CacheDirectives out;
  if (header_value.size() > kMaxCacheControlBytes) return out;
  // Quoted strings in other directives may contain commas; a comma split can
  // only make us miss a directive, never invent a longer max-age, so the
  // simple split is safe (and linear).
  while (!header_value.empty()) {
    size_t comma = header_value.find(',');
    std::string_view item = trim(header_value.substr(0, comma));
    header_value =
        comma == std::string_view::npos ? std::string_view{} : header_value.substr(comma + 1);
    size_t eq = item.find('=');
    std::string_view name = trim(item.substr(0, eq));
    if (ieq(name, "no-store") || ieq(name, "no-cache")) {
      out.no_store = true;
    } else if (ieq(name, "max-age") && eq != std::string_view::npos) {
      if (auto v = delta_seconds(trim(item.substr(eq + 1))))
        out.max_age = out.max_age ? std::min(*out.max_age, *v) : *v;
    }
  }
  return out;
}

}  // namespace ztgate::net
