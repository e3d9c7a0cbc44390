// Schema version 3 (commit groups and posting lists instead of per-record
// indexes): every search returns exactly what a version 2 store and a plain
// scan return, page by page, across groups of every size and after
// retention pruned part of a group; a key collision or a list naming a
// pruned record never changes an answer; check_index() finds every edit of
// the index that could hide a record from a search; the posting lists'
// decoder refuses malformed bytes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "audit/postings.h"
#include "audit/store.h"
#include "old_store_schemas.h"
#include "store/sqlite.h"

namespace ztgate::audit {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kPrincipals = {"User::\"alice\"", "User::\"bob\"", "User::\"carol\"", "User::\"dave\"",
                                              "Service::\"batch\"", ""};
const std::vector<std::string> kAgents = {"", "", "Agent::\"helper\"", "Agent::\"coder\"", "Agent::\"x\""};
const std::vector<std::string> kActions = {"invoke_model", "call_tool", "retrieve", "evaluate"};
const std::vector<std::string> kResources = {"Model::\"gpt\"", "Model::\"claude\"", "Tool::\"shell\"",
                                             "Tool::\"search\"", "Document::\"d1\"", "Host::\"api\""};
const std::vector<std::string> kDecisions = {"allow", "allow", "allow", "deny", "error"};
const std::vector<std::string> kFindings = {"", "", "", "secret.api_key", "pii.email", "secret.api_key pii.email"};
const std::vector<std::string> kRoutes = {"/v1/chat/completions", "/access/v1/evaluation"};

// Seeded records whose times wander (not in seq order within a group).
std::vector<StoredRecord> random_records(uint64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
  std::vector<StoredRecord> out;
  for (uint64_t seq = 1; seq <= count; ++seq) {
    StoredRecord r;
    r.seq = seq;
    r.event.time_ms = 1'700'000'000'000 + static_cast<int64_t>(seq) * 10 + static_cast<int64_t>(rng() % 200) - 100;
    r.event.request_id = "req-" + std::to_string(seq % 997);  // some repeat
    r.event.route = pick(kRoutes);
    r.event.principal = pick(kPrincipals);
    r.event.agent = pick(kAgents);
    r.event.action = pick(kActions);
    r.event.resource = pick(kResources);
    r.event.decision = pick(kDecisions);
    r.event.findings = pick(kFindings);
    r.text = "{\"seq\":" + std::to_string(seq) + "}";
    out.push_back(std::move(r));
  }
  return out;
}

// Group sizes as the trail makes them: lone sync records up to full groups.
const std::vector<size_t> kGroupSizes = {1, 1, 2, 7, 64, 1, 300, 33, 1000, 5, 1, 129};

class StoreV3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ztgate-store-v3-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const char* name = "audit.db") const { return (dir_ / name).string(); }

  void sql(const std::string& file, const std::string& statement) {
    auto db = store::Db::open(file);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(statement)) << statement;
  }
  int64_t scalar(const std::string& file, const std::string& query) {
    auto db = store::Db::open(file);
    EXPECT_TRUE(db);
    if (!db) return -1;
    auto st = db->prepare(query);
    EXPECT_TRUE(st) << query;
    if (!st) return -1;
    auto row = st->step();
    return row && *row ? st->int64(0) : -1;
  }

  // Appends `all` in kGroupSizes' groups, in turn.
  static void append_in_groups(AuditStore& store, const std::vector<StoredRecord>& all) {
    size_t at = 0, turn = 0;
    while (at < all.size()) {
      size_t n = std::min(kGroupSizes[turn++ % kGroupSizes.size()], all.size() - at);
      std::vector<StoredRecord> group(all.begin() + static_cast<std::ptrdiff_t>(at),
                                      all.begin() + static_cast<std::ptrdiff_t>(at + n));
      ASSERT_TRUE(store.append(group, {}));
      at += n;
    }
  }

  // Every page of a search: (seqs, next) per page.
  static std::vector<std::pair<std::vector<uint64_t>, uint64_t>> pages(AuditStore& store, Query q) {
    std::vector<std::pair<std::vector<uint64_t>, uint64_t>> out;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = store.query(q);
      EXPECT_TRUE(page) << page.error().message;
      if (!page) break;
      std::vector<uint64_t> seqs;
      for (const auto& r : page->records) seqs.push_back(r.seq);
      out.emplace_back(std::move(seqs), page->next.value_or(0));
      if (!page->next) break;
      (q.newest_first ? q.before_seq : q.after_seq) = *page->next;
    }
    return out;
  }

  // What a plain scan of `all` finds (seq ascending), the first `first` seq on.
  static std::vector<uint64_t> scan(const std::vector<StoredRecord>& all, const Query& q, uint64_t first = 1) {
    std::vector<uint64_t> out;
    for (const auto& r : all) {
      const Event& e = r.event;
      if (r.seq < first) continue;
      if (!q.principal.empty() && e.principal != q.principal) continue;
      if (!q.agent.empty() && e.agent != q.agent) continue;
      if (!q.action.empty() && e.action != q.action) continue;
      if (!q.resource.empty() && e.resource != q.resource) continue;
      if (!q.decision.empty() && e.decision != q.decision) continue;
      if (!q.route.empty() && e.route != q.route) continue;
      if (!q.request_id.empty() && e.request_id != q.request_id) continue;
      if (!q.finding.empty() && (" " + e.findings + " ").find(" " + q.finding + " ") == std::string::npos) continue;
      if (q.since_ms && e.time_ms < *q.since_ms) continue;
      if (q.until_ms && e.time_ms >= *q.until_ms) continue;
      out.push_back(r.seq);
    }
    return out;
  }

  // The queries compared: every single filter value, combinations, time
  // ranges (alone and with filters), findings, routes, request ids.
  static std::vector<Query> queries() {
    std::vector<Query> out;
    out.emplace_back();  // no filter
    auto each = [&](const std::vector<std::string>& values, std::string Query::*member) {
      for (const auto& v : values) {
        if (v.empty()) continue;
        Query q;
        q.*member = v;
        out.push_back(q);
      }
    };
    each(kPrincipals, &Query::principal);
    each(kAgents, &Query::agent);
    each(kActions, &Query::action);
    each(kResources, &Query::resource);
    each(kDecisions, &Query::decision);
    each(kRoutes, &Query::route);
    each({"secret.api_key", "pii.email", "pii"}, &Query::finding);
    each({"req-5", "req-996"}, &Query::request_id);
    Query nobody;
    nobody.principal = "User::\"nobody\"";
    out.push_back(nobody);
    Query combined;
    combined.principal = "User::\"bob\"";
    combined.resource = "Tool::\"shell\"";
    combined.decision = "deny";
    out.push_back(combined);
    Query agent_action;
    agent_action.agent = "Agent::\"coder\"";
    agent_action.action = "call_tool";
    agent_action.finding = "secret.api_key";
    out.push_back(agent_action);
    Query window;
    window.since_ms = 1'700'000'000'000 + 3'000;
    window.until_ms = 1'700'000'000'000 + 9'000;
    out.push_back(window);
    window.principal = "User::\"carol\"";
    out.push_back(window);
    Query since;
    since.since_ms = 1'700'000'000'000 + 20'000;
    since.decision = "error";
    out.push_back(since);
    Query until;
    until.until_ms = 1'700'000'000'000 + 500;
    out.push_back(until);
    Query empty_window;
    empty_window.since_ms = 1'800'000'000'000;
    out.push_back(empty_window);
    return out;
  }

  // Every query in both orders and several page sizes: the same pages from
  // both stores, and the scan's records.
  void expect_same_answers(AuditStore& v2, AuditStore& v3, const std::vector<StoredRecord>& all,
                           uint64_t first = 1) {
    for (Query q : queries()) {
      const std::vector<uint64_t> want = scan(all, q, first);
      for (bool newest_first : {false, true}) {
        for (size_t limit : {size_t{1}, size_t{7}, size_t{1000}}) {
          if (limit == 1 && want.size() > 300) continue;  // as many pages: quick enough without
          q.newest_first = newest_first;
          q.limit = limit;
          q.after_seq = q.before_seq = 0;
          auto old_pages = pages(v2, q);
          auto new_pages = pages(v3, q);
          EXPECT_EQ(old_pages, new_pages) << "principal=" << q.principal << " agent=" << q.agent
                                          << " action=" << q.action << " resource=" << q.resource
                                          << " decision=" << q.decision << " finding=" << q.finding
                                          << " newest_first=" << newest_first << " limit=" << limit;
          std::vector<uint64_t> got;
          for (const auto& p : new_pages) got.insert(got.end(), p.first.begin(), p.first.end());
          if (newest_first) std::reverse(got.begin(), got.end());
          EXPECT_EQ(got, want) << "principal=" << q.principal << " decision=" << q.decision
                               << " newest_first=" << newest_first << " limit=" << limit;
        }
      }
    }
  }

  std::unique_ptr<AuditStore> open_v2() {
    sql(path("v2.db"), kVersion2Schema);
    auto store = AuditStore::open(path("v2.db"));
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<AuditStore> open_v3(bool read_only = false) {
    auto store = AuditStore::open(path(), read_only);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  fs::path dir_;
};

TEST_F(StoreV3Test, ANewStoreIsVersion3WithOneListPerValuePerGroup) {
  auto store = open_v3();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), 3);
  std::vector<StoredRecord> all = random_records(500, 1);
  ASSERT_TRUE(store->append(all, {}));
  EXPECT_EQ(scalar(path(), "SELECT value FROM meta WHERE key = 'schema_version'"), 3);
  EXPECT_EQ(scalar(path(), "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'records'"), 0);
  EXPECT_EQ(scalar(path(), "SELECT count(*) FROM record_groups"), 1);
  // One list per distinct non-empty value of the five fields.
  EXPECT_EQ(scalar(path(), "SELECT count(*) FROM postings"), 5 + 3 + 4 + 6 + 3);
  EXPECT_EQ(scalar(path(), "SELECT count(*) FROM postings WHERE field = 5"), 3);
  auto problems = store->check_index(10);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty());
}

TEST_F(StoreV3Test, EverySearchFindsWhatAVersion2StoreAndAPlainScanFind) {
  const std::vector<StoredRecord> all = random_records(3000, 7);
  auto v2 = open_v2();
  auto v3 = open_v3();
  ASSERT_TRUE(v2 && v3);
  ASSERT_EQ(v2->schema_version(), 2);
  append_in_groups(*v2, all);
  append_in_groups(*v3, all);
  ASSERT_GT(scalar(path(), "SELECT count(*) FROM record_groups"), 20);
  expect_same_answers(*v2, *v3, all);
  auto reader = open_v3(/*read_only=*/true);
  ASSERT_TRUE(reader);
  expect_same_answers(*v2, *reader, all);
  // Retention's question, answered from the groups.
  for (int64_t t : {int64_t{0}, int64_t{1'700'000'000'000 + 5'000}, int64_t{1'700'000'000'000 + 15'555},
                    int64_t{1'800'000'000'000}})
    EXPECT_EQ(*v3->last_seq_before(t), *v2->last_seq_before(t)) << t;
}

TEST_F(StoreV3Test, AfterPruningPartOfAGroupSearchesStillAgreeAndTheIndexChecksClean) {
  const std::vector<StoredRecord> all = random_records(1500, 11);
  auto v2 = open_v2();
  auto v3 = open_v3();
  ASSERT_TRUE(v2 && v3);
  append_in_groups(*v2, all);
  append_in_groups(*v3, all);
  // Seq 500 is inside the 1000-record group (records 410-1409).
  Archive a;
  a.first_seq = 1;
  a.last_seq = 500;
  a.path = path("segment.jsonl");
  ASSERT_TRUE(v2->prune(a));
  ASSERT_TRUE(v3->prune(a));
  EXPECT_EQ(scalar(path(), "SELECT min(first_seq) FROM record_groups"), 410);
  EXPECT_EQ(scalar(path(), "SELECT count(*) FROM postings WHERE first_seq < 410"), 0);
  expect_same_answers(*v2, *v3, all, 501);
  auto problems = v3->check_index(10);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << problems->front().message;
}

TEST_F(StoreV3Test, AKeyCollisionNeverChangesAnAnswer) {
  const std::vector<StoredRecord> all = random_records(200, 3);
  {
    auto store = open_v3();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->append(all, {}));
  }
  // As if every value of the group shared alice's key: her list names every
  // record, and a search for her must drop the others on the text.
  std::string every(1, '\0');
  every.append(all.size() - 1, '\1');
  {
    auto db = store::Db::open(path());
    ASSERT_TRUE(db);
    auto st = db->prepare(
        "UPDATE postings SET seqs = ?1 WHERE field = 1 AND key = (SELECT key FROM postings WHERE field = 1 AND "
        "length(seqs) = (SELECT max(length(seqs)) FROM postings WHERE field = 1))");
    ASSERT_TRUE(st);
    st->bind_blob(1, every);
    ASSERT_TRUE(st->run());
  }
  auto store = open_v3(/*read_only=*/true);
  ASSERT_TRUE(store);
  for (const auto& p : kPrincipals) {
    if (p.empty()) continue;
    Query q;
    q.principal = p;
    q.newest_first = false;
    q.limit = 1000;
    auto page = store->query(q);
    ASSERT_TRUE(page);
    std::vector<uint64_t> got;
    for (const auto& r : page->records) got.push_back(r.seq);
    EXPECT_EQ(got, scan(all, q)) << p;
  }
}

// check_index() names each edit of the index that could hide a record.
TEST_F(StoreV3Test, EditsOfTheIndexAreFound) {
  const std::vector<StoredRecord> all = random_records(600, 5);
  struct Edit {
    const char* what;
    const char* statement;
  };
  const Edit edits[] = {
      {"a list deleted", "DELETE FROM postings WHERE field = 1 AND first_seq = 1 AND key = "
                         "(SELECT min(key) FROM postings WHERE field = 1 AND first_seq = 1)"},
      {"a seq dropped from a list", "UPDATE postings SET seqs = substr(seqs, 1, length(seqs) - 1) "
                                    "WHERE field = 5 AND first_seq = 1 AND length(seqs) > 3"},
      {"a list moved to another value", "UPDATE postings SET key = key + 1 WHERE field = 3 AND first_seq = 1 AND "
                                        "key = (SELECT min(key) FROM postings WHERE field = 3 AND first_seq = 1)"},
      {"a list forged", "INSERT INTO postings(field, key, first_seq, seqs) VALUES(2, 12345, 1, x'0001')"},
      {"a malformed list", "UPDATE postings SET seqs = x'ff' WHERE field = 4 AND first_seq = 1"},
      {"a group's time range narrowed", "UPDATE record_groups SET max_time_ms = min_time_ms WHERE first_seq = 1"},
      {"a group deleted", "DELETE FROM record_groups WHERE first_seq = 1"},
      {"a group shortened", "UPDATE record_groups SET last_seq = last_seq - 1 WHERE first_seq = 1"},
      {"a list of no group", "INSERT INTO postings(field, key, first_seq, seqs) VALUES(1, 1, 99999, x'00')"},
  };
  for (const auto& edit : edits) {
    fs::remove(path());
    {
      auto store = open_v3();
      ASSERT_TRUE(store);
      ASSERT_TRUE(store->append(std::vector<StoredRecord>(all.begin(), all.begin() + 400), {}));
      ASSERT_TRUE(store->append(std::vector<StoredRecord>(all.begin() + 400, all.end()), {}));
      auto clean = store->check_index(10);
      ASSERT_TRUE(clean);
      ASSERT_TRUE(clean->empty()) << clean->front().message;
    }
    sql(path(), edit.statement);
    auto store = open_v3(/*read_only=*/true);
    ASSERT_TRUE(store);
    auto problems = store->check_index(10);
    ASSERT_TRUE(problems) << edit.what;
    EXPECT_FALSE(problems->empty()) << edit.what;
  }
}

TEST_F(StoreV3Test, AMalformedListFailsTheSearchClosed) {
  {
    auto store = open_v3();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->append(random_records(50, 9), {}));
  }
  sql(path(), "UPDATE postings SET seqs = x'80' WHERE field = 1");
  auto store = open_v3(true);
  ASSERT_TRUE(store);
  Query q;
  q.principal = "User::\"alice\"";
  auto page = store->query(q);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, "audit_store");
}

TEST(PostingsTest, ListsRoundTripAndMalformedBytesAreRefused) {
  PostingBuilder b;
  b.start(100);
  Event e;
  e.principal = "User::\"alice\"";
  e.decision = "allow";
  for (uint64_t s : {100, 101, 250, 100000}) b.add(s, e, 42);
  e.principal = "User::\"bob\"";
  b.add(100001, e, 42);
  auto lists = b.finish();
  ASSERT_EQ(lists.size(), 3u);  // alice, bob, allow
  std::vector<uint64_t> seqs;
  for (const auto& p : lists) {
    ASSERT_TRUE(decode_postings(p.seqs, 100, seqs));
    if (p.field == IndexedField::decision) {
      EXPECT_EQ(seqs, (std::vector<uint64_t>{100, 101, 250, 100000, 100001}));
    } else if (p.key == index_key(42, "User::\"bob\"")) {
      EXPECT_EQ(seqs, std::vector<uint64_t>{100001});
    } else {
      EXPECT_EQ(seqs, (std::vector<uint64_t>{100, 101, 250, 100000}));
    }
  }
  EXPECT_TRUE(decode_postings("", 1, seqs));
  EXPECT_TRUE(seqs.empty());
  EXPECT_FALSE(decode_postings("\x80", 1, seqs));                     // truncated
  EXPECT_FALSE(decode_postings(std::string("\x01\x00", 2), 1, seqs));  // a zero gap after the first
  EXPECT_FALSE(decode_postings(std::string(11, '\xff') + '\x01', 1, seqs));  // longer than 10 bytes
  EXPECT_FALSE(decode_postings(std::string(9, '\xff') + '\x01', 2, seqs));   // past 2^63 - 1
  std::string longest(kMaxPostingBytes, '\x01');
  longest[0] = '\0';
  EXPECT_TRUE(decode_postings(longest, 1, seqs));
  EXPECT_EQ(seqs.size(), kMaxPostingBytes);
  longest.push_back('\x01');
  EXPECT_FALSE(decode_postings(longest, 1, seqs));  // longer than any group's list
}

}  // namespace
}  // namespace ztgate::audit
