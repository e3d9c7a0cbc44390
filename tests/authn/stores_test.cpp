// JIT grants and revocations through SQLite, as two processes see them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "authn/grants.h"
#include "authn/revocation.h"

namespace ztgate::authn {
namespace {

constexpr int64_t kNow = 1'900'000'000;

class StoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-stores-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(store::ensure_private_dir(dir_.string()));
    path_ = (dir_ / "identity.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Identity approver(std::string id, std::vector<std::string> groups) {
    Identity i;
    i.principal = {"User", std::move(id)};
    i.groups = std::move(groups);
    return i;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoresTest, GrantsNeedAnApproverGroupAReasonAndABoundedDuration) {
  auto store = GrantStore::open(path_);
  ASSERT_TRUE(store) << store.error().message;
  GrantRules rules{{"secops"}, 3600, {}};
  GrantRequest req{{"Agent", "build-bot"}, *ScopeSet::parse("mail:send"), 1800, "incident 123"};
  auto nobody = (*store)->create(approver("eve", {"engineering"}), req, rules, kNow);
  EXPECT_EQ(nobody.error().code, "grant_forbidden");
  GrantRequest self{{"User", "sam"}, *ScopeSet::parse("mail:send"), 60, "me"};
  EXPECT_EQ((*store)->create(approver("sam", {"secops"}), self, rules, kNow).error().code, "grant_forbidden");
  GrantRequest too_long = req;
  too_long.duration_s = 7200;
  EXPECT_EQ((*store)->create(approver("sam", {"secops"}), too_long, rules, kNow).error().code, "grant_invalid");
  GrantRequest no_reason = req;
  no_reason.reason.clear();
  EXPECT_EQ((*store)->create(approver("sam", {"secops"}), no_reason, rules, kNow).error().code, "grant_invalid");

  auto grant = (*store)->create(approver("sam", {"secops"}), req, rules, kNow);
  ASSERT_TRUE(grant) << grant.error().message;
  EXPECT_EQ(grant->expires_at, kNow + 1800);
  EXPECT_EQ((*store)->active_scopes({"Agent", "build-bot"}, kNow + 10)->to_string(), "mail:send");
  EXPECT_TRUE((*store)->active_scopes({"Agent", "other"}, kNow + 10)->empty());
  // Expires by itself.
  EXPECT_TRUE((*store)->active_scopes({"Agent", "build-bot"}, kNow + 1800)->empty());
  auto listed = (*store)->list(true, kNow);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].approver.to_cedar(), "User::\"sam\"");
  EXPECT_EQ((*listed)[0].reason, "incident 123");
}

TEST_F(StoresTest, AGrantRevokedByAnotherConnectionEndsOnTheNextLookup) {
  auto gateway = GrantStore::open(path_);
  auto cli = GrantStore::open(path_);
  ASSERT_TRUE(gateway && cli);
  GrantRules rules{{"secops"}, 3600, {}};
  auto grant = (*cli)->create(approver("sam", {"secops"}),
                              {{"User", "alice"}, *ScopeSet::parse("repo:read"), 600, "review"}, rules, kNow);
  ASSERT_TRUE(grant);
  EXPECT_EQ((*gateway)->active_scopes({"User", "alice"}, kNow)->to_string(), "repo:read");
  ASSERT_TRUE((*cli)->revoke(grant->id, kNow + 1));
  EXPECT_TRUE((*gateway)->active_scopes({"User", "alice"}, kNow + 2)->empty());
  EXPECT_EQ((*cli)->revoke(grant->id, kNow + 3).error().code, "grant_invalid");
}

TEST_F(StoresTest, RevocationsWrittenByOneProcessReachTheOtherAtOnce) {
  auto gateway = RevocationStore::open(path_);
  auto cli = RevocationStore::open(path_);
  ASSERT_TRUE(gateway && cli);
  Delegation d;
  d.user = {"User", "alice"};
  d.chain = {"build-bot"};
  d.task = "t1";
  d.jti = "j1";
  d.iat = kNow;
  auto before = (*gateway)->snapshot();
  ASSERT_TRUE(before);
  EXPECT_FALSE((*before)->revokes(d));
  ASSERT_TRUE((*cli)->add({RevocationKind::kTask, "t1", kNow + 5, "compromised", "ops"}));
  auto after = (*gateway)->snapshot();
  ASSERT_TRUE(after);
  EXPECT_TRUE((*after)->revokes(d));
  // Unchanged database: the same snapshot, no re-read.
  EXPECT_EQ(after->get(), (*gateway)->snapshot()->get());
  EXPECT_FALSE((*cli)->add({RevocationKind::kJti, "", kNow, "", ""}));
}

TEST_F(StoresTest, PurgeDropsOnlyEntriesNoLiveTokenCanMatchAndKeepsTasks) {
  auto store = RevocationStore::open(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->add({RevocationKind::kJti, "old", kNow - 3600, "", ""}));
  ASSERT_TRUE((*store)->add({RevocationKind::kPrincipal, "Agent::\"a\"", kNow - 3600, "", ""}));
  ASSERT_TRUE((*store)->add({RevocationKind::kTask, "old-task", kNow - 3600, "", ""}));
  ASSERT_TRUE((*store)->add({RevocationKind::kJti, "recent", kNow - 60, "", ""}));
  auto dropped = (*store)->purge(kNow, 700);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, 2);
  auto list = (*store)->snapshot();
  ASSERT_TRUE(list);
  ASSERT_EQ((*list)->entries().size(), 2u);
  EXPECT_EQ((*list)->entries()[0].value, "old-task");
  EXPECT_EQ((*list)->entries()[1].value, "recent");
}

}  // namespace
}  // namespace ztgate::authn
