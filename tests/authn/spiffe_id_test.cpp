// SPIFFE ID parsing per the SPIFFE-ID standard §2: what is accepted, what is
// refused, and that accepted IDs round-trip byte for byte.
#include "authn/spiffe_id.h"

#include <gtest/gtest.h>

namespace ztgate::authn {
namespace {

TEST(SpiffeId, ParsesTrustDomainAndPath) {
  auto id = parse_spiffe_id("spiffe://example.org/ns/prod/sa/billing");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->trust_domain, "example.org");
  EXPECT_EQ(id->path, "/ns/prod/sa/billing");
  auto bare = parse_spiffe_id("spiffe://my_td-1.example");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "");
  auto mixed = parse_spiffe_id("spiffe://td/Upper.Case-path_1/...");
  ASSERT_TRUE(mixed) << mixed.error().message;  // "..." is a name, not a dot segment
}

TEST(SpiffeId, AcceptedIdsReserializeIdentically) {
  for (const char* text : {"spiffe://a", "spiffe://example.org/x", "spiffe://1.2.3.4/a/b/c", "spiffe://td/.a/a."}) {
    auto id = parse_spiffe_id(text);
    ASSERT_TRUE(id) << text;
    EXPECT_EQ(id->to_string(), text);
  }
}

TEST(SpiffeId, RefusesEverythingTheStandardForbids) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"SPIFFE://example.org/a", "lowercase 'spiffe'"},
      {"Spiffe://example.org/a", "lowercase 'spiffe'"},
      {"https://example.org/a", "spiffe://"},
      {"spiffe:example.org/a", "spiffe://"},
      {"spiffe://", "trust domain is empty"},
      {"spiffe:///a", "trust domain is empty"},
      {"spiffe://Example.org/a", "lowercase"},
      {"spiffe://user@example.org/a", "userinfo"},
      {"spiffe://example.org:8443/a", "port"},
      {"spiffe://example.org?x=1", "query"},
      {"spiffe://example.org/a?x=1", "query"},
      {"spiffe://example.org/a#frag", "fragment"},
      {"spiffe://example.org/", "end with '/'"},
      {"spiffe://example.org/a/", "end with '/'"},
      {"spiffe://example.org//a", "empty segment"},
      {"spiffe://example.org/a/./b", "'.' or '..'"},
      {"spiffe://example.org/a/..", "'.' or '..'"},
      {"spiffe://example.org/a%2Fb", "percent-encoding"},
      {"spiffe://example.org/a b", "path segments may only"},
      {"spiffe://exa mple.org/a", "trust domain may only"},
      {std::string("spiffe://example.org/a\0b", 24), "path segments may only"},
      {"spiffe://example.org/caf\xc3\xa9", "path segments may only"},
      {"spiffe://" + std::string(256, 'a'), "255"},
      {"spiffe://td/" + std::string(2040, 'a'), "2048"},
  };
  for (const auto& [text, reason] : cases) {
    auto id = parse_spiffe_id(text);
    ASSERT_FALSE(id) << text;
    EXPECT_EQ(id.error().code, "spiffe_invalid") << text;
    EXPECT_NE(id.error().message.find(reason), std::string::npos) << text << " -> " << id.error().message;
  }
}

TEST(SpiffeId, LengthBoundsAreInclusive) {
  EXPECT_TRUE(parse_spiffe_id("spiffe://" + std::string(kMaxTrustDomainBytes, 'a')));
  std::string longest = "spiffe://td/" + std::string(kMaxSpiffeIdBytes - 12, 'a');
  ASSERT_EQ(longest.size(), kMaxSpiffeIdBytes);
  EXPECT_TRUE(parse_spiffe_id(longest));
}

}  // namespace
}  // namespace ztgate::authn
