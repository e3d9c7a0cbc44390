// egress/host.h: one canonical form per destination host, whatever the
// spelling (case, dots, percent-encoding, every IP literal form).
#include <gtest/gtest.h>

#include "egress/host.h"

namespace ztgate::egress {
namespace {

std::string canon(std::string_view raw) {
  auto h = canonical_host(raw);
  return h ? h->text : "error:" + h.error().code;
}

TEST(HostTest, NamesAreLowercaseWithoutTrailingDots) {
  EXPECT_EQ(canon("API.Example.COM"), "api.example.com");
  EXPECT_EQ(canon("example.com."), "example.com");
  EXPECT_EQ(canon("example.com..."), "example.com");
  EXPECT_EQ(canon("xn--bcher-kva.example"), "xn--bcher-kva.example");  // punycode as is
  EXPECT_EQ(canon("a-b.c1"), "a-b.c1");
  EXPECT_EQ(canonical_host("example.com")->kind, Host::Kind::kName);
}

TEST(HostTest, NamesThatAreNotLdhAreRefused) {
  for (const char* bad : {"", ".", "-a.com", "a-.com", "a..b", "a_b.com", "exa mple.com", "bücher.example",
                          "a.com/evil", "a.com\\b", "a.com?", "*.a.com"})
    EXPECT_EQ(canon(bad), "error:destination_invalid") << bad;
  EXPECT_EQ(canon(std::string(64, 'a') + ".com"), "error:destination_invalid");  // label > 63
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  long_name += "com";
  EXPECT_EQ(canon(long_name), "error:destination_invalid");  // > 253
  EXPECT_EQ(canon(std::string(2000, 'a')), "error:destination_invalid");
}

TEST(HostTest, EveryIpv4SpellingIsOneAddress) {
  for (const char* form : {"127.0.0.1", "2130706433", "017700000001", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1",
                           "0x7F.0X0.0.1", "127.1", "127.0.1", "0x7f.1", "127.000.000.001", "127.0.0.1.",
                           "127.0.0.1..", "%31%32%37.0.0.1", "%31%32%37%2e%30%2e%30%2e%31"}) {
    auto h = canonical_host(form);
    ASSERT_TRUE(h) << form;
    EXPECT_EQ(h->kind, Host::Kind::kIpv4) << form;
    EXPECT_EQ(h->text, "127.0.0.1") << form;
  }
}

TEST(HostTest, HostsEndingInANumberThatAreNotAddressesAreRefused) {
  for (const char* bad : {"1.2.3.256", "1.2.3.4.5", "08.0.0.1", "foo.0x7f", "example.123", "0x7g.1", "4294967296"})
    EXPECT_EQ(canon(bad), "error:destination_invalid") << bad;
}

TEST(HostTest, Ipv6InEveryNotation) {
  EXPECT_EQ(canon("[::1]"), "::1");
  EXPECT_EQ(canon("::1"), "::1");
  EXPECT_EQ(canon("[0:0:0:0:0:0:0:1]"), "::1");
  EXPECT_EQ(canon("[2001:DB8:0:0::1]"), "2001:db8::1");
  EXPECT_EQ(canon("[fe80::1%25eth0]"), "fe80::1");
  EXPECT_EQ(canon("[fe80::1%eth0]"), "fe80::1");
  EXPECT_EQ(canon("fe80::1%25eth0"), "fe80::1");
  EXPECT_EQ(canon("[64:ff9b::127.0.0.1]"), "64:ff9b::7f00:1");
  EXPECT_EQ(canonical_host("[::1]")->kind, Host::Kind::kIpv6);
  EXPECT_EQ(canonical_host("[::1]")->authority_text(), "[::1]");
}

TEST(HostTest, Ipv4MappedIpv6IsItsIpv4Address) {
  for (const char* form : {"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]", "[::FFFF:7F00:0001]"}) {
    auto h = canonical_host(form);
    ASSERT_TRUE(h) << form;
    EXPECT_EQ(h->kind, Host::Kind::kIpv4) << form;
    EXPECT_EQ(h->text, "127.0.0.1") << form;
  }
}

TEST(HostTest, MalformedIpv6AndEncodingsAreRefused) {
  for (const char* bad : {"[::1", "[::ffff:0177.0.0.1]", "[::ffff:127.1]", "[1::2::3]", "[fe80::1%]", "[fe80::1%25]",
                          "[fe80::1%25e/th0]", "[::1]x", "%", "%zz.com", "%2", "%2531%2e0%2e0%2e1", "a%00.com",
                          "%5b::1%5d%2f", "[%3a%3a1]"})
    EXPECT_EQ(canon(bad), "error:destination_invalid") << bad;
}

}  // namespace
}  // namespace ztgate::egress
