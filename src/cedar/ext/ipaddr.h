// Cedar extension type `ipaddr`: an IPv4 or IPv6 address with a prefix length
// (a single address is a /32 or /128 range).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "cedar/result.h"

namespace ztgate::cedar {

struct IpAddr {
  bool is_v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses bytes[0..3], the rest stay zero
  uint8_t prefix_len = 32;          // 0..32 for IPv4, 0..128 for IPv6

  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

// Parses Cedar's textual form, e.g. "10.0.0.1", "10.0.0.0/8", "::1", "fe80::/10".
Result<IpAddr> parse_ipaddr(std::string_view text);
std::string to_string(const IpAddr& ip);

bool ip_is_ipv4(const IpAddr& ip);
bool ip_is_ipv6(const IpAddr& ip);
bool ip_is_loopback(const IpAddr& ip);
bool ip_is_multicast(const IpAddr& ip);
// True when the range of `ip` is contained in the range of `range`.
bool ip_is_in_range(const IpAddr& ip, const IpAddr& range);

}  // namespace ztgate::cedar
