#include "egress/zones.h"

namespace ztgate::egress {

bool HostPattern::matches(const Host& h) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return h.kind == Host::Kind::kName && h.text == name;
    case Kind::kBelow:
      return h.kind == Host::Kind::kName && h.text.size() > name.size() &&
             std::string_view(h.text).substr(h.text.size() - name.size()) == name;
    case Kind::kRange:
      return h.address && range.contains(*h.address);
  }
  return false;
}

Result<HostPattern> parse_host_pattern(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return make_error("pattern_invalid", "host pattern `" + std::string(text.substr(0, 128)) + "`: " + why);
  };
  HostPattern p;
  if (text == "*") {
    p.kind = HostPattern::Kind::kAny;
    return p;
  }
  if (text.find('/') != std::string_view::npos) {
    auto c = parse_cidr(text);
    if (!c) return invalid(c.error().message);
    p.kind = HostPattern::Kind::kRange;
    p.range = *c;
    return p;
  }
  bool below = text.size() > 2 && text.substr(0, 2) == "*.";
  if (text.find('*', below ? 2 : 0) != std::string_view::npos)
    return invalid("`*` may only stand alone or start the pattern as `*.`");
  auto h = canonical_host(below ? text.substr(2) : text);
  if (!h) return invalid(h.error().message);
  if (h->is_literal()) {
    if (below) return invalid("`*.` goes before a name, not an address");
    p.kind = HostPattern::Kind::kRange;
    p.range = Cidr{*h->address, h->address->is_v4() ? 32 : 128};
    return p;
  }
  p.kind = below ? HostPattern::Kind::kBelow : HostPattern::Kind::kExact;
  p.name = below ? "." + h->text : h->text;
  return p;
}

Status ZoneMap::add(std::string zone, std::vector<HostPattern> patterns) {
  if (zone.empty() || zone.size() > kMaxZoneNameBytes)
    return make_error("zone_invalid", "a zone name has 1 to 128 characters");
  for (char c : zone)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == ':'))
      return make_error("zone_invalid", "zone `" + zone + "`: use letters, digits and -._:");
  for (const auto& z : zones_)
    if (z.name == zone) return make_error("zone_invalid", "zone `" + zone + "` is given twice");
  if (zones_.size() >= kMaxZones) return make_error("zone_invalid", "more than 1024 zones");
  if (patterns.size() > kMaxPatternsPerZone) return make_error("zone_invalid", "zone `" + zone + "` has more than 4096 patterns");
  zones_.push_back(Zone{std::move(zone), std::move(patterns)});
  return Ok{};
}

std::vector<std::string> ZoneMap::zones_of(const Host& h) const {
  std::vector<std::string> out;
  for (const auto& z : zones_) {
    for (const auto& p : z.patterns) {
      if (!p.matches(h)) continue;
      out.push_back(z.name);
      break;
    }
  }
  return out;
}

}  // namespace ztgate::egress
