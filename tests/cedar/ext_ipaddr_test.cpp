// The `ipaddr` extension, pinned to the Rust reference
// (cedar-policy-core/src/extensions/ipaddr.rs) and the Lean spec (IPAddr.lean).
#include <gtest/gtest.h>

#include <vector>

#include "cedar/ext/extensions.h"
#include "cedar/ext/ipaddr.h"

namespace ztgate::cedar {
namespace {

IpAddr ip(std::string_view text) {
  auto r = parse_ipaddr(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : IpAddr{};
}

bool accepted(std::string_view text) { return parse_ipaddr(text).ok(); }

TEST(IpAddrParse, AcceptsPlainAddressesAsFullLengthRanges) {
  IpAddr v4 = ip("10.0.0.1");
  EXPECT_FALSE(v4.is_v6);
  EXPECT_EQ(v4.prefix_len, 32);
  EXPECT_EQ(v4.bytes[0], 10);
  EXPECT_EQ(v4.bytes[3], 1);
  IpAddr v6 = ip("::1");
  EXPECT_TRUE(v6.is_v6);
  EXPECT_EQ(v6.prefix_len, 128);
  EXPECT_EQ(v6.bytes[15], 1);
}

TEST(IpAddrParse, AcceptsPrefixesUpToTheAddressWidth) {
  EXPECT_EQ(ip("127.0.0.1/0").prefix_len, 0);
  EXPECT_EQ(ip("127.0.0.1/32").prefix_len, 32);
  EXPECT_EQ(ip("ffee::/0").prefix_len, 0);
  EXPECT_EQ(ip("ffee::/128").prefix_len, 128);
  EXPECT_FALSE(accepted("172.0.0.1/33"));
  EXPECT_FALSE(accepted("172.0.0.1/64"));
  EXPECT_FALSE(accepted("ffee::/129"));
  EXPECT_FALSE(accepted("ffee::/1234"));
}

TEST(IpAddrParse, RejectsMalformedPrefixes) {
  for (const char* s : {"10.0.0.0/", "10.0.0.0/08", "ffee::/01", "ffee::/+1", "10.0.0.0/-1",
                        "127.0.0.1/8/24", "fee::/64::1", "10.0.0.0/ 8", "10.0.0.0/8 "})
    EXPECT_FALSE(accepted(s)) << s;
}

TEST(IpAddrParse, RejectsIpv4OctetsWithLeadingZerosOrOutOfRange) {
  EXPECT_FALSE(accepted("010.0.0.1"));
  EXPECT_FALSE(accepted("10.0.0.01"));
  EXPECT_FALSE(accepted("10.0.0.00"));
  EXPECT_FALSE(accepted("380.0.0.1"));
  EXPECT_FALSE(accepted("10.0.0.256"));
  EXPECT_FALSE(accepted("10.0.0.1000"));
  EXPECT_TRUE(accepted("0.0.0.0"));
  EXPECT_TRUE(accepted("255.255.255.255"));
}

TEST(IpAddrParse, RejectsIpv4WithWrongNumberOfOctets) {
  for (const char* s :
       {"10.0.0", "10.0.0.1.2", "10..0.1", "10.0.0.", ".10.0.0.1", "ab.ab.ab.ab", "?"})
    EXPECT_FALSE(accepted(s)) << s;
}

TEST(IpAddrParse, RejectsWhitespaceAnywhere) {
  for (const char* s : {" 10.0.0.1", "10.0.0.1 ", "10.0.0.1\n", ":: 1", "\t::1"})
    EXPECT_FALSE(accepted(s)) << s;
}

TEST(IpAddrParse, AcceptsIpv6CompressionOnlyOnceAndForAtLeastOneGroup) {
  EXPECT_TRUE(accepted("::"));
  EXPECT_TRUE(accepted("1::"));
  EXPECT_TRUE(accepted("1:2:3:4:5:6:7::"));
  EXPECT_TRUE(accepted("::2:3:4:5:6:7:8"));
  EXPECT_TRUE(accepted("1:2:3:4:5:6:7:8"));
  EXPECT_TRUE(accepted("0001:00a:B:C:d:E:f:FFFF"));
  EXPECT_FALSE(accepted("1:2:3:4:5:6:7:8::"));
  EXPECT_FALSE(accepted("::1:2:3:4:5:6:7:8"));
  EXPECT_FALSE(accepted("1::2::3"));
  EXPECT_FALSE(accepted(":::"));
  EXPECT_FALSE(accepted("1:::2"));
  EXPECT_FALSE(accepted(":1:2:3:4:5:6:7"));
  EXPECT_FALSE(accepted("1:2:3:4:5:6:7:"));
  EXPECT_FALSE(accepted("1:2:3:4:5:6:7"));
  EXPECT_FALSE(accepted("12345::"));
  EXPECT_FALSE(accepted("foo::1"));
}

TEST(IpAddrParse, RejectsIpv4EmbeddedInIpv6ButAcceptsItsHexForm) {
  EXPECT_FALSE(accepted("::ffff:127.0.0.1"));
  EXPECT_FALSE(accepted("::127.0.0.1"));
  EXPECT_FALSE(accepted("1:2:3:4:5:6:1.2.3.4"));
  IpAddr mapped = ip("::ffff:ff00:1");
  EXPECT_TRUE(ip_is_ipv6(mapped));
  EXPECT_FALSE(ip_is_ipv4(mapped));
}

TEST(IpAddrParse, RejectsOverlongText) {
  EXPECT_TRUE(accepted("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/128"));
  EXPECT_FALSE(accepted("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/0128"));
  EXPECT_FALSE(accepted(""));
}

TEST(IpAddrEquality, ComparesAddressAndPrefixWithoutMasking) {
  EXPECT_EQ(ip("10.0.0.0/32"), ip("10.0.0.0"));
  EXPECT_NE(ip("10.0.0.0/24"), ip("10.0.0.0"));
  EXPECT_NE(ip("10.0.0.1/24"), ip("10.0.0.0/24"));
  EXPECT_NE(ip("10.0.0.1/24"), ip("10.0.0.1/29"));
  EXPECT_NE(ip("127.0.0.1"), ip("::1"));
  EXPECT_EQ(ip("::1"), ip("0:0:0:0:0:0:0:1"));
}

TEST(IpAddrPrint, PrintsAddressWithPrefixAndRoundTrips) {
  EXPECT_EQ(to_string(ip("127.0.0.1")), "127.0.0.1/32");
  EXPECT_EQ(to_string(ip("127.0.0.1/8")), "127.0.0.1/8");
  EXPECT_EQ(to_string(ip("ffee::11")), "ffee::11/128");
  EXPECT_EQ(to_string(ip("ffee::/64")), "ffee::/64");
  EXPECT_EQ(to_string(ip("::")), "::/128");
  EXPECT_EQ(to_string(ip("1:0:0:2:0:0:0:3")), "1:0:0:2::3/128");
  EXPECT_EQ(to_string(ip("1:0:2:3:4:5:6:7")), "1:0:2:3:4:5:6:7/128");
  // Printed in hex, never as "::ffff:1.2.3.4", so that it parses back.
  EXPECT_EQ(to_string(ip("::ffff:102:304")), "::ffff:102:304/128");
  for (const char* s : {"10.1.2.3/17", "fe80::1:2/64", "::ffff:ff00:1", "1:2:3:4:5:6:7:8"})
    EXPECT_EQ(ip(to_string(ip(s))), ip(s)) << s;
}

TEST(IpAddrLoopback, IsTrueFor127Slash8AndColonColon1Only) {
  EXPECT_TRUE(ip_is_loopback(ip("127.0.0.2")));
  EXPECT_TRUE(ip_is_loopback(ip("127.255.0.0/8")));
  EXPECT_FALSE(ip_is_loopback(ip("127.255.200.200/0")));
  EXPECT_FALSE(ip_is_loopback(ip("127.0.0.1/7")));
  EXPECT_TRUE(ip_is_loopback(ip("::1")));
  EXPECT_FALSE(ip_is_loopback(ip("::1/127")));
  EXPECT_FALSE(ip_is_loopback(ip("::2")));
  EXPECT_FALSE(ip_is_loopback(ip("::ffff:7f00:1")));
}

TEST(IpAddrMulticast, IsTrueFor224Slash4AndFf00Slash8WhenTheRangeFitsInside) {
  EXPECT_TRUE(ip_is_multicast(ip("228.228.228.0")));
  EXPECT_TRUE(ip_is_multicast(ip("239.255.255.255")));
  EXPECT_TRUE(ip_is_multicast(ip("224.0.0.0/5")));
  EXPECT_TRUE(ip_is_multicast(ip("224.0.0.0/4")));
  EXPECT_FALSE(ip_is_multicast(ip("224.0.0.0/3")));
  EXPECT_FALSE(ip_is_multicast(ip("240.0.0.0")));
  EXPECT_FALSE(ip_is_multicast(ip("127.0.0.1/1")));
  EXPECT_TRUE(ip_is_multicast(ip("ff00::2")));
  EXPECT_TRUE(ip_is_multicast(ip("ff00::/9")));
  EXPECT_FALSE(ip_is_multicast(ip("ff00::/7")));
  EXPECT_FALSE(ip_is_multicast(ip("fe00::1")));
}

TEST(IpAddrInRange, ContainsWhenNetworkAndBroadcastLieInside) {
  EXPECT_TRUE(ip_is_in_range(ip("192.168.0.1/24"), ip("192.168.0.1/24")));
  EXPECT_TRUE(ip_is_in_range(ip("192.168.0.10"), ip("192.168.0.1/28")));
  EXPECT_FALSE(ip_is_in_range(ip("192.168.0.75"), ip("192.168.0.1/28")));
  EXPECT_TRUE(ip_is_in_range(ip("10.0.0.0"), ip("10.0.0.1/24")));
  EXPECT_FALSE(ip_is_in_range(ip("10.0.0.0"), ip("10.0.0.1/32")));
  EXPECT_FALSE(ip_is_in_range(ip("10.0.0.0/24"), ip("10.0.0.0/32")));
  EXPECT_TRUE(ip_is_in_range(ip("10.0.0.1/29"), ip("10.0.0.0/24")));
  EXPECT_FALSE(ip_is_in_range(ip("10.0.0.1/24"), ip("10.0.0.0/29")));
  EXPECT_TRUE(ip_is_in_range(ip("0.0.0.0/0"), ip("255.0.0.0/0")));
  EXPECT_TRUE(ip_is_in_range(ip("1:2:3:ffff::"), ip("1:2:3:4::/48")));
  EXPECT_FALSE(ip_is_in_range(ip("1:2:3:ffff::"), ip("1:2:3:4::/52")));
  EXPECT_TRUE(ip_is_in_range(ip("1:2:3:4::"), ip("1:2:3:4::")));
}

TEST(IpAddrInRange, IsFalseAcrossAddressFamilies) {
  EXPECT_FALSE(ip_is_in_range(ip("192.168.0.1"), ip("1:2:3:4::/48")));
  EXPECT_FALSE(ip_is_in_range(ip("::1"), ip("0.0.0.0/0")));
  EXPECT_FALSE(ip_is_in_range(ip("::ffff:a00:1"), ip("10.0.0.0/8")));
}

TEST(IpAddrDispatch, ConstructorParsesAStringArgument) {
  std::vector<Value> args{Value("10.0.0.1")};
  auto r = call_extension_function("ip", args);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok());
  EXPECT_EQ((*r)->as_ipaddr(), ip("10.0.0.1"));
}

TEST(IpAddrDispatch, ConstructorFailureIsAnExtensionError) {
  std::vector<Value> args{Value("10.0.0.300")};
  auto r = call_extension_function("ip", args);
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->error().code, "extension_error");
}

TEST(IpAddrDispatch, ConstructorRejectsNonStringsAndWrongArity) {
  std::vector<Value> number{Value(1)};
  EXPECT_EQ(call_extension_function("ip", number)->error().code, "type_error");
  std::vector<Value> two{Value("10.0.0.1"), Value("10.0.0.2")};
  EXPECT_EQ(call_extension_function("ip", two)->error().code, "type_error");
  EXPECT_EQ(call_extension_function("ip", {})->error().code, "type_error");
}

TEST(IpAddrDispatch, MethodsApplyToIpReceivers) {
  Value loop(ip("127.0.0.1"));
  EXPECT_TRUE(call_extension_method("isLoopback", loop, {})->value().as_bool());
  EXPECT_TRUE(call_extension_method("isIpv4", loop, {})->value().as_bool());
  EXPECT_FALSE(call_extension_method("isIpv6", loop, {})->value().as_bool());
  EXPECT_FALSE(call_extension_method("isMulticast", loop, {})->value().as_bool());
  std::vector<Value> range{Value(ip("127.0.0.0/8"))};
  EXPECT_TRUE(call_extension_method("isInRange", loop, range)->value().as_bool());
}

TEST(IpAddrDispatch, StringReceiverIsATypeErrorThatSuggestsTheConstructor) {
  auto r = call_extension_method("isLoopback", Value("127.0.0.1"), {});
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->error().code, "type_error");
  EXPECT_NE(r->error().message.find("`ip` constructor"), std::string::npos);
}

TEST(IpAddrDispatch, WrongArgumentTypeOrArityIsATypeError) {
  Value loop(ip("127.0.0.1"));
  std::vector<Value> str{Value("127.0.0.0/8")};
  EXPECT_EQ(call_extension_method("isInRange", loop, str)->error().code, "type_error");
  EXPECT_EQ(call_extension_method("isInRange", loop, {})->error().code, "type_error");
  EXPECT_EQ(call_extension_method("isLoopback", loop, str)->error().code, "type_error");
}

TEST(ExtensionDispatch, UnknownNamesAreNotExtensions) {
  EXPECT_FALSE(call_extension_function("isLoopback", {}).has_value());
  EXPECT_FALSE(call_extension_method("ip", Value(ip("::1")), {}).has_value());
  EXPECT_FALSE(call_extension_method("contains", Value(1), {}).has_value());
  EXPECT_TRUE(is_extension_function("duration"));
  EXPECT_FALSE(is_extension_function("offset"));
  EXPECT_TRUE(is_extension_method("toMilliseconds"));
  EXPECT_FALSE(is_extension_method("datetime"));
}

TEST(ExtensionDispatch, MakeExtensionValueBuildsFromJsonConstructorAndArgument) {
  auto v = make_extension_value("ip", "10.0.0.0/8");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_ipaddr(), ip("10.0.0.0/8"));
  EXPECT_EQ(make_extension_value("ip", "nope").error().code, "extension_error");
  EXPECT_EQ(make_extension_value("offset", "1d").error().code, "extension_error");
}

}  // namespace
}  // namespace ztgate::cedar
