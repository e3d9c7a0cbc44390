// egress/destination.h: CONNECT authority-form, absolute-form and URLs,
// with the confusions clients and attackers use refused.
#include <gtest/gtest.h>

#include "egress/destination.h"

namespace ztgate::egress {
namespace {

TEST(DestinationTest, ConnectTargetIsHostAndPort) {
  auto d = parse_connect_target("API.example.com.:443");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->scheme, "tunnel");
  EXPECT_EQ(d->host.text, "api.example.com");
  EXPECT_EQ(d->port, 443);
  EXPECT_EQ(d->target, "");
  auto v6 = parse_connect_target("[2001:db8::1]:8443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host.text, "2001:db8::1");
  EXPECT_EQ(v6->authority(), "[2001:db8::1]:8443");
  EXPECT_EQ(parse_connect_target("0x7f.1:22")->host.text, "127.0.0.1");
}

TEST(DestinationTest, ConnectTargetRefusesWhatIsNotHostPort) {
  for (const char* bad : {"example.com", "example.com:", "example.com:0", "example.com:65536", "example.com:+443",
                          "example.com:44a", "2001:db8::1:443", "http://example.com:443", "user@example.com:443",
                          ":443", "[::1]443", "example.com:443 ", "example.com:443/x"})
    EXPECT_FALSE(parse_connect_target(bad)) << bad;
}

TEST(DestinationTest, AbsoluteTargetGivesTheOriginFormAndAuthority) {
  auto d = parse_absolute_target("HTTP://Example.COM/a/b?c=d");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->scheme, "http");
  EXPECT_EQ(d->host.text, "example.com");
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->target, "/a/b?c=d");
  EXPECT_EQ(d->authority(), "example.com");
  EXPECT_EQ(parse_absolute_target("http://example.com")->target, "/");
  EXPECT_EQ(parse_absolute_target("http://example.com?q")->target, "/?q");
  auto p = parse_absolute_target("http://127.1:8080/x");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->authority(), "127.0.0.1:8080");
  EXPECT_EQ(p->to_string(), "http://127.0.0.1:8080/x");
}

TEST(DestinationTest, AbsoluteTargetRefusesConfusions) {
  for (const char* bad : {"/relative", "https://example.com/", "ftp://example.com/", "http://user@127.0.0.1/",
                          "http://allowed.com@evil.com/", "http://example.com/#frag", "http:///path", "http://",
                          "http://exa mple.com/", "http://example.com:/", "http://[::1/", "example.com/path",
                          "http://a.com\\@b.com/"})
    EXPECT_FALSE(parse_absolute_target(bad)) << bad;
}

TEST(DestinationTest, UrlsAcceptHttps) {
  auto d = parse_url("https://mcp.example.com/mcp");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->scheme, "https");
  EXPECT_EQ(d->port, 443);
  EXPECT_EQ(d->authority(), "mcp.example.com");
  EXPECT_EQ(parse_url("https://mcp.example.com:8443/")->authority(), "mcp.example.com:8443");
  EXPECT_FALSE(parse_url("wss://mcp.example.com/"));
}

TEST(DestinationTest, TargetsAreBounded) {
  EXPECT_FALSE(parse_absolute_target("http://example.com/" + std::string(9000, 'a')));
  EXPECT_FALSE(parse_connect_target(std::string(9000, 'a') + ":443"));
}

}  // namespace
}  // namespace ztgate::egress
