// The HTTPS client's checks that need no server: URL acceptance and the
// failures before any TLS byte is exchanged. Real TLS is exercised in
// tests/integration/jwks_https_itest.cpp.
#include "net/https_client.h"

#include <gtest/gtest.h>

namespace ztgate::net {
namespace {

TEST(HttpsUrlTest, AcceptsHttpsUrlsAndSplitsThem) {
  auto u = parse_https_url("https://Login.Example.com:8443/a/b?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "login.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b?x=1");
  auto bare = parse_https_url("https://idp.example");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 443);
  EXPECT_EQ(bare->target, "/");
  auto query = parse_https_url("https://idp.example?x");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->target, "/?x");
  auto v6 = parse_https_url("https://[::1]:9/k");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9);
}

TEST(HttpsUrlTest, RefusesEverythingElse) {
  for (const char* bad :
       {"http://idp.example/", "ftp://x", "idp.example", "https://", "https://user:pw@idp.example/",
        "https://idp.example/#frag", "https://idp.example:0/", "https://idp.example:65536/",
        "https://idp.example:/", "https://idp.example:44a/", "https://idp .example/",
        "https://idp.example/\x01", "https://idp.example/\xc3\xa9", "https://[::1/",
        "https://[abc]/", "https://idp_example/", "https://[::1]x/"}) {
    auto u = parse_https_url(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.error().code, "net_bad_url") << bad;
  }
  EXPECT_FALSE(parse_https_url("https://idp.example/" + std::string(kMaxUrlBytes, 'a')).ok());
}

TEST(HttpsGetTest, PlainHttpIsRefusedBeforeAnyConnection) {
  auto r = https_get("http://127.0.0.1:1/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "net_bad_url");
}

TEST(HttpsGetTest, ClosedPortIsAConnectError) {
  // Port 1 on loopback is closed on any sane test machine: connect is refused.
  auto r = https_get("https://127.0.0.1:1/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "net_connect") << r.error().message;
}

TEST(HttpsGetTest, UnreadableCaFileIsATlsError) {
  HttpsClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  auto r = https_get("https://127.0.0.1:1/", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "net_tls");
}

}  // namespace
}  // namespace ztgate::net
