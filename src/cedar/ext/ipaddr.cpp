// Cedar `ipaddr` extension. Accepts exactly what the Rust reference accepts:
// std::net's IPv4/IPv6 text forms plus an optional "/prefix", minus IPv4
// embedded in IPv6 ("::ffff:1.2.3.4"), which Cedar rejects to avoid confusion.
#include "cedar/ext/ipaddr.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <vector>

namespace ztgate::cedar {
namespace {

constexpr uint8_t kV4Bits = 32;
constexpr uint8_t kV6Bits = 128;
// "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/128": nothing valid is longer.
constexpr size_t kMaxTextLen = 43;

Error ip_error(std::string_view text, std::string_view why) {
  return make_error("extension_error",
                    "invalid IP address `" + std::string(text) + "`: " + std::string(why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// A decimal number of at most `max_len` digits, no sign, no leading zero
// (except "0" itself), at most `max`. Used for IPv4 octets and prefixes.
std::optional<unsigned> parse_small_decimal(std::string_view s, size_t max_len, unsigned max) {
  if (s.empty() || s.size() > max_len) return std::nullopt;
  if (s[0] == '0' && s.size() > 1) return std::nullopt;
  unsigned n = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n > max) return std::nullopt;
  return n;
}

std::optional<std::array<uint8_t, 4>> parse_v4(std::string_view s) {
  auto parts = split(s, '.');
  if (parts.size() != 4) return std::nullopt;
  std::array<uint8_t, 4> out{};
  for (size_t i = 0; i < 4; ++i) {
    auto octet = parse_small_decimal(parts[i], 3, 255);
    if (!octet) return std::nullopt;
    out[i] = static_cast<uint8_t>(*octet);
  }
  return out;
}

// Colon-separated groups of 1 to 4 hex digits; "" is zero groups.
std::optional<std::vector<uint16_t>> parse_v6_groups(std::string_view s) {
  std::vector<uint16_t> groups;
  if (s.empty()) return groups;
  for (std::string_view g : split(s, ':')) {
    if (g.empty() || g.size() > 4) return std::nullopt;
    unsigned v = 0;
    for (char c : g) {
      int h = hex_value(c);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(h);
    }
    groups.push_back(static_cast<uint16_t>(v));
  }
  return groups;
}

// Eight groups, or fewer with exactly one "::" standing for at least one zero group.
std::optional<std::array<uint8_t, 16>> parse_v6(std::string_view s) {
  std::vector<uint16_t> groups;
  size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    auto all = parse_v6_groups(s);
    if (!all || all->size() != 8) return std::nullopt;
    groups = std::move(*all);
  } else {
    std::string_view rest = s.substr(gap + 2);
    if (rest.find("::") != std::string_view::npos) return std::nullopt;
    auto head = parse_v6_groups(s.substr(0, gap));
    auto tail = parse_v6_groups(rest);
    if (!head || !tail || head->size() + tail->size() > 7) return std::nullopt;
    groups = std::move(*head);
    groups.resize(8 - tail->size(), 0);
    groups.insert(groups.end(), tail->begin(), tail->end());
  }
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
  }
  return out;
}

size_t count_of(std::string_view s, char c) {
  size_t n = 0;
  for (char x : s) n += (x == c) ? 1 : 0;
  return n;
}

uint8_t width(const IpAddr& ip) { return ip.is_v6 ? kV6Bits : kV4Bits; }

// Bit `i` (0 = most significant) of the address.
bool bit(const IpAddr& ip, unsigned i) { return (ip.bytes[i / 8] >> (7 - i % 8)) & 1; }

// Compares the lowest (network) or highest (broadcast) address of two
// same-family ranges: <0, 0, >0.
int compare_bound(const IpAddr& a, const IpAddr& b, bool high) {
  for (unsigned i = 0; i < width(a); ++i) {
    bool x = i < a.prefix_len ? bit(a, i) : high;
    bool y = i < b.prefix_len ? bit(b, i) : high;
    if (x != y) return x ? 1 : -1;
  }
  return 0;
}

std::string v6_to_string(const IpAddr& ip) {
  uint16_t g[8];
  for (int i = 0; i < 8; ++i)
    g[i] = static_cast<uint16_t>((ip.bytes[2 * i] << 8) | ip.bytes[2 * i + 1]);
  // RFC 5952: the first longest run of two or more zero groups becomes "::".
  int best_start = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  auto group = [&](uint16_t v) {
    std::string s;
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned d = (v >> shift) & 0xf;
      if (d != 0 || started || shift == 0) {
        s += kHex[d];
        started = true;
      }
    }
    return s;
  };
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += group(g[i]);
  }
  return out;
}

}  // namespace

Result<IpAddr> parse_ipaddr(std::string_view text) {
  if (text.size() > kMaxTextLen) return ip_error(text, "string is too long");
  // Any IPv4-in-IPv6 form has at least two colons and three dots; the
  // reference rejects anything with two or more of each.
  if (count_of(text, ':') >= 2 && count_of(text, '.') >= 2)
    return ip_error(text, "IPv4 embedded in IPv6 is not supported; write it in hexadecimal");

  std::string_view addr = text;
  std::optional<std::string_view> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
  }

  IpAddr ip;
  if (auto v4 = parse_v4(addr)) {
    std::copy(v4->begin(), v4->end(), ip.bytes.begin());
    ip.is_v6 = false;
  } else if (auto v6 = parse_v6(addr)) {
    ip.bytes = *v6;
    ip.is_v6 = true;
  } else {
    return ip_error(text, "not an IPv4 or IPv6 address");
  }

  ip.prefix_len = width(ip);
  if (prefix) {
    auto len = parse_small_decimal(*prefix, ip.is_v6 ? 3 : 2, width(ip));
    if (!len)
      return ip_error(text, ip.is_v6 ? "prefix must be 0 to 128 without leading zeros"
                                     : "prefix must be 0 to 32 without leading zeros");
    ip.prefix_len = static_cast<uint8_t>(*len);
  }
  return ip;
}

std::string to_string(const IpAddr& ip) {
  std::string out;
  if (ip.is_v6) {
    out = v6_to_string(ip);
  } else {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out += '.';
      out += std::to_string(ip.bytes[i]);
    }
  }
  return out + "/" + std::to_string(ip.prefix_len);
}

bool ip_is_ipv4(const IpAddr& ip) { return !ip.is_v6; }
bool ip_is_ipv6(const IpAddr& ip) { return ip.is_v6; }

// Loopback is 127.0.0.0/8 and ::1/128; a range counts only if it lies
// entirely inside (so 127.0.0.1/7 and ::1/127 are not loopback).
bool ip_is_loopback(const IpAddr& ip) {
  IpAddr net;
  net.is_v6 = ip.is_v6;
  if (ip.is_v6) {
    net.bytes[15] = 1;
    net.prefix_len = kV6Bits;
  } else {
    net.bytes[0] = 127;
    net.prefix_len = 8;
  }
  return ip_is_in_range(ip, net);
}

// Multicast is 224.0.0.0/4 and ff00::/8, with the same containment rule.
bool ip_is_multicast(const IpAddr& ip) {
  IpAddr net;
  net.is_v6 = ip.is_v6;
  if (ip.is_v6) {
    net.bytes[0] = 0xff;
    net.prefix_len = 8;
  } else {
    net.bytes[0] = 224;
    net.prefix_len = 4;
  }
  return ip_is_in_range(ip, net);
}

// IPv4 and IPv6 ranges never contain each other.
bool ip_is_in_range(const IpAddr& ip, const IpAddr& range) {
  if (ip.is_v6 != range.is_v6) return false;
  return compare_bound(range, ip, /*high=*/false) <= 0 &&
         compare_bound(ip, range, /*high=*/true) <= 0;
}

}  // namespace ztgate::cedar
