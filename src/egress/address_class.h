// What kind of destination an IP address is, and the SSRF floor built on it.
//
// classify() names the special-purpose range an address falls in (IANA's
// IPv4 and IPv6 special-purpose registries, RFC 6890 and successors, plus
// the cloud providers' metadata endpoints). IPv6 addresses that carry an
// IPv4 address are judged by what they carry: IPv4-mapped (::ffff:0:0/96),
// IPv4-compatible (::/96, deprecated), NAT64 (64:ff9b::/96 and the local-use
// 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo (2001::/32, client and
// server). A carried address in any non-public class gives its class to the
// whole address: ::ffff:127.0.0.1 and 64:ff9b::7f00:1 are loopback.
// IPv6 outside 2000::/3 that no range names is `reserved` (unallocated):
// the default for what we do not know is "not public".
//
// AddressPolicy is the floor under every egress decision: only `public`
// addresses may be connected to, unless an allow-list range (egress.
// allow_addresses) names the address itself. `unspecified` (0.0.0.0/8, ::)
// is never allowed: connecting to it reaches this machine. Pure, thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "egress/ip_address.h"

namespace ztgate::egress {

enum class AddressClass : uint8_t {
  kPublic,
  kUnspecified,    // 0.0.0.0/8, ::/128
  kLoopback,       // 127.0.0.0/8, ::1
  kPrivate,        // 10/8, 172.16/12, 192.168/16; NAT64 local-use 64:ff9b:1::/48
  kSharedCgnat,    // 100.64.0.0/10 (RFC 6598)
  kLinkLocal,      // 169.254.0.0/16, fe80::/10
  kCloudMetadata,  // 169.254.169.254, 169.254.170.2, fd00:ec2::254, 100.100.100.200, ...
  kUniqueLocal,    // fc00::/7 (and the deprecated site-local fec0::/10)
  kMulticast,      // 224.0.0.0/4, ff00::/8
  kBroadcast,      // 255.255.255.255
  kReserved,       // 240.0.0.0/4, 192.88.99.0/24, 100::/64, Teredo, unallocated IPv6, ...
  kIetfProtocol,   // 192.0.0.0/24, 2001::/23 (protocol assignments)
  kBenchmarking,   // 198.18.0.0/15, 2001:2::/48
  kDocumentation,  // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20
};

// "public", "unspecified", "loopback", "private", "cgnat", "link_local",
// "cloud_metadata", "unique_local", "multicast", "broadcast", "reserved",
// "ietf_protocol", "benchmarking", "documentation": the value of
// context.destination.address_class.
std::string_view to_string(AddressClass c);

AddressClass classify(const IpAddress& a);

// The IPv4 address an IPv6 address carries (see the header comment), if any.
std::optional<IpAddress> embedded_v4(const IpAddress& a);

class AddressPolicy {
 public:
  AddressPolicy() = default;
  explicit AddressPolicy(std::vector<Cidr> allow) : allow_(std::move(allow)) {}

  // Ok when `a` may be connected to. Error destination_forbidden naming the
  // address and its class otherwise.
  Status check(const IpAddress& a) const;
  // Every address must pass (a name that resolves to one forbidden address
  // among public ones is refused whole: the client cannot choose which).
  Status check_all(std::span<const IpAddress> addresses) const;
  // Whether an allow-list range names `a`.
  bool allow_listed(const IpAddress& a) const;
  const std::vector<Cidr>& allow() const { return allow_; }

 private:
  std::vector<Cidr> allow_;
};

}  // namespace ztgate::egress
