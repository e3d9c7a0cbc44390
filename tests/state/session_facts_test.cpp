// Session facts: they only grow (maximum rank, sticky untrusted flag, lists
// gain members), are bounded (lists, keys, LRU eviction, idle expiry), count
// calls in a sliding minute, and survive concurrent use.
#include "state/session_facts.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ztgate::state {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kT0 = 1'900'000'000'000;  // ms

Observation call(std::string tool, int rank = -1, std::string label = "", bool untrusted = false,
                 std::string destination = "") {
  Observation o;
  o.tool = std::move(tool);
  o.data_rank = rank;
  o.data_label = std::move(label);
  o.untrusted = untrusted;
  o.destination = std::move(destination);
  return o;
}

TEST(SessionFactsTest, UnknownKeyHasEmptyFacts) {
  auto store = make_memory_session_store(100, 1h);
  SessionFacts f = store->facts("task-1", kT0);
  EXPECT_EQ(f.data_rank, -1);
  EXPECT_EQ(f.data_label, "");
  EXPECT_FALSE(f.untrusted_seen);
  EXPECT_TRUE(f.tools_used.empty());
  EXPECT_EQ(f.calls, 0);
  EXPECT_EQ(f.started_ms, 0);
  EXPECT_FALSE(f.overflow);
}

TEST(SessionFactsTest, KeepsTheHighestRankAndItsLabel) {
  auto store = make_memory_session_store(100, 1h);
  store->observe("t", call("read_doc", 1, "internal"), kT0);
  store->observe("t", call("read_doc", 3, "confidential"), kT0 + 1);
  store->observe("t", call("read_doc", 2, "restricted-lower"), kT0 + 2);
  store->observe("t", call("search"), kT0 + 3);
  SessionFacts f = store->facts("t", kT0 + 4);
  EXPECT_EQ(f.data_rank, 3);
  EXPECT_EQ(f.data_label, "confidential");
  EXPECT_EQ(f.calls, 4);
  EXPECT_EQ(f.started_ms, kT0);
}

TEST(SessionFactsTest, UntrustedContentIsSticky) {
  auto store = make_memory_session_store(100, 1h);
  store->observe("t", call("fetch_web", -1, "", true), kT0);
  store->observe("t", call("summarize", -1, "", false), kT0 + 1);
  EXPECT_TRUE(store->facts("t", kT0 + 2).untrusted_seen);
  EXPECT_FALSE(store->facts("other", kT0 + 2).untrusted_seen);
}

TEST(SessionFactsTest, ToolsAndDestinationsAreSortedAndUnique) {
  auto store = make_memory_session_store(100, 1h);
  store->observe("t", call("send_email", -1, "", false, "mail.example.com"), kT0);
  store->observe("t", call("fetch", -1, "", false, "api.example.com"), kT0);
  store->observe("t", call("send_email", -1, "", false, "mail.example.com"), kT0);
  SessionFacts f = store->facts("t", kT0);
  EXPECT_EQ(f.tools_used, (std::vector<std::string>{"fetch", "send_email"}));
  EXPECT_EQ(f.destinations, (std::vector<std::string>{"api.example.com", "mail.example.com"}));
}

TEST(SessionFactsTest, ListsAreBoundedAndOverflowIsReported) {
  auto store = make_memory_session_store(100, 1h);
  for (size_t i = 0; i < kMaxListItems + 10; ++i)
    store->observe("t", call("tool-" + std::to_string(1000 + i), -1, "", false, "host-" + std::to_string(i)), kT0);
  SessionFacts f = store->facts("t", kT0);
  EXPECT_EQ(f.tools_used.size(), kMaxListItems);
  EXPECT_EQ(f.destinations.size(), kMaxListItems);
  EXPECT_TRUE(f.overflow);
  EXPECT_EQ(f.calls, static_cast<int64_t>(kMaxListItems + 10));
}

TEST(SessionFactsTest, OversizedItemsAreDroppedAsOverflow) {
  auto store = make_memory_session_store(100, 1h);
  store->observe("t", call(std::string(kMaxItemBytes + 1, 'x')), kT0);
  SessionFacts f = store->facts("t", kT0);
  EXPECT_TRUE(f.tools_used.empty());
  EXPECT_TRUE(f.overflow);
}

TEST(SessionFactsTest, EmptyOrOversizedKeysReadAsOverflow) {
  auto store = make_memory_session_store(100, 1h);
  std::string long_key(kMaxKeyBytes + 1, 'k');
  store->observe(long_key, call("x"), kT0);
  EXPECT_TRUE(store->facts(long_key, kT0).overflow);
  EXPECT_EQ(store->facts(long_key, kT0).calls, 0);
  EXPECT_TRUE(store->facts("", kT0).overflow);
}

TEST(SessionFactsTest, EvictsTheLeastRecentlyObservedSession) {
  auto store = make_memory_session_store(3, 1h);
  store->observe("a", call("x"), kT0);
  store->observe("b", call("x"), kT0 + 1);
  store->observe("c", call("x"), kT0 + 2);
  store->observe("a", call("y"), kT0 + 3);  // a is now the most recent
  store->observe("d", call("x"), kT0 + 4);  // evicts b
  EXPECT_EQ(store->facts("a", kT0 + 5).calls, 2);
  EXPECT_EQ(store->facts("b", kT0 + 5).calls, 0);
  EXPECT_EQ(store->facts("c", kT0 + 5).calls, 1);
  EXPECT_EQ(store->facts("d", kT0 + 5).calls, 1);
}

TEST(SessionFactsTest, ShardedStoreStaysWithinItsBound) {
  constexpr size_t kMax = 2048;
  auto store = make_memory_session_store(kMax, 1h);
  for (size_t i = 0; i < 4 * kMax; ++i) store->observe("key-" + std::to_string(i), call("x"), kT0);
  size_t kept = 0;
  for (size_t i = 0; i < 4 * kMax; ++i) kept += store->facts("key-" + std::to_string(i), kT0).calls > 0;
  EXPECT_LE(kept, kMax);
  EXPECT_GT(kept, kMax / 2);  // per-shard bounds: hashing is uneven, not lossy
  // The most recent keys survive.
  EXPECT_EQ(store->facts("key-" + std::to_string(4 * kMax - 1), kT0).calls, 1);
}

TEST(SessionFactsTest, IdleSessionsExpire) {
  auto store = make_memory_session_store(100, 10min);
  store->observe("t", call("x", 3, "confidential", true), kT0);
  EXPECT_EQ(store->facts("t", kT0 + 9 * 60'000).data_rank, 3);
  store->observe("t", call("y"), kT0 + 9 * 60'000);  // activity: idle time restarts
  EXPECT_EQ(store->facts("t", kT0 + 18 * 60'000).calls, 2);
  SessionFacts expired = store->facts("t", kT0 + 19 * 60'000);
  EXPECT_EQ(expired.calls, 0);
  EXPECT_EQ(expired.data_rank, -1);
  EXPECT_FALSE(expired.untrusted_seen);
  // A new call after expiry starts a fresh session.
  store->observe("t", call("z"), kT0 + 20 * 60'000);
  SessionFacts fresh = store->facts("t", kT0 + 20 * 60'000);
  EXPECT_EQ(fresh.calls, 1);
  EXPECT_EQ(fresh.tools_used, (std::vector<std::string>{"z"}));
  EXPECT_EQ(fresh.started_ms, kT0 + 20 * 60'000);
}

TEST(SessionFactsTest, ReadingDoesNotKeepASessionAlive) {
  auto store = make_memory_session_store(100, 10min);
  store->observe("t", call("x"), kT0);
  EXPECT_EQ(store->facts("t", kT0 + 9 * 60'000).calls, 1);
  EXPECT_EQ(store->facts("t", kT0 + 11 * 60'000).calls, 0);
}

TEST(SessionFactsTest, CallsLastMinuteSlides) {
  auto store = make_memory_session_store(100, 1h);
  for (int i = 0; i < 5; ++i) store->observe("t", call("x"), kT0 + i * 100);         // second 0
  for (int i = 0; i < 3; ++i) store->observe("t", call("x"), kT0 + 30'000 + i * 10);  // second 30
  EXPECT_EQ(store->facts("t", kT0 + 30'500).calls_last_minute, 8);
  EXPECT_EQ(store->facts("t", kT0 + 59'999).calls_last_minute, 8);
  EXPECT_EQ(store->facts("t", kT0 + 60'000).calls_last_minute, 3);  // second 0 left the window
  EXPECT_EQ(store->facts("t", kT0 + 90'000).calls_last_minute, 0);
  // A bucket reused a minute later starts from zero.
  store->observe("t", call("x"), kT0 + 120'000);
  EXPECT_EQ(store->facts("t", kT0 + 120'000).calls_last_minute, 1);
  EXPECT_EQ(store->facts("t", kT0 + 120'000).calls, 9);
}

TEST(SessionFactsTest, ContextIsCedarReadyJson) {
  auto store = make_memory_session_store(100, 1h);
  store->observe("t", call("send_email", 2, "confidential", true, "mail.example.com"), kT0);
  boost::json::object ctx = session_context(store->facts("t", kT0));
  EXPECT_EQ(boost::json::serialize(ctx),
            R"({"data_rank":2,"data_label":"confidential","untrusted_seen":true,"tools_used":["send_email"],)"
            R"("destinations":["mail.example.com"],"calls":1,"calls_last_minute":1,"overflow":false})");
}

TEST(SessionFactsTest, ConcurrentObserversLoseNoCalls) {
  auto store = make_memory_session_store(10'000, 1h);
  constexpr int kThreads = 8, kCalls = 2000, kKeys = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string key = "task-" + std::to_string(i % kKeys);
        store->observe(key, call("tool-" + std::to_string(t), t, "rank-" + std::to_string(t)), kT0 + i);
        (void)store->facts(key, kT0 + i);
      }
    });
  }
  for (auto& th : threads) th.join();
  int64_t total = 0;
  for (int k = 0; k < kKeys; ++k) {
    SessionFacts f = store->facts("task-" + std::to_string(k), kT0 + kCalls);
    total += f.calls;
    EXPECT_EQ(f.data_rank, kThreads - 1);
    EXPECT_EQ(f.tools_used.size(), static_cast<size_t>(kThreads));
  }
  EXPECT_EQ(total, int64_t{kThreads} * kCalls);
}

}  // namespace
}  // namespace ztgate::state
