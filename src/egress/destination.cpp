#include "egress/destination.h"

namespace ztgate::egress {
namespace {

Error invalid(std::string message) { return make_error("destination_invalid", std::move(message)); }

bool plain_bytes(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

Result<uint16_t> parse_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return invalid("the port must be a number from 1 to 65535");
  uint32_t n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return invalid("the port must be a number from 1 to 65535");
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535) return invalid("the port must be a number from 1 to 65535");
  return static_cast<uint16_t>(n);
}

// host[:port] into the canonical host and the port (default_port when none;
// 0 = a port is required).
Result<Destination> parse_authority(std::string_view auth, uint16_t default_port) {
  if (auth.empty()) return invalid("the target names no host");
  if (auth.find('@') != std::string_view::npos)
    return invalid("credentials in the target (user@host) are not accepted: authenticate with Proxy-Authorization");
  std::string_view host, port;
  bool has_port = false;
  if (auth.front() == '[') {
    size_t close = auth.find(']');
    if (close == std::string_view::npos) return invalid("an IPv6 address in brackets lacks the closing ]");
    host = auth.substr(0, close + 1);
    std::string_view rest = auth.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("unexpected text after the bracketed IPv6 address");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = auth.find(':');
    if (colon != auth.rfind(':')) return invalid("an IPv6 address must be in brackets: [2001:db8::1]:443");
    host = auth.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = auth.substr(colon + 1);
      has_port = true;
    }
  }
  Destination d;
  auto h = canonical_host(host);
  if (!h) return h.error();
  d.host = std::move(*h);
  if (has_port) {
    auto p = parse_port(port);
    if (!p) return p.error();
    d.port = *p;
  } else if (default_port == 0) {
    return invalid("CONNECT needs host:port");
  } else {
    d.port = default_port;
  }
  return d;
}

// scheme://authority[path][?query] for the given schemes.
Result<Destination> parse_hierarchical(std::string_view url, bool allow_https) {
  if (url.size() > kMaxTargetBytes) return invalid("the target is longer than 8192 bytes");
  if (!plain_bytes(url)) return invalid("the target has spaces, control or non-ASCII bytes");
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return invalid("expected an absolute URL (http://host/path)");
  std::string_view scheme = url.substr(0, sep);
  std::string canonical_scheme;
  uint16_t default_port = 0;
  if (iequals(scheme, "http")) {
    canonical_scheme = "http";
    default_port = 80;
  } else if (allow_https && iequals(scheme, "https")) {
    canonical_scheme = "https";
    default_port = 443;
  } else {
    return invalid(allow_https ? "only http:// and https:// URLs are accepted"
                               : "only http:// targets are forwarded; use CONNECT for https and anything else");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return invalid("the target has a fragment (#...)");
  size_t end = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, end);
  auto d = parse_authority(auth, default_port);
  if (!d) return d.error();
  d->scheme = std::move(canonical_scheme);
  std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (path.empty()) {
    d->target = "/";
  } else if (path.front() == '?') {
    d->target = "/" + std::string(path);
  } else {
    d->target = std::string(path);
  }
  return d;
}

}  // namespace

std::string Destination::authority() const {
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? host.authority_text() : host.authority_text() + ":" + std::to_string(port);
}

std::string Destination::to_string() const {
  return scheme + "://" + host.authority_text() + ":" + std::to_string(port) + target;
}

Result<Destination> parse_connect_target(std::string_view target) {
  if (target.size() > kMaxTargetBytes) return invalid("the target is longer than 8192 bytes");
  if (!plain_bytes(target)) return invalid("the target has spaces, control or non-ASCII bytes");
  if (target.find('/') != std::string_view::npos) return invalid("CONNECT takes host:port, not a URL");
  auto d = parse_authority(target, 0);
  if (!d) return d.error();
  d->scheme = "tunnel";
  return d;
}

Result<Destination> parse_absolute_target(std::string_view target) {
  if (!target.empty() && target.front() == '/')
    return invalid("this is a forward proxy: send the absolute URL (GET http://host/path) or CONNECT host:port");
  return parse_hierarchical(target, false);
}

Result<Destination> parse_url(std::string_view url) { return parse_hierarchical(url, true); }

}  // namespace ztgate::egress
