#include "authn/token_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace ztgate::authn {
namespace {

struct Identity {
  std::string sub;
};

using Cache = TokenCache<Identity>;

std::shared_ptr<const Identity> id(std::string sub) {
  return std::make_shared<const Identity>(Identity{std::move(sub)});
}

constexpr int64_t kNow = 1'800'000'000;

std::string tok(int i) {
  std::string s = "tok";
  s += std::to_string(i);
  return s;
}

TEST(TokenCache, ReturnsTheVerifiedValueForTheSameTokenOnly) {
  Cache cache;
  cache.insert("tok-a", id("alice"), kNow + 100, kNow);
  auto hit = cache.find("tok-a", kNow);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->sub, "alice");
  EXPECT_EQ(cache.find("tok-b", kNow), nullptr);
  EXPECT_EQ(cache.find("tok-", kNow), nullptr);
}

TEST(TokenCache, EntryExpiresAtTheTokenExpNeverAfter) {
  Cache cache;
  cache.insert("tok", id("alice"), kNow + 10, kNow);
  EXPECT_NE(cache.find("tok", kNow + 9), nullptr);
  EXPECT_EQ(cache.find("tok", kNow + 10), nullptr);
  EXPECT_EQ(cache.find("tok", kNow + 9), nullptr) << "an expired entry is dropped, not revived";
}

TEST(TokenCache, EntryExpiresAtMaxTtlWhenTheTokenLivesLonger) {
  Cache cache({.max_ttl_s = 30});
  cache.insert("tok", id("alice"), kNow + 3600, kNow);
  EXPECT_NE(cache.find("tok", kNow + 29), nullptr);
  EXPECT_EQ(cache.find("tok", kNow + 30), nullptr);
}

TEST(TokenCache, AlreadyExpiredOrOversizedTokensAreNotCached) {
  Cache cache({.max_token_bytes = 64});
  cache.insert("expired", id("alice"), kNow, kNow);
  cache.insert("older", id("alice"), kNow - 1, kNow);
  cache.insert(std::string(65, 't'), id("alice"), kNow + 100, kNow);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.find(std::string(65, 't'), kNow), nullptr);
}

TEST(TokenCache, ReinsertReplacesTheValueAndExpiry) {
  Cache cache;
  cache.insert("tok", id("alice"), kNow + 100, kNow);
  cache.insert("tok", id("alice2"), kNow + 5, kNow);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("tok", kNow)->sub, "alice2");
  EXPECT_EQ(cache.find("tok", kNow + 5), nullptr);
}

TEST(TokenCache, BoundHoldsAndLeastRecentlyUsedIsEvicted) {
  Cache cache({.max_entries = 8, .shards = 1});
  for (int i = 0; i < 8; ++i) cache.insert(tok(i), id("u"), kNow + 100, kNow);
  ASSERT_NE(cache.find("tok0", kNow), nullptr);  // tok0 is now the most recently used
  cache.insert("tok8", id("u"), kNow + 100, kNow);
  EXPECT_EQ(cache.size(), 8u);
  EXPECT_NE(cache.find("tok0", kNow), nullptr);
  EXPECT_EQ(cache.find("tok1", kNow), nullptr) << "the least recently used entry goes first";
  EXPECT_NE(cache.find("tok8", kNow), nullptr);
}

TEST(TokenCache, BoundHoldsAcrossShardsUnderManyInserts) {
  Cache cache({.max_entries = 100, .shards = 16});
  EXPECT_LE(cache.capacity(), 100u);
  for (int i = 0; i < 10'000; ++i) cache.insert(tok(i), id("u"), kNow + 100, kNow);
  EXPECT_LE(cache.size(), 100u);
  EXPECT_GT(cache.size(), 0u);
}

TEST(TokenCache, HashCollisionNeverReturnsAnotherTokensIdentity) {
  Cache cache({}, [](std::string_view) { return uint64_t{42}; });  // every token collides
  cache.insert("alice-token", id("alice"), kNow + 100, kNow);
  EXPECT_EQ(cache.find("mallory-token", kNow), nullptr);
  cache.insert("mallory-token", id("mallory"), kNow + 100, kNow);
  EXPECT_EQ(cache.find("alice-token", kNow)->sub, "alice");
  EXPECT_EQ(cache.find("mallory-token", kNow)->sub, "mallory");
}

TEST(TokenCache, EvictionUnderCollisionsKeepsTheIndexConsistent) {
  Cache cache({.max_entries = 2, .shards = 1}, [](std::string_view) { return uint64_t{7}; });
  cache.insert("a", id("a"), kNow + 100, kNow);
  cache.insert("b", id("b"), kNow + 100, kNow);
  cache.insert("c", id("c"), kNow + 100, kNow);  // evicts "a"
  EXPECT_EQ(cache.find("a", kNow), nullptr);
  EXPECT_EQ(cache.find("b", kNow)->sub, "b");
  EXPECT_EQ(cache.find("c", kNow)->sub, "c");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(TokenCache, ClearDropsEverythingForKeyRotation) {
  Cache cache;
  cache.insert("tok", id("alice"), kNow + 100, kNow);
  cache.clear();
  EXPECT_EQ(cache.find("tok", kNow), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, TokenHashDependsOnEveryByte) {
  std::string token(1024, 'x');
  uint64_t base = token_hash(token);
  EXPECT_EQ(token_hash(token), base);
  for (size_t i : {size_t{0}, size_t{7}, size_t{31}, size_t{500}, size_t{1023}}) {
    std::string changed = token;
    changed[i] = 'y';
    EXPECT_NE(token_hash(changed), base) << "byte " << i;
  }
  EXPECT_NE(token_hash(token.substr(0, 1023)), base);
}

TEST(TokenCache, ConcurrentFindsAndInsertsStayConsistent) {
  Cache cache({.max_entries = 64, .shards = 4});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        std::string token = tok((i * 7 + t) % 200);
        if (auto hit = cache.find(token, kNow)) {
          if (hit->sub != token) ++wrong;
        } else {
          cache.insert(token, id(token), kNow + 100, kNow);
        }
        if (i % 5000 == 0 && t == 0) cache.clear();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace ztgate::authn
