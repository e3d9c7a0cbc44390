#include "egress/host.h"

namespace ztgate::egress {
namespace {

constexpr size_t kMaxZoneIdBytes = 64;

Error invalid(std::string message) { return make_error("destination_invalid", std::move(message)); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded once; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool ldh_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

Result<Host> ipv6_host(std::string_view inner) {
  // A zone id (RFC 6874 "%25eth0", or the raw "%eth0" some clients send)
  // names an interface of the sender, not part of the destination: dropped.
  if (size_t pct = inner.find('%'); pct != std::string_view::npos) {
    std::string_view zone = inner.substr(pct + 1);
    if (zone.size() >= 2 && zone.substr(0, 2) == "25") zone.remove_prefix(2);
    if (zone.empty() || zone.size() > kMaxZoneIdBytes) return invalid("the IPv6 zone id is empty or too long");
    for (char c : zone)
      if (!unreserved(c)) return invalid("the IPv6 zone id has characters other than letters, digits and -._~");
    inner = inner.substr(0, pct);
  }
  auto a = parse_ipv6(inner);
  if (!a) return invalid("`" + std::string(inner) + "` is not an IPv6 address");
  return host_of(*a);
}

}  // namespace

Host host_of(const IpAddress& a) {
  if (auto v4 = a.unmapped_v4()) return Host{Host::Kind::kIpv4, v4->to_string(), *v4};
  return Host{a.is_v4() ? Host::Kind::kIpv4 : Host::Kind::kIpv6, a.to_string(), a};
}

Result<Host> canonical_host(std::string_view raw) {
  if (raw.empty()) return invalid("the host is empty");
  if (raw.size() > kMaxRawHostBytes) return invalid("the host is longer than 1024 bytes");
  if (raw.front() == '[') {
    if (raw.back() != ']') return invalid("an IPv6 address in brackets lacks the closing ]");
    return ipv6_host(raw.substr(1, raw.size() - 2));
  }
  auto decoded = percent_decode(raw);
  if (!decoded) return invalid("the host has a malformed percent-encoding");
  std::string h = std::move(*decoded);
  for (char& c : h) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return invalid("the host is not ASCII: give internationalized names in punycode (xn--...)");
    if (u >= 'A' && u <= 'Z') c = static_cast<char>(u - 'A' + 'a');
  }
  if (h.find('%') != std::string::npos && h.find(':') == std::string::npos)
    return invalid("the host is percent-encoded twice");
  if (h.find(':') != std::string::npos) {
    if (h.front() == '[' && h.back() == ']') return ipv6_host(std::string_view(h).substr(1, h.size() - 2));
    return ipv6_host(h);
  }
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty()) return invalid("the host is empty");
  if (ends_in_number(h)) {
    auto a = parse_ipv4_legacy(h);
    if (!a) return invalid("`" + h + "` ends in a number but is not an IPv4 address");
    return host_of(*a);
  }
  if (h.size() > kMaxHostNameBytes) return invalid("the host name is longer than 253 bytes");
  size_t start = 0;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    if (dot == std::string::npos) dot = h.size();
    if (!ldh_label(std::string_view(h).substr(start, dot - start)))
      return invalid("`" + h + "` is not a host name (labels of 1-63 letters, digits and '-', not starting or ending with '-')");
    start = dot + 1;
  }
  return Host{Host::Kind::kName, std::move(h), std::nullopt};
}

}  // namespace ztgate::egress
