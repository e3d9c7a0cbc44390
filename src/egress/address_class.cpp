#include "egress/address_class.h"

#include <array>

namespace ztgate::egress {
namespace {

struct V4Range {
  uint32_t base;
  int prefix;
  AddressClass cls;
};

constexpr uint32_t ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return (a << 24) | (b << 16) | (c << 8) | d; }

// Exact metadata endpoints come first: they sit inside link-local, CGNAT,
// IETF protocol and even public space (Azure's wireserver).
constexpr std::array<uint32_t, 8> kMetadataV4 = {
    ip4(169, 254, 169, 254),  // AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
    ip4(169, 254, 169, 253),  // AWS VPC DNS
    ip4(169, 254, 169, 123),  // AWS time sync
    ip4(169, 254, 170, 2),    // AWS ECS task metadata and credentials
    ip4(169, 254, 170, 23),   // AWS EKS pod identity
    ip4(100, 100, 100, 200),  // Alibaba Cloud
    ip4(168, 63, 129, 16),    // Azure wireserver
    ip4(192, 0, 0, 192),      // Oracle Cloud (legacy metadata)
};

// Most specific first where ranges nest (broadcast inside 240/4).
constexpr std::array<V4Range, 16> kV4Ranges = {{
    {ip4(0, 0, 0, 0), 8, AddressClass::kUnspecified},
    {ip4(10, 0, 0, 0), 8, AddressClass::kPrivate},
    {ip4(100, 64, 0, 0), 10, AddressClass::kSharedCgnat},
    {ip4(127, 0, 0, 0), 8, AddressClass::kLoopback},
    {ip4(169, 254, 0, 0), 16, AddressClass::kLinkLocal},
    {ip4(172, 16, 0, 0), 12, AddressClass::kPrivate},
    {ip4(192, 0, 0, 0), 24, AddressClass::kIetfProtocol},
    {ip4(192, 0, 2, 0), 24, AddressClass::kDocumentation},
    {ip4(192, 88, 99, 0), 24, AddressClass::kReserved},  // 6to4 relay anycast (deprecated)
    {ip4(192, 168, 0, 0), 16, AddressClass::kPrivate},
    {ip4(198, 18, 0, 0), 15, AddressClass::kBenchmarking},
    {ip4(198, 51, 100, 0), 24, AddressClass::kDocumentation},
    {ip4(203, 0, 113, 0), 24, AddressClass::kDocumentation},
    {ip4(224, 0, 0, 0), 4, AddressClass::kMulticast},
    {ip4(255, 255, 255, 255), 32, AddressClass::kBroadcast},
    {ip4(240, 0, 0, 0), 4, AddressClass::kReserved},
}};

bool in_v4(uint32_t a, uint32_t base, int prefix) {
  if (prefix == 0) return true;
  uint32_t mask = prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
  return (a & mask) == (base & mask);
}

AddressClass classify_v4(uint32_t a) {
  for (uint32_t m : kMetadataV4)
    if (a == m) return AddressClass::kCloudMetadata;
  for (const auto& r : kV4Ranges)
    if (in_v4(a, r.base, r.prefix)) return r.cls;
  return AddressClass::kPublic;
}

using Bytes = std::array<uint8_t, 16>;

struct V6Range {
  Bytes base;
  int prefix;
  AddressClass cls;
};

bool in_v6(const Bytes& a, const Bytes& base, int prefix) {
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (base[i] & mask)) return false;
  }
  return true;
}

constexpr Bytes b6(std::initializer_list<uint16_t> hextets_front, uint16_t last = 0) {
  Bytes out{};
  size_t i = 0;
  for (uint16_t h : hextets_front) {
    out[i++] = static_cast<uint8_t>(h >> 8);
    out[i++] = static_cast<uint8_t>(h);
  }
  out[14] = static_cast<uint8_t>(last >> 8);
  out[15] = static_cast<uint8_t>(last);
  return out;
}

const std::array<Bytes, 5> kMetadataV6 = {
    b6({0xfd00, 0x0ec2}, 0x254),  // AWS IMDS
    b6({0xfd00, 0x0ec2}, 0x253),  // AWS VPC DNS
    b6({0xfd00, 0x0ec2}, 0x123),  // AWS time sync
    b6({0xfd00, 0x0ec2}, 0x23),   // AWS EKS pod identity
    b6({0xfd20, 0x00ce}, 0x254),  // GCP metadata
};

// Ranges judged as a whole (after the carried-IPv4 forms, which come first).
const std::array<V6Range, 12> kV6Ranges = {{
    {b6({}), 128, AddressClass::kUnspecified},
    {b6({}, 1), 128, AddressClass::kLoopback},
    {b6({0x0100}), 64, AddressClass::kReserved},                 // discard-only
    {b6({0x2001, 0x0002}), 48, AddressClass::kBenchmarking},
    {b6({0x2001, 0x0db8}), 32, AddressClass::kDocumentation},
    {b6({0x3fff}), 20, AddressClass::kDocumentation},            // RFC 9637
    {b6({0x2001}), 23, AddressClass::kIetfProtocol},
    {b6({0xfe80}), 10, AddressClass::kLinkLocal},
    {b6({0xfec0}), 10, AddressClass::kUniqueLocal},              // site-local (deprecated)
    {b6({0xfc00}), 7, AddressClass::kUniqueLocal},
    {b6({0xff00}), 8, AddressClass::kMulticast},
    {b6({0x2000}), 3, AddressClass::kPublic},                    // global unicast
}};

uint32_t v4_at(const Bytes& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

bool zero_prefix(const Bytes& b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

enum class Carrier { kNone, kMapped, kCompatible, kNat64, kNat64Local, k6to4, kTeredo };

// Which carried-IPv4 form `b` is, and the carried address(es).
Carrier carrier_of(const Bytes& b, uint32_t& v4, std::optional<uint32_t>& second) {
  if (zero_prefix(b, 10) && b[10] == 0xff && b[11] == 0xff) {
    v4 = v4_at(b, 12);
    return Carrier::kMapped;
  }
  if (zero_prefix(b, 12) && v4_at(b, 12) > 1) {  // not :: or ::1
    v4 = v4_at(b, 12);
    return Carrier::kCompatible;
  }
  if (in_v6(b, b6({0x0064, 0xff9b}), 96)) {
    v4 = v4_at(b, 12);
    return Carrier::kNat64;
  }
  if (in_v6(b, b6({0x0064, 0xff9b, 0x0001}), 48)) {
    v4 = v4_at(b, 12);  // RFC 8215 leaves the format to the operator; the usual /96 layout
    return Carrier::kNat64Local;
  }
  if (b[0] == 0x20 && b[1] == 0x02) {
    v4 = v4_at(b, 2);
    return Carrier::k6to4;
  }
  if (in_v6(b, b6({0x2001, 0x0000}), 32)) {
    second = v4_at(b, 4);        // the Teredo server
    v4 = ~v4_at(b, 12);          // the client, obfuscated (bits inverted)
    return Carrier::kTeredo;
  }
  return Carrier::kNone;
}

AddressClass classify_v6(const Bytes& b) {
  for (const auto& m : kMetadataV6)
    if (b == m) return AddressClass::kCloudMetadata;
  uint32_t v4 = 0;
  std::optional<uint32_t> second;
  Carrier carrier = carrier_of(b, v4, second);
  if (carrier != Carrier::kNone) {
    AddressClass inner = classify_v4(v4);
    if (inner != AddressClass::kPublic) return inner;
    if (second) {
      AddressClass server = classify_v4(*second);
      if (server != AddressClass::kPublic) return server;
    }
    switch (carrier) {
      case Carrier::kMapped:
      case Carrier::kNat64:
      case Carrier::k6to4:
        return AddressClass::kPublic;  // a public IPv4 host, reached another way
      case Carrier::kNat64Local:
        return AddressClass::kPrivate;
      case Carrier::kCompatible:  // deprecated since RFC 4291: never a real destination
      case Carrier::kTeredo:      // a tunnel endpoint, not a service
      case Carrier::kNone:
        return AddressClass::kReserved;
    }
  }
  for (const auto& r : kV6Ranges)
    if (in_v6(b, r.base, r.prefix)) return r.cls;
  return AddressClass::kReserved;  // outside 2000::/3 and named nowhere: unallocated
}

}  // namespace

std::string_view to_string(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kSharedCgnat: return "cgnat";
    case AddressClass::kLinkLocal: return "link_local";
    case AddressClass::kCloudMetadata: return "cloud_metadata";
    case AddressClass::kUniqueLocal: return "unique_local";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kBroadcast: return "broadcast";
    case AddressClass::kReserved: return "reserved";
    case AddressClass::kIetfProtocol: return "ietf_protocol";
    case AddressClass::kBenchmarking: return "benchmarking";
    case AddressClass::kDocumentation: return "documentation";
  }
  return "reserved";
}

AddressClass classify(const IpAddress& a) {
  return a.is_v4() ? classify_v4(a.v4_value()) : classify_v6(a.bytes());
}

std::optional<IpAddress> embedded_v4(const IpAddress& a) {
  if (a.is_v4()) return std::nullopt;
  uint32_t v4 = 0;
  std::optional<uint32_t> second;
  if (carrier_of(a.bytes(), v4, second) == Carrier::kNone) return std::nullopt;
  return IpAddress::v4(v4);
}

bool AddressPolicy::allow_listed(const IpAddress& a) const {
  for (const auto& c : allow_)
    if (c.contains(a)) return true;
  return false;
}

Status AddressPolicy::check(const IpAddress& a) const {
  AddressClass c = classify(a);
  if (c == AddressClass::kPublic) return Ok{};
  if (c != AddressClass::kUnspecified && allow_listed(a)) return Ok{};
  std::string what = a.to_string();
  if (auto inner = embedded_v4(a); inner && classify(*inner) == c) what += " (carrying " + inner->to_string() + ")";
  return make_error("destination_forbidden", "the destination address " + what + " is " + std::string(to_string(c)) +
                                                 ": not reachable through the egress proxy unless allow-listed "
                                                 "(egress.allow_addresses)");
}

Status AddressPolicy::check_all(std::span<const IpAddress> addresses) const {
  if (addresses.empty()) return make_error("destination_forbidden", "the destination has no address");
  for (const auto& a : addresses)
    if (auto st = check(a); !st) return st;
  return Ok{};
}

}  // namespace ztgate::egress
