// The agents' MCP sessions: random ids bound to their owner (anyone else
// gets "no such session"), the idle timeout, the LRU bound on their number,
// and end() by the owner only.
#include "mcp/sessions.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace ztgate::mcp {
namespace {

using std::chrono::milliseconds;

TEST(Sessions, CreateThenFindByItsOwner) {
  Sessions s(10, milliseconds(60'000));
  std::string id = s.create("alice", "2025-06-18");
  EXPECT_EQ(id.size(), 32u);  // 128 bits as hex
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  auto found = s.find(id, "alice");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->owner, "alice");
  EXPECT_EQ(found->protocol_version, "2025-06-18");
  EXPECT_EQ(s.size(), 1u);
}

TEST(Sessions, IdsAreUnique) {
  Sessions s(1000, milliseconds(60'000));
  std::set<std::string> ids;
  for (int i = 0; i < 500; ++i) ids.insert(s.create("alice", "2025-06-18"));
  EXPECT_EQ(ids.size(), 500u);
}

TEST(Sessions, AnotherOwnerOrAnUnknownIdFindsNothing) {
  Sessions s(10, milliseconds(60'000));
  std::string id = s.create("alice", "2025-06-18");
  EXPECT_FALSE(s.find(id, "mallory"));
  EXPECT_FALSE(s.find(id, ""));
  EXPECT_FALSE(s.find("0123456789abcdef0123456789abcdef", "alice"));
  EXPECT_FALSE(s.find("", "alice"));
  // The owner still has it: a stranger's attempt does not end it.
  EXPECT_TRUE(s.find(id, "alice"));
}

TEST(Sessions, AnIdleSessionExpires) {
  Sessions s(10, milliseconds(400));
  std::string idle = s.create("alice", "2025-06-18");
  std::string used = s.create("bob", "2025-06-18");
  // Using a session keeps it alive past the timeout counted from creation.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_TRUE(s.find(used, "bob")) << i;
  }
  EXPECT_FALSE(s.find(idle, "alice"));
  EXPECT_TRUE(s.find(used, "bob"));
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_FALSE(s.find(used, "bob"));
  EXPECT_EQ(s.size(), 0u);  // both were dropped when found expired
}

TEST(Sessions, ExpiredSessionsAreDroppedWhenOthersAreCreated) {
  Sessions s(10, milliseconds(300));
  for (int i = 0; i < 5; ++i) s.create("alice", "2025-06-18");
  EXPECT_EQ(s.size(), 5u);
  std::this_thread::sleep_for(milliseconds(500));
  s.create("bob", "2025-06-18");
  EXPECT_EQ(s.size(), 1u);
}

TEST(Sessions, TheLeastRecentlyUsedGoFirstAtTheBound) {
  Sessions s(3, milliseconds(60'000));
  std::string a = s.create("u", "v");
  std::string b = s.create("u", "v");
  std::string c = s.create("u", "v");
  ASSERT_TRUE(s.find(a, "u"));  // a is now the most recently used; b the least
  std::string d = s.create("u", "v");
  EXPECT_EQ(s.size(), 3u);
  EXPECT_FALSE(s.find(b, "u"));
  EXPECT_TRUE(s.find(a, "u"));
  EXPECT_TRUE(s.find(c, "u"));
  EXPECT_TRUE(s.find(d, "u"));
  // Order now (most recent first): d c a; creating two more drops a, then c.
  std::string e = s.create("u", "v");
  EXPECT_FALSE(s.find(a, "u"));
  std::string f = s.create("u", "v");
  EXPECT_FALSE(s.find(c, "u"));
  EXPECT_TRUE(s.find(d, "u"));
  EXPECT_TRUE(s.find(e, "u"));
  EXPECT_TRUE(s.find(f, "u"));
  EXPECT_EQ(s.size(), 3u);
}

TEST(Sessions, AFailedOwnerCheckDoesNotRefreshTheSession) {
  Sessions s(2, milliseconds(60'000));
  std::string a = s.create("alice", "v");
  std::string b = s.create("bob", "v");
  EXPECT_FALSE(s.find(a, "mallory"));  // must not make a the most recently used
  s.create("carol", "v");
  EXPECT_FALSE(s.find(a, "alice"));
  EXPECT_TRUE(s.find(b, "bob"));
}

TEST(Sessions, EndIsForTheOwnerOnly) {
  Sessions s(10, milliseconds(60'000));
  std::string id = s.create("alice", "2025-06-18");
  EXPECT_FALSE(s.end(id, "mallory"));
  EXPECT_TRUE(s.find(id, "alice"));
  EXPECT_TRUE(s.end(id, "alice"));
  EXPECT_FALSE(s.find(id, "alice"));
  EXPECT_FALSE(s.end(id, "alice"));  // once
  EXPECT_FALSE(s.end("no-such-session", "alice"));
  EXPECT_EQ(s.size(), 0u);
}

TEST(Sessions, ConcurrentUseIsSafe) {
  Sessions s(64, milliseconds(60'000));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&s, t] {
      std::string owner = "owner" + std::to_string(t);
      for (int i = 0; i < 500; ++i) {
        std::string id = s.create(owner, "v");
        if (auto found = s.find(id, owner)) {
          EXPECT_EQ(found->owner, owner);
        }
        EXPECT_FALSE(s.find(id, "someone else"));
        if (i % 3 == 0) s.end(id, owner);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_LE(s.size(), 64u);
}

}  // namespace
}  // namespace ztgate::mcp
