// IP addresses as the egress guard handles them: one value type for IPv4 and
// IPv6, the two ways to read one from text, and CIDR ranges.
//
// Two parsers, on purpose:
//   parse_ip_strict    what configuration and the resolver hand us: IPv4 as
//                      four decimal parts ("10.0.0.1", no leading zeros) or
//                      IPv6 in RFC 4291 text (inet_pton; no zone id).
//   parse_ipv4_legacy  what a URL host may say and a client library may
//                      send anyway: the WHATWG URL IPv4 parser, which is
//                      inet_aton's grammar (1 to 4 parts; each decimal,
//                      0-prefixed octal or 0x-prefixed hex; the last part
//                      fills the remaining bytes: "127.1", "2130706433",
//                      "0x7f.1", "0177.0.0.1") without inet_aton's quirks
//                      (glibc's stops at whitespace and ignores the rest).
//                      A host that looks like a number is read with it, so
//                      "0x7f000001" is 127.0.0.1 and never a DNS name.
//
// Pure, no I/O, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::egress {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4, kV6 };

  IpAddress() = default;
  static IpAddress v4(uint32_t host_order);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  uint32_t v4_value() const;  // host order; IPv4 only
  // 4 bytes (IPv4) or 16 (IPv6), network order.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  size_t size() const { return is_v4() ? 4 : 16; }

  // The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands
  // for; nullopt for anything else. Mapped addresses are the same host as
  // the IPv4 one, so canonical forms use the IPv4 address.
  std::optional<IpAddress> unmapped_v4() const;

  // "10.0.0.1"; IPv6 in RFC 5952 form ("2001:db8::1", "::ffff:1.2.3.4").
  std::string to_string() const;

  bool operator==(const IpAddress&) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// Strict text (see the header comment). nullopt when it is not one.
std::optional<IpAddress> parse_ip_strict(std::string_view text);
// IPv6 only (RFC 4291 text, no brackets, no zone id).
std::optional<IpAddress> parse_ipv6(std::string_view text);

// Whether a host's last label makes it an IPv4 address attempt (WHATWG URL
// "ends in a number"): all ASCII digits, or 0x / 0X followed by hex digits.
// `host` has no trailing dot.
bool ends_in_number(std::string_view host);

// The legacy IPv4 forms (see the header comment). Error code ip_invalid
// when a part is not a number, there are more than 4 parts, or a value is
// out of range ("256.0.0.1", "1.2.3.4294967296"). `text` has no trailing dot.
Result<IpAddress> parse_ipv4_legacy(std::string_view text);

// An address range. A bare address is a /32 or /128.
struct Cidr {
  IpAddress base;  // host bits zero
  int prefix = 0;  // 0..32 or 0..128
  bool contains(const IpAddress& a) const;
  std::string to_string() const;
};
// "10.0.0.0/8", "fd00::/8", "127.0.0.1". Error code cidr_invalid, also when
// host bits are set ("10.0.0.1/8": say what you mean).
Result<Cidr> parse_cidr(std::string_view text);

}  // namespace ztgate::egress
