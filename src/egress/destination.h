// Where an egress request goes: scheme, canonical host, port and, for plain
// HTTP, the path. Read from what a forward-proxy client sends or from a URL
// an internal caller hands the guard.
//
//   parse_connect_target   "CONNECT host:port": authority-form (RFC 9110
//                          9.3.6), the port required; scheme "tunnel" (the
//                          bytes pass untouched, usually TLS).
//   parse_absolute_target  "GET http://host[:port]/path?q": absolute-form
//                          (RFC 9112 3.2.2), http only (https goes through
//                          CONNECT); target is the origin-form to send on.
//   parse_url              an http:// or https:// URL (the EgressGuard API).
//
// Refused (destination_invalid): userinfo ("http://a@b/": the classic
// "which host is it" confusion), fragments, a bare IPv6 address without
// brackets, an empty or out-of-range port (1-65535), control bytes and
// spaces, targets longer than kMaxTargetBytes, and every host
// canonical_host() refuses. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "egress/host.h"

namespace ztgate::egress {

inline constexpr size_t kMaxTargetBytes = 8192;

struct Destination {
  std::string scheme;  // "tunnel", "http" or "https"
  Host host;
  uint16_t port = 0;
  std::string target;  // origin-form "/path?query" for http(s); "" for tunnels

  // host[:port] as a Host header says it: the port left out when it is the
  // scheme's default (80 for http, 443 for https).
  std::string authority() const;
  // For messages and records: "tunnel://host:port" or "http://host:port/path".
  std::string to_string() const;
};

Result<Destination> parse_connect_target(std::string_view target);
Result<Destination> parse_absolute_target(std::string_view target);
Result<Destination> parse_url(std::string_view url);

}  // namespace ztgate::egress
