// egress/ip_address.h: strict and legacy IPv4 parsing (every inet_aton
// spelling read, none of its quirks), IPv6 via inet_pton, CIDR ranges.
#include <gtest/gtest.h>

#include "egress/ip_address.h"

namespace ztgate::egress {
namespace {

std::string legacy(std::string_view text) {
  auto a = parse_ipv4_legacy(text);
  return a ? a->to_string() : "error";
}

TEST(IpAddressTest, StrictIpv4IsFourDecimalPartsWithoutLeadingZeros) {
  EXPECT_EQ(parse_ip_strict("10.0.0.1")->to_string(), "10.0.0.1");
  EXPECT_EQ(parse_ip_strict("255.255.255.255")->to_string(), "255.255.255.255");
  for (const char* bad : {"010.0.0.1", "10.0.1", "10.0.0.256", "0x0a.0.0.1", "10.0.0.1.", "10..0.1", " 10.0.0.1",
                          "10.0.0.1 ", "2130706433", "1.2.3.4.5", ""})
    EXPECT_FALSE(parse_ip_strict(bad)) << bad;
}

TEST(IpAddressTest, StrictIpv6IsRfc4291TextWithoutZone) {
  EXPECT_EQ(parse_ip_strict("2001:DB8::1")->to_string(), "2001:db8::1");
  EXPECT_EQ(parse_ip_strict("0:0:0:0:0:0:0:1")->to_string(), "::1");
  EXPECT_EQ(parse_ip_strict("::ffff:127.0.0.1")->to_string(), "::ffff:127.0.0.1");
  for (const char* bad : {"fe80::1%eth0", "[::1]", "::ffff:0177.0.0.1", "::ffff:127.1", "1::2::3", "12345::1", ":::"})
    EXPECT_FALSE(parse_ip_strict(bad)) << bad;
}

TEST(IpAddressTest, LegacyIpv4ReadsEveryInetAtonSpelling) {
  EXPECT_EQ(legacy("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(legacy("2130706433"), "127.0.0.1");        // one decimal number
  EXPECT_EQ(legacy("017700000001"), "127.0.0.1");      // one octal number
  EXPECT_EQ(legacy("0x7f000001"), "127.0.0.1");        // one hex number
  EXPECT_EQ(legacy("0X7F000001"), "127.0.0.1");
  EXPECT_EQ(legacy("0177.0.0.1"), "127.0.0.1");        // octal part
  EXPECT_EQ(legacy("0x7f.0.0.1"), "127.0.0.1");        // hex part
  EXPECT_EQ(legacy("0x7f.0x0.0x0.0x1"), "127.0.0.1");
  EXPECT_EQ(legacy("127.1"), "127.0.0.1");             // the last part fills three bytes
  EXPECT_EQ(legacy("127.0.1"), "127.0.0.1");           // ... or two
  EXPECT_EQ(legacy("0x7f.1"), "127.0.0.1");
  EXPECT_EQ(legacy("127.000.000.001"), "127.0.0.1");   // leading zeros: octal, same value
  EXPECT_EQ(legacy("0"), "0.0.0.0");
  EXPECT_EQ(legacy("0x"), "0.0.0.0");                  // WHATWG: "0x" alone is zero
  EXPECT_EQ(legacy("169.254.43518"), "169.254.169.254");
  EXPECT_EQ(legacy("2852039166"), "169.254.169.254");
  EXPECT_EQ(legacy("4294967295"), "255.255.255.255");
}

TEST(IpAddressTest, LegacyIpv4RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"256.0.0.1", "1.2.3.256", "1.2.65536", "1.16777216", "4294967296", "1.2.3.4.5", "08.0.0.1",
                          "0x7g.0.0.1", "1..2.3", "", "99999999999999999999999", "127.0.0.1 foo", "1.2.3.-1"})
    EXPECT_EQ(legacy(bad), "error") << bad;
}

TEST(IpAddressTest, EndsInNumberFollowsTheUrlStandard) {
  EXPECT_TRUE(ends_in_number("127.0.0.1"));
  EXPECT_TRUE(ends_in_number("foo.0x7f"));
  EXPECT_TRUE(ends_in_number("foo.0x"));
  EXPECT_TRUE(ends_in_number("2130706433"));
  EXPECT_FALSE(ends_in_number("example.com"));
  EXPECT_FALSE(ends_in_number("7f000001"));  // hex without 0x is a name
  EXPECT_FALSE(ends_in_number("1e100.net"));
}

TEST(IpAddressTest, MappedIpv6UnmapsToIpv4) {
  EXPECT_EQ(parse_ipv6("::ffff:7f00:1")->unmapped_v4()->to_string(), "127.0.0.1");
  EXPECT_FALSE(parse_ipv6("::7f00:1")->unmapped_v4());
  EXPECT_FALSE(parse_ip_strict("127.0.0.1")->unmapped_v4());
}

TEST(IpAddressTest, CidrContainsOnlyItsFamilyAndRange) {
  auto c = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*parse_ip_strict("10.255.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip_strict("11.0.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip_strict("::ffff:10.0.0.1")));
  auto v6 = parse_cidr("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_ip_strict("fd12::1")));
  EXPECT_EQ(parse_cidr("127.0.0.1")->prefix, 32);
  EXPECT_EQ(parse_cidr("::1")->prefix, 128);
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(*parse_ip_strict("8.8.8.8")));
}

TEST(IpAddressTest, CidrRefusesHostBitsAndBadPrefixes) {
  auto c = parse_cidr("10.0.0.1/8");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "cidr_invalid");
  EXPECT_NE(c.error().message.find("10.0.0.0/8"), std::string::npos) << c.error().message;
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "::/129", "10.0.0/8", "example.com/8", "0177.0.0.0/8"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}

}  // namespace
}  // namespace ztgate::egress
