// Fuzz target: what the egress proxy reads from a client before any
// decision: the request head (Beast's parser, as egress_proxy.cpp sets it
// up), its target as a CONNECT authority or an absolute URL, the host in
// every IP literal spelling, and the Proxy-Authorization credential
// (src/egress: destination, host, ip_address, address_class, proxy_auth).
//
// Properties, for any input:
//   1. Nothing crashes, hangs, leaks or hits undefined behavior.
//   2. Canonical hosts are fixed points: canonical_host(h.authority_text())
//      gives h again; a name is lowercase LDH of at most 253 bytes; a
//      literal's text is its address's text, and IPv4-mapped IPv6 never
//      survives as IPv6.
//   3. A parsed destination has a port in 1..65535, the scheme the parser
//      promises, an origin-form target ("/...") for http and none for a
//      tunnel, and reparsing its own authority gives the same host and port.
//   4. A legacy IPv4 address prints as four decimal parts that the strict
//      parser reads back to the same address.
//   5. The SSRF floor never lets a non-public address through without an
//      allow-list, and classification agrees with it.
//   6. A proxy credential, when found, is non-empty printable ASCII.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "egress/address_class.h"
#include "egress/destination.h"
#include "egress/proxy_auth.h"
#include "property.h"

namespace {

using namespace ztgate::egress;
using ztgate::fuzz::require;

void check_host(const Host& h) {
  auto again = canonical_host(h.authority_text());
  require(again.ok(), "a canonical host parses again", h.text);
  require(*again == h, "canonical hosts are fixed points", h.text + " -> " + again->text);
  if (h.kind == Host::Kind::kName) {
    require(!h.text.empty() && h.text.size() <= kMaxHostNameBytes, "names are bounded", h.text);
    for (char c : h.text)
      require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.', "names are lowercase LDH", h.text);
    require(!h.address, "names have no address", h.text);
  } else {
    require(h.address.has_value(), "literals have an address", h.text);
    require(h.address->to_string() == h.text, "a literal's text is its address", h.text);
    require(!h.address->unmapped_v4(), "IPv4-mapped IPv6 becomes IPv4", h.text);
    require((h.kind == Host::Kind::kIpv4) == h.address->is_v4(), "kind matches the family", h.text);
    AddressPolicy floor;
    bool allowed = floor.check(*h.address).ok();
    require(allowed == (classify(*h.address) == AddressClass::kPublic), "the floor passes public addresses only",
            h.text);
  }
}

void check_destination(const ztgate::Result<Destination>& d, std::string_view scheme_wanted) {
  if (!d) {
    require(d.error().code == "destination_invalid", "one error code", d.error().code);
    return;
  }
  require(d->port >= 1, "ports are 1..65535", d->host.text);
  if (!scheme_wanted.empty()) require(d->scheme == scheme_wanted, "the promised scheme", d->scheme);
  if (d->scheme == "tunnel") {
    require(d->target.empty(), "tunnels have no target", d->target);
  } else {
    require(!d->target.empty() && d->target.front() == '/', "origin-form targets", d->target);
    require(d->target.find('#') == std::string::npos, "no fragments", d->target);
  }
  check_host(d->host);
  auto again = parse_connect_target(d->host.authority_text() + ":" + std::to_string(d->port));
  require(again.ok() && again->host == d->host && again->port == d->port, "the authority reparses", d->host.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // The input as a host, a CONNECT target, an absolute target, a URL.
  if (auto h = canonical_host(text)) check_host(*h);
  check_destination(parse_connect_target(text), "tunnel");
  check_destination(parse_absolute_target(text), "http");
  check_destination(parse_url(text), "");
  if (auto a = parse_ipv4_legacy(text)) {
    auto strict = parse_ip_strict(a->to_string());
    require(strict.has_value() && *strict == *a, "legacy IPv4 prints as strict dotted decimal", a->to_string());
  }
  if (auto c = parse_cidr(text)) require(c->contains(c->base), "a range contains its base", c->to_string());
  if (auto cred = proxy_credential(text)) {
    require(!cred->empty(), "credentials are non-empty", "");
    for (char c : *cred) require(c > 0x20 && c < 0x7f, "credentials are printable ASCII", "");
  }

  // The input as a proxy request head, parsed as the listener does.
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && parser.is_header_done()) {
    auto& req = parser.get();
    std::string_view target(req.target().data(), req.target().size());
    if (req.method() == http::verb::connect) {
      check_destination(parse_connect_target(target), "tunnel");
    } else {
      check_destination(parse_absolute_target(target), "http");
    }
    auto auth = req.find(http::field::proxy_authorization);
    if (auth != req.end()) (void)proxy_credential(std::string_view(auth->value().data(), auth->value().size()));
  }
  return 0;
}
