#include "net/cache_control.h"

#include <gtest/gtest.h>

#include <string>

namespace ztgate::net {
namespace {

TEST(CacheControlTest, ReadsMaxAgeInTokenOrQuotedForm) {
  EXPECT_EQ(parse_cache_control("max-age=600").max_age, 600);
  EXPECT_EQ(parse_cache_control("public, MAX-AGE = \"120\" , must-revalidate").max_age, 120);
  EXPECT_FALSE(parse_cache_control("public").max_age.has_value());
  EXPECT_FALSE(parse_cache_control("").max_age.has_value());
}

TEST(CacheControlTest, MalformedMaxAgeIsIgnored) {
  for (const char* bad : {"max-age=", "max-age=-5", "max-age=1e3", "max-age=12x", "max-age",
                          "max-age=\"", "max-age=0x10"})
    EXPECT_FALSE(parse_cache_control(bad).max_age.has_value()) << bad;
}

TEST(CacheControlTest, SmallestOfRepeatedMaxAgeWins) {
  EXPECT_EQ(parse_cache_control("max-age=900, max-age=60").max_age, 60);
}

TEST(CacheControlTest, HugeValuesSaturate) {
  EXPECT_EQ(parse_cache_control("max-age=99999999999999999999999999").max_age, kMaxAgeCap);
}

TEST(CacheControlTest, NoStoreAndNoCacheAreReported) {
  EXPECT_TRUE(parse_cache_control("no-store").no_store);
  EXPECT_TRUE(parse_cache_control("private, No-Cache").no_store);
  EXPECT_TRUE(parse_cache_control("no-cache=\"set-cookie\"").no_store);
  EXPECT_FALSE(parse_cache_control("max-age=5").no_store);
}

TEST(CacheControlTest, OversizedHeaderIsIgnored) {
  std::string text = "max-age=5," + std::string(kMaxCacheControlBytes, ' ');
  EXPECT_FALSE(parse_cache_control(text).max_age.has_value());
}

}  // namespace
}  // namespace ztgate::net
