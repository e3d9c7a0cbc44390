// egress/zones.h: host patterns (exact, *.suffix, *, CIDR) and zones.
#include <gtest/gtest.h>

#include "egress/zones.h"

namespace ztgate::egress {
namespace {

Host host(std::string_view raw) { return *canonical_host(raw); }
HostPattern pattern(std::string_view text) {
  auto p = parse_host_pattern(text);
  EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().message);
  return p ? *p : HostPattern{};
}

TEST(ZonesTest, PatternsMatchCanonicalHosts) {
  EXPECT_TRUE(pattern("API.openai.com.").matches(host("api.openai.com")));
  EXPECT_FALSE(pattern("api.openai.com").matches(host("evil-api.openai.com")));
  EXPECT_TRUE(pattern("*.example.com").matches(host("a.b.example.com")));
  EXPECT_FALSE(pattern("*.example.com").matches(host("example.com")));
  EXPECT_FALSE(pattern("*.example.com").matches(host("badexample.com")));
  EXPECT_TRUE(pattern("*").matches(host("anything.test")));
  EXPECT_TRUE(pattern("*").matches(host("10.0.0.1")));
  EXPECT_TRUE(pattern("10.0.0.0/8").matches(host("0x0a.1")));
  EXPECT_FALSE(pattern("10.0.0.0/8").matches(host("ten.example")));
  EXPECT_TRUE(pattern("192.0.2.7").matches(host("3221225991")));
  EXPECT_TRUE(pattern("2001:db8::/32").matches(host("[2001:db8::5]")));
}

TEST(ZonesTest, BadPatternsAreRefused) {
  for (const char* bad : {"", "*.", "a.*.com", "**.com", "*example.com", "10.0.0.1/8", "*.10.0.0.1", "exa mple.com"})
    EXPECT_FALSE(parse_host_pattern(bad)) << bad;
}

TEST(ZonesTest, ZonesOfAHostInOrder) {
  ZoneMap zones;
  ASSERT_TRUE(zones.add("llm", {pattern("api.openai.com"), pattern("*.anthropic.com")}));
  ASSERT_TRUE(zones.add("public", {pattern("*")}));
  ASSERT_TRUE(zones.add("lab", {pattern("10.20.0.0/16")}));
  EXPECT_EQ(zones.zones_of(host("API.OPENAI.COM")), (std::vector<std::string>{"llm", "public"}));
  EXPECT_EQ(zones.zones_of(host("10.20.1.1")), (std::vector<std::string>{"public", "lab"}));
  EXPECT_FALSE(zones.add("llm", {}));
  EXPECT_FALSE(zones.add("bad zone", {}));
  EXPECT_FALSE(zones.add("", {}));
}

}  // namespace
}  // namespace ztgate::egress
