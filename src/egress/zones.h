// Zones: named groups of destination hosts (egress.zones in ztgate.yaml),
// which become the Host entity's parents (Host::"api.openai.com" in
// Zone::"llm-providers") so that policies can allow or segment by zone.
//
// A host pattern is one of
//   api.example.com      that name exactly (canonicalized as a host: case,
//                        trailing dot)
//   *.example.com        every name below example.com (not example.com)
//   *                    every host, names and addresses
//   10.0.0.0/8, 2001:db8::/32, 192.0.2.7
//                        IP-literal hosts in that range (a name is never
//                        matched by its resolved address: zones are decided
//                        before any lookup)
// Matching is linear in the number of patterns (bounded by the reader:
// kMaxZones zones of kMaxPatternsPerZone patterns). Pure, thread-safe once built.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "egress/host.h"

namespace ztgate::egress {

inline constexpr size_t kMaxZones = 1024;
inline constexpr size_t kMaxPatternsPerZone = 4096;
inline constexpr size_t kMaxZoneNameBytes = 128;

struct HostPattern {
  enum class Kind : uint8_t { kExact, kBelow, kAny, kRange };
  Kind kind = Kind::kExact;
  std::string name;  // kExact: the name; kBelow: the suffix with its leading dot (".example.com")
  Cidr range;        // kRange
  bool matches(const Host& h) const;
};

// Error code pattern_invalid.
Result<HostPattern> parse_host_pattern(std::string_view text);

class ZoneMap {
 public:
  // Error code zone_invalid: a name other than 1-128 letters, digits and
  // -._: or a zone given twice. Patterns are parsed already.
  Status add(std::string zone, std::vector<HostPattern> patterns);
  // The zones whose patterns match `h`, in the order they were added.
  std::vector<std::string> zones_of(const Host& h) const;
  bool empty() const { return zones_.empty(); }

 private:
  struct Zone {
    std::string name;
    std::vector<HostPattern> patterns;
  };
  std::vector<Zone> zones_;
};

}  // namespace ztgate::egress
