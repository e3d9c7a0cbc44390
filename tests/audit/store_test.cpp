// The audit store's schema versions and its WAL: a new store is version 3
// (store_v3_test.cpp tests it further), a version 2 store indexes the
// searched fields by integer keys and compares the text too (a key
// collision never changes an answer), a version 1 store (text indexes) is
// still read and appended to, a newer version is refused, and the log stays
// bounded while checkpoints run in the background.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "audit/store.h"
#include "old_store_schemas.h"
#include "store/sqlite.h"

namespace ztgate::audit {
namespace {

namespace fs = std::filesystem;

// Record i: alice on odd i, bob on even; an agent on every third; actions
// and resources in turn; a finding on every fifth.
StoredRecord record(uint64_t seq, size_t text_bytes = 64) {
  StoredRecord r;
  r.seq = seq;
  r.event.time_ms = 1'700'000'000'000 + static_cast<int64_t>(seq);
  r.event.request_id = "req-" + std::to_string(seq);
  r.event.route = "/v1/chat/completions";
  r.event.principal = seq % 2 ? "User::\"alice\"" : "User::\"bob\"";
  r.event.agent = seq % 3 == 0 ? "Agent::\"helper\"" : "";
  r.event.action = seq % 2 ? "invoke_model" : "call_tool";
  r.event.resource = seq % 4 == 0 ? "Tool::\"shell\"" : "Model::\"gpt\"";
  r.event.decision = seq % 7 == 0 ? "deny" : "allow";
  r.event.findings = seq % 5 == 0 ? "secret.api_key pii.email" : "";
  r.text = "{\"seq\":" + std::to_string(seq) + ",\"pad\":\"" + std::string(text_bytes, 'x') + "\"}";
  return r;
}

std::vector<StoredRecord> records(uint64_t first, uint64_t count, size_t text_bytes = 64) {
  std::vector<StoredRecord> out;
  for (uint64_t s = first; s < first + count; ++s) out.push_back(record(s, text_bytes));
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ztgate-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path() const { return (dir_ / "audit.db").string(); }

  // Raw SQL on the store file.
  void sql(const std::string& statement) {
    auto db = store::Db::open(path());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(statement)) << statement;
  }
  int64_t scalar(const std::string& query) {
    auto db = store::Db::open(path());
    EXPECT_TRUE(db);
    if (!db) return -1;
    auto st = db->prepare(query);
    EXPECT_TRUE(st) << query;
    if (!st) return -1;
    auto row = st->step();
    return row && *row ? st->int64(0) : -1;
  }

  // The seqs a search returns, oldest first (every page).
  std::vector<uint64_t> search(AuditStore& store, Query q) {
    std::vector<uint64_t> out;
    q.newest_first = false;
    q.limit = 7;
    while (true) {
      auto page = store.query(q);
      EXPECT_TRUE(page) << page.error().message;
      if (!page) return out;
      for (const auto& r : page->records) out.push_back(r.seq);
      if (!page->next) return out;
      q.after_seq = *page->next;
    }
  }

  // What each filter finds among records 1..n, checked against the rule
  // record() follows.
  void expect_every_filter_works(AuditStore& store, uint64_t n) {
    auto expect = [&](const Query& q, auto&& match) {
      std::vector<uint64_t> want;
      for (uint64_t s = 1; s <= n; ++s)
        if (match(s)) want.push_back(s);
      EXPECT_EQ(search(store, q), want);
    };
    Query principal;
    principal.principal = "User::\"alice\"";
    expect(principal, [](uint64_t s) { return s % 2 == 1; });
    Query agent;
    agent.agent = "Agent::\"helper\"";
    expect(agent, [](uint64_t s) { return s % 3 == 0; });
    Query action;
    action.action = "call_tool";
    expect(action, [](uint64_t s) { return s % 2 == 0; });
    Query resource;
    resource.resource = "Tool::\"shell\"";
    expect(resource, [](uint64_t s) { return s % 4 == 0; });
    Query combined;
    combined.principal = "User::\"bob\"";
    combined.resource = "Model::\"gpt\"";
    combined.decision = "deny";
    expect(combined, [](uint64_t s) { return s % 2 == 0 && s % 4 != 0 && s % 7 == 0; });
    Query finding;
    finding.finding = "pii.email";
    expect(finding, [](uint64_t s) { return s % 5 == 0; });
    Query nobody;
    nobody.agent = "Agent::\"nobody\"";
    expect(nobody, [](uint64_t) { return false; });
  }

  fs::path dir_;
};

TEST_F(StoreTest, ANewStoreIsVersion3AndEveryFilterFindsWhatItShould) {
  auto store = AuditStore::open(path());
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->append(records(1, 30), {}));
  ASSERT_TRUE((*store)->append(records(31, 30), {}));
  EXPECT_EQ(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM record_groups"), 2);
  expect_every_filter_works(**store, 60);
  auto reader = AuditStore::open(path(), /*read_only=*/true);
  ASSERT_TRUE(reader);
  expect_every_filter_works(**reader, 60);
}

TEST_F(StoreTest, AVersion2StoreIndexesIntegerKeysAndEveryFilterFindsWhatItShould) {
  sql(kVersion2Schema);
  auto store = AuditStore::open(path());
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->append(records(1, 60), {}));
  EXPECT_EQ(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM records WHERE principal_key <> 0 AND action_key <> 0"), 60);
  EXPECT_EQ(scalar("SELECT count(*) FROM records WHERE agent_key <> 0"), 20);
  expect_every_filter_works(**store, 60);
  auto reader = AuditStore::open(path(), /*read_only=*/true);
  ASSERT_TRUE(reader);
  expect_every_filter_works(**reader, 60);
}

TEST_F(StoreTest, AKeyCollisionNeverChangesAnAnswerInAVersion2Store) {
  sql(kVersion2Schema);
  {
    auto store = AuditStore::open(path());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->append(records(1, 40), {}));
  }
  // As if bob's key were alice's: a search for alice reads bob's records
  // through the index too, and must drop them on the text.
  sql("UPDATE records SET principal_key = (SELECT principal_key FROM records WHERE seq = 1) "
      "WHERE principal = 'User::\"bob\"'");
  ASSERT_EQ(scalar("SELECT count(DISTINCT principal_key) FROM records"), 1);
  auto store = AuditStore::open(path(), /*read_only=*/true);
  ASSERT_TRUE(store);
  Query q;
  q.principal = "User::\"alice\"";
  std::vector<uint64_t> want;
  for (uint64_t s = 1; s <= 40; s += 2) want.push_back(s);
  EXPECT_EQ(search(**store, q), want);
}

TEST_F(StoreTest, AVersion1StoreIsStillReadAndAppendedTo) {
  sql(kVersion1Schema);
  {
    auto store = AuditStore::open(path());
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ((*store)->chain_uid(), "00112233445566778899aabbccddeeff");
    ASSERT_TRUE((*store)->append(records(1, 30), {}));
    ASSERT_TRUE((*store)->append(records(31, 30), {}));
    expect_every_filter_works(**store, 60);
  }
  // Still version 1: no key columns were added, no version was written.
  EXPECT_EQ(scalar("SELECT count(*) FROM pragma_table_info('records') WHERE name LIKE '%_key'"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM meta WHERE key = 'schema_version'"), 0);
  auto reader = AuditStore::open(path(), /*read_only=*/true);
  ASSERT_TRUE(reader);
  expect_every_filter_works(**reader, 60);
}

TEST_F(StoreTest, ANewerSchemaVersionIsRefused) {
  { ASSERT_TRUE(AuditStore::open(path())); }
  sql("UPDATE meta SET value = '4' WHERE key = 'schema_version'");
  auto store = AuditStore::open(path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, "audit_store");
  EXPECT_FALSE(AuditStore::open(path(), /*read_only=*/true));
}

TEST_F(StoreTest, ANewStoreGets32KiBPagesAndAnExistingOneKeepsItsOwn) {
  {
    auto store = AuditStore::open(path());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->append(records(1, 10), {}));
  }
  EXPECT_EQ(scalar("PRAGMA page_size"), 32768);
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  sql(kVersion1Schema);  // SQLite's default page size, as stores of older versions have
  const int64_t page = scalar("PRAGMA page_size");
  ASSERT_NE(page, 32768);
  {
    auto store = AuditStore::open(path());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->append(records(1, 10), {}));
  }
  EXPECT_EQ(scalar("PRAGMA page_size"), page);
  EXPECT_EQ(scalar("SELECT count(*) FROM records"), 10);
}

TEST_F(StoreTest, TheLogStaysBoundedWhileCheckpointsRunInTheBackground) {
  auto store = AuditStore::open(path());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->checkpoint_in_background(path()));
  // 160 MiB of records in groups of 2 MiB: the log starts over at the
  // latest once it holds 64 MiB.
  constexpr uint64_t kGroup = 128, kGroups = 80;
  constexpr size_t kText = 16 << 10;
  uintmax_t largest_log = 0;
  for (uint64_t g = 0; g < kGroups; ++g) {
    ASSERT_TRUE((*store)->append(records(1 + g * kGroup, kGroup, kText), {}));
    std::error_code ec;
    largest_log = std::max<uintmax_t>(largest_log, fs::file_size(path() + "-wal", ec));
  }
  EXPECT_LT(largest_log, uintmax_t{80} << 20);
  EXPECT_GT(fs::file_size(path()), uintmax_t{80} << 20);  // copied into the database file
  EXPECT_EQ(*(*store)->count(), kGroup * kGroups);
  auto last = (*store)->record(kGroup * kGroups);
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->text, record(kGroup * kGroups, kText).text);
}

}  // namespace
}  // namespace ztgate::audit
