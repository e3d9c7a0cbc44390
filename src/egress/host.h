// A destination host in one canonical form, whatever way a client spelt it.
//
// canonical_host() reads a host as it appears in a URL authority or a
// CONNECT target and returns one of:
//   a name       lowercase ASCII LDH labels (letters, digits, '-', 1-63
//                bytes, not starting or ending with '-'), at most 253
//                bytes, trailing dots removed ("Example.COM." ->
//                "example.com"). Internationalized names are accepted in
//                their punycode form only ("xn--..."): non-ASCII bytes are
//                refused, not converted.
//   an IPv4      any spelling the legacy parser reads (ip_address.h) when
//                the last label is a number: "2130706433", "0x7f.1",
//                "0177.0.0.1", "127.1" are all "127.0.0.1". A host ending
//                in a number that is not an address ("1.2.3.256",
//                "1.2.3.4.5", "08.1") is refused, never looked up in DNS.
//   an IPv6      bracketed or bare RFC 4291 text; a zone id ("%25eth0" or
//                "%eth0") is dropped; an IPv4-mapped address
//                (::ffff:127.0.0.1, ::ffff:7f00:1) is its IPv4 address.
// Percent-encoding is decoded once first ("%31%32%37.0.0.1" is 127.0.0.1);
// a '%' left after decoding (double encoding) is refused.
//
// Errors: destination_invalid with a message saying what is wrong.
// Bounds: kMaxRawHostBytes of input. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "egress/ip_address.h"

namespace ztgate::egress {

inline constexpr size_t kMaxRawHostBytes = 1024;
inline constexpr size_t kMaxHostNameBytes = 253;

struct Host {
  enum class Kind : uint8_t { kName, kIpv4, kIpv6 };
  Kind kind = Kind::kName;
  std::string text;                  // "api.example.com", "127.0.0.1", "2001:db8::1"
  std::optional<IpAddress> address;  // set for IPv4 and IPv6 literals

  bool is_literal() const { return kind != Kind::kName; }
  // As written in an authority: the text, or "[v6]".
  std::string authority_text() const { return kind == Kind::kIpv6 ? "[" + text + "]" : text; }
  bool operator==(const Host&) const = default;
};

Result<Host> canonical_host(std::string_view raw);

// The host of an IP address (IPv4-mapped IPv6 becomes IPv4).
Host host_of(const IpAddress& a);

}  // namespace ztgate::egress
