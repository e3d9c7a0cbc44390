// egress/address_class.h: every special-purpose range, IPv6 forms carrying
// an IPv4 address judged by what they carry, and the SSRF floor with its
// allow-list.
#include <gtest/gtest.h>

#include "egress/address_class.h"

namespace ztgate::egress {
namespace {

std::string class_of(std::string_view text) {
  auto a = parse_ip_strict(text);
  EXPECT_TRUE(a) << text;
  return a ? std::string(to_string(classify(*a))) : "?";
}

TEST(AddressClassTest, Ipv4SpecialRanges) {
  EXPECT_EQ(class_of("8.8.8.8"), "public");
  EXPECT_EQ(class_of("0.0.0.0"), "unspecified");
  EXPECT_EQ(class_of("0.1.2.3"), "unspecified");
  EXPECT_EQ(class_of("127.0.0.1"), "loopback");
  EXPECT_EQ(class_of("127.255.255.254"), "loopback");
  EXPECT_EQ(class_of("10.1.2.3"), "private");
  EXPECT_EQ(class_of("172.16.0.1"), "private");
  EXPECT_EQ(class_of("172.31.255.255"), "private");
  EXPECT_EQ(class_of("172.32.0.1"), "public");
  EXPECT_EQ(class_of("192.168.0.1"), "private");
  EXPECT_EQ(class_of("100.64.0.1"), "cgnat");
  EXPECT_EQ(class_of("100.127.255.255"), "cgnat");
  EXPECT_EQ(class_of("100.128.0.1"), "public");
  EXPECT_EQ(class_of("169.254.1.1"), "link_local");
  EXPECT_EQ(class_of("224.0.0.1"), "multicast");
  EXPECT_EQ(class_of("239.255.255.250"), "multicast");
  EXPECT_EQ(class_of("255.255.255.255"), "broadcast");
  EXPECT_EQ(class_of("240.0.0.1"), "reserved");
  EXPECT_EQ(class_of("192.88.99.1"), "reserved");
  EXPECT_EQ(class_of("192.0.0.8"), "ietf_protocol");
  EXPECT_EQ(class_of("198.18.0.1"), "benchmarking");
  EXPECT_EQ(class_of("198.19.255.255"), "benchmarking");
  EXPECT_EQ(class_of("192.0.2.1"), "documentation");
  EXPECT_EQ(class_of("198.51.100.1"), "documentation");
  EXPECT_EQ(class_of("203.0.113.1"), "documentation");
}

TEST(AddressClassTest, CloudMetadataEndpointsBeforeTheirRanges) {
  for (const char* m : {"169.254.169.254", "169.254.170.2", "169.254.169.253", "100.100.100.200", "168.63.129.16",
                        "192.0.0.192", "fd00:ec2::254", "fd20:ce::254"})
    EXPECT_EQ(class_of(m), "cloud_metadata") << m;
}

TEST(AddressClassTest, Ipv6SpecialRanges) {
  EXPECT_EQ(class_of("2606:4700::1111"), "public");
  EXPECT_EQ(class_of("::"), "unspecified");
  EXPECT_EQ(class_of("::1"), "loopback");
  EXPECT_EQ(class_of("fe80::1"), "link_local");
  EXPECT_EQ(class_of("febf::1"), "link_local");
  EXPECT_EQ(class_of("fc00::1"), "unique_local");
  EXPECT_EQ(class_of("fdff::1"), "unique_local");
  EXPECT_EQ(class_of("fec0::1"), "unique_local");
  EXPECT_EQ(class_of("ff02::1"), "multicast");
  EXPECT_EQ(class_of("2001:db8::1"), "documentation");
  EXPECT_EQ(class_of("3fff::1"), "documentation");
  EXPECT_EQ(class_of("2001:2::1"), "benchmarking");
  EXPECT_EQ(class_of("100::1"), "reserved");
  EXPECT_EQ(class_of("4000::1"), "reserved");  // outside 2000::/3: unallocated
  EXPECT_EQ(class_of("2001:10::1"), "ietf_protocol");
}

TEST(AddressClassTest, Ipv6CarryingIpv4IsJudgedByWhatItCarries) {
  EXPECT_EQ(class_of("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(class_of("::ffff:7f00:1"), "loopback");
  EXPECT_EQ(class_of("::ffff:169.254.169.254"), "cloud_metadata");
  EXPECT_EQ(class_of("::ffff:8.8.8.8"), "public");
  EXPECT_EQ(class_of("::127.0.0.1"), "loopback");          // IPv4-compatible
  EXPECT_EQ(class_of("::8.8.8.8"), "reserved");            // deprecated form: never a destination
  EXPECT_EQ(class_of("64:ff9b::127.0.0.1"), "loopback");   // NAT64
  EXPECT_EQ(class_of("64:ff9b::a9fe:a9fe"), "cloud_metadata");
  EXPECT_EQ(class_of("64:ff9b::8.8.8.8"), "public");       // DNS64 on an IPv6-only network
  EXPECT_EQ(class_of("64:ff9b:1::10.0.0.1"), "private");   // NAT64 local-use
  EXPECT_EQ(class_of("64:ff9b:1::8.8.8.8"), "private");
  EXPECT_EQ(class_of("2002:7f00:1::"), "loopback");        // 6to4
  EXPECT_EQ(class_of("2002:0a00:0001::1"), "private");
  EXPECT_EQ(class_of("2002:0808:0808::1"), "public");
  // Teredo: server 65.54.227.120, client 127.0.0.1 inverted (80ff:fffe).
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:80ff:fffe"), "loopback");
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:3fff:fdd2"), "documentation");  // client 192.0.2.45
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:f7f7:f7f7"), "reserved");  // public ends: a tunnel, not a service
}

TEST(AddressClassTest, EmbeddedV4IsReportedForCarriers) {
  EXPECT_EQ(embedded_v4(*parse_ip_strict("64:ff9b::a9fe:a9fe"))->to_string(), "169.254.169.254");
  EXPECT_EQ(embedded_v4(*parse_ip_strict("2002:7f00:1::"))->to_string(), "127.0.0.1");
  EXPECT_FALSE(embedded_v4(*parse_ip_strict("2606:4700::1111")));
  EXPECT_FALSE(embedded_v4(*parse_ip_strict("127.0.0.1")));
}

TEST(AddressPolicyTest, OnlyPublicAddressesPassByDefault) {
  AddressPolicy p;
  EXPECT_TRUE(p.check(*parse_ip_strict("93.184.216.34")));
  auto st = p.check(*parse_ip_strict("::ffff:169.254.169.254"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "destination_forbidden");
  EXPECT_NE(st.error().message.find("cloud_metadata"), std::string::npos) << st.error().message;
}

TEST(AddressPolicyTest, AllowListNamesTheAddressItselfNotItsEmbeddings) {
  AddressPolicy p({*parse_cidr("127.0.0.77/32"), *parse_cidr("10.20.0.0/16")});
  EXPECT_TRUE(p.check(*parse_ip_strict("127.0.0.77")));
  EXPECT_TRUE(p.check(*parse_ip_strict("10.20.3.4")));
  EXPECT_FALSE(p.check(*parse_ip_strict("127.0.0.1")));
  EXPECT_FALSE(p.check(*parse_ip_strict("10.21.0.1")));
  EXPECT_FALSE(p.check(*parse_ip_strict("64:ff9b::7f00:4d")));  // NAT64 of 127.0.0.77: another address
}

TEST(AddressPolicyTest, UnspecifiedIsNeverAllowedEvenWhenListed) {
  AddressPolicy p({*parse_cidr("0.0.0.0/0"), *parse_cidr("::/0")});
  EXPECT_TRUE(p.check(*parse_ip_strict("10.0.0.1")));
  EXPECT_FALSE(p.check(*parse_ip_strict("0.0.0.0")));
  EXPECT_FALSE(p.check(*parse_ip_strict("::")));
}

TEST(AddressPolicyTest, OneForbiddenAddressRefusesTheWholeName) {
  AddressPolicy p;
  std::vector<IpAddress> addresses{*parse_ip_strict("93.184.216.34"), *parse_ip_strict("10.0.0.1")};
  EXPECT_FALSE(p.check_all(addresses));
  EXPECT_FALSE(p.check_all({}));
}

}  // namespace
}  // namespace ztgate::egress
