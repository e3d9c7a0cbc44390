// The trail end to end in process: seal, commit, checkpoint, verify, and
// the tampering `audit verify` must catch (one byte changed, a record
// deleted, two swapped, the tail truncated, a checkpoint forged).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "audit/chain.h"
#include "audit/retention.h"
#include "audit/checkpoint.h"
#include "audit/store.h"
#include "audit/trail.h"
#include "audit/verify.h"
#include "authn/signing_key.h"
#include "store/sqlite.h"

namespace ztgate::audit {
namespace {

namespace fs = std::filesystem;

Event event_for(int i, std::string decision = "allow") {
  Event e;
  e.time_ms = 1'700'000'000'000 + i;
  e.request_id = "req-" + std::to_string(i);
  e.route = "/v1/chat/completions";
  e.principal = i % 2 ? "User::\"alice\"" : "User::\"bob\"";
  e.agent = i % 3 == 0 ? "Agent::\"helper\"" : "";
  e.action = "invoke_model";
  e.resource = "Model::\"gpt\"";
  e.decision = decision;
  e.findings = i % 5 == 0 ? "secret.api_key pii.email" : "";
  e.json = R"({"class_uid":6003,"metadata":{"uid":"req-)" + std::to_string(i) + R"("},"message":"hello \"world\""})";
  return e;
}

class TrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ztgate-trail-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TrailOptions options() {
    TrailOptions o;
    o.store_path = (dir_ / "audit.db").string();
    o.key_path = (dir_ / "audit-key.pem").string();
    o.public_key_path = (dir_ / "audit-key.jwk").string();
    o.checkpoint_every = 10;
    o.commit_interval = std::chrono::milliseconds(2);
    return o;
  }

  // Writes n records through a trail and closes it (final checkpoint).
  void write(int n, int start = 0) {
    auto trail = Trail::open(options());
    ASSERT_TRUE(trail) << trail.error().message;
    for (int i = start; i < start + n; ++i) {
      auto room = (*trail)->reserve();
      ASSERT_TRUE(room);
      (*trail)->append(std::move(*room), event_for(i));
    }
    ASSERT_TRUE((*trail)->flush(std::chrono::seconds(10)));
  }

  std::optional<CheckpointVerifier> key() {
    std::ifstream in(dir_ / "audit-key.jwk");
    std::string jwk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto v = CheckpointVerifier::from_jwk(jwk);
    EXPECT_TRUE(v) << (v ? "" : v.error().message);
    if (!v) return std::nullopt;
    return std::move(*v);
  }

  VerifyReport verify() {
    auto store = AuditStore::open((dir_ / "audit.db").string(), true);
    EXPECT_TRUE(store) << store.error().message;
    auto report = verify_store(**store, key());
    EXPECT_TRUE(report) << report.error().message;
    return *report;
  }

  // Raw SQL on the store, as an attacker with file access would.
  void sql(const std::string& statement) {
    auto db = store::Db::open((dir_ / "audit.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(statement)) << statement;
  }

  std::string text_of(uint64_t seq) {
    auto store = AuditStore::open((dir_ / "audit.db").string(), true);
    auto r = (*store)->record(seq);
    return r && *r ? (*r)->text : "";
  }

  static bool has(const VerifyReport& r, const std::string& kind, uint64_t seq) {
    for (const auto& p : r.problems)
      if (p.kind == kind && p.seq == seq) return true;
    return false;
  }

  static std::string describe(const VerifyReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.kind + "@" + std::to_string(p.seq) + ": " + p.message + "\n";
    return out;
  }

  fs::path dir_;
};

TEST(ChainTest, SealedRecordIsValidJsonAndUnsealsToItsFingerprint) {
  Digest prev = sha256("previous");
  Sealed s = seal(R"({"a":1,"b":"x"})", 7, prev, "chain-1", "kid-1");
  boost::system::error_code ec;
  auto doc = boost::json::parse(s.text, ec);
  ASSERT_FALSE(ec) << s.text;
  const auto& att = doc.at("attestation");
  EXPECT_EQ(att.at("uid"), "7");
  EXPECT_EQ(att.at("prev_event").at("uid"), "6");
  EXPECT_EQ(att.at("prev_event").at("fingerprint").at("value").as_string(), to_hex(prev));
  EXPECT_EQ(att.at("fingerprint").at("value").as_string(), to_hex(s.fingerprint));
  EXPECT_EQ(doc.at("a"), 1);
  auto u = unseal(s.text);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_TRUE(u->fingerprint_ok);
  EXPECT_EQ(u->seq, 7u);
  EXPECT_EQ(*u->prev, prev);
  EXPECT_EQ(u->chain_uid, "chain-1");
  EXPECT_EQ(u->fingerprint, s.fingerprint);
}

TEST(ChainTest, GenesisHasNoPredecessorAndAnyChangedByteIsCaught) {
  Sealed s = seal(R"({"a":"hello"})", 1, Digest{}, "c", "k");
  EXPECT_EQ(s.text.find("prev_event"), std::string::npos);
  for (size_t i = 0; i < s.text.size(); i += 7) {
    std::string t = s.text;
    t[i] = t[i] == 'x' ? 'y' : 'x';
    auto u = unseal(t);
    EXPECT_TRUE(!u || !u->fingerprint_ok || u->seq != 1) << "byte " << i << " changed unnoticed: " << t;
  }
}

TEST(ChainTest, EmptyEventObjectStillSeals) {
  Sealed s = seal("{}", 1, Digest{}, "c", "k");
  auto u = unseal(s.text);
  ASSERT_TRUE(u) << s.text;
  EXPECT_TRUE(u->fingerprint_ok);
}

TEST(CheckpointTest, SignedCheckpointVerifiesAndForgeryDoesNot) {
  auto key = authn::SigningKey::generate();
  ASSERT_TRUE(key);
  auto c = sign_checkpoint(*key, "chain", 42, sha256("head"), 1234);
  ASSERT_TRUE(c);
  auto v = CheckpointVerifier::from_jwk(key->public_jwk_json());
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->verify(*c));
  auto line = checkpoint_json_line(*c);
  auto back = parse_checkpoint_line(line);
  ASSERT_TRUE(back) << line;
  EXPECT_TRUE(v->verify(*back));
  Checkpoint forged = *c;
  forged.seq = 43;
  EXPECT_FALSE(v->verify(forged));
  forged = *c;
  forged.head = sha256("other");
  EXPECT_FALSE(v->verify(forged));
  auto other = authn::SigningKey::generate();
  auto by_other = sign_checkpoint(*other, "chain", 42, sha256("head"), 1234);
  EXPECT_FALSE(v->verify(*by_other));
}

TEST_F(TrailTest, RecordsAreChainedCheckpointedAndVerify) {
  write(95);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << describe(report);
  EXPECT_EQ(report.records, 95u);
  EXPECT_EQ(report.first_seq, 1u);
  EXPECT_EQ(report.last_seq, 95u);
  EXPECT_EQ(report.sealed_seq, 95u);  // the final checkpoint seals the tail
  EXPECT_GE(report.checkpoints, 9u);
}

TEST_F(TrailTest, ReopeningContinuesTheSequenceAndTheChain) {
  write(15);
  write(15, 15);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << describe(report);
  EXPECT_EQ(report.last_seq, 30u);
  auto store = AuditStore::open((dir_ / "audit.db").string(), true);
  auto page = (*store)->query(Query{});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->records.front().seq, 30u);
}

TEST_F(TrailTest, OneChangedByteIsNamed) {
  write(30);
  std::string t = text_of(12);
  size_t at = t.find("hello");
  ASSERT_NE(at, std::string::npos);
  sql("UPDATE records SET text = replace(text, 'hello', 'jello') WHERE seq = 12");
  auto report = verify();
  EXPECT_TRUE(has(report, "altered", 12)) << describe(report);
  EXPECT_TRUE(has(report, "checkpoint_mismatch", 20) || has(report, "altered", 12)) << describe(report);
}

TEST_F(TrailTest, ADeletedRecordIsNamed) {
  write(30);
  sql("DELETE FROM records WHERE seq = 17");
  auto report = verify();
  EXPECT_TRUE(has(report, "missing", 17)) << describe(report);
}

// The search index (schema version 3) is outside the chain: verify rebuilds
// it from the records and names an edit that would hide records from searches.
TEST_F(TrailTest, AnEditedSearchIndexIsNamed) {
  write(30);
  ASSERT_TRUE(verify().ok());
  sql("DELETE FROM postings WHERE field = 1 AND first_seq = (SELECT max(first_seq) FROM postings WHERE field = 1)");
  auto report = verify();
  bool named = false;
  for (const auto& p : report.problems) named = named || p.kind == "index_mismatch";
  EXPECT_TRUE(named) << describe(report);
  EXPECT_EQ(report.sealed_seq, 30u);  // the chain itself is intact
}

TEST_F(TrailTest, TwoSwappedRecordsAreNamed) {
  write(30);
  std::string a = text_of(5), b = text_of(6);
  sql("UPDATE records SET text = (SELECT text FROM records WHERE seq = 6) || '' WHERE seq = 5");
  auto db = store::Db::open((dir_ / "audit.db").string());
  auto st = db->prepare("UPDATE records SET text = ?1 WHERE seq = 6");
  st->bind(1, a);
  ASSERT_TRUE(st->run());
  auto report = verify();
  EXPECT_TRUE(has(report, "reordered", 5)) << describe(report);
  EXPECT_TRUE(has(report, "reordered", 6)) << describe(report);
}

TEST_F(TrailTest, ATruncatedTailIsNamed) {
  write(30);
  sql("DELETE FROM records WHERE seq > 24");
  auto report = verify();
  EXPECT_TRUE(has(report, "truncated", 30)) << describe(report);
  bool mentions = false;
  for (const auto& p : report.problems) mentions |= p.message.find("25 to 30") != std::string::npos;
  EXPECT_TRUE(mentions) << describe(report);
}

TEST_F(TrailTest, AForgedCheckpointIsNamed) {
  write(30);
  // A checkpoint whose head was replaced: the signature gives it away.
  sql("UPDATE checkpoints SET head = randomblob(32) WHERE seq = 20");
  auto report = verify();
  EXPECT_TRUE(has(report, "bad_signature", 20)) << describe(report);
  // A checkpoint signed by another key is named too.
  auto other = authn::SigningKey::generate();
  auto forged = sign_checkpoint(*other, "x", 10, sha256("y"), 1);
  auto db = store::Db::open((dir_ / "audit.db").string());
  auto st = db->prepare("UPDATE checkpoints SET key_id = ?1, signature = ?2 WHERE seq = 10");
  st->bind(1, forged->key_id).bind_blob(2, forged->signature);
  ASSERT_TRUE(st->run());
  report = verify();
  EXPECT_TRUE(has(report, "bad_signature", 10)) << describe(report);
}

TEST_F(TrailTest, ARewrittenRecordBreaksTheLinkOfItsSuccessor) {
  write(30);
  // The attacker recomputes record 12's fingerprint after changing it.
  std::string t = text_of(12);
  auto u = unseal(t);
  ASSERT_TRUE(u);
  size_t att = t.find(",\"attestation\":");
  std::string event = t.substr(0, att) + "}";
  event.replace(event.find("hello"), 5, "jello");
  auto prev = unseal(text_of(11));
  Sealed forged = seal(event, 12, prev->fingerprint, u->chain_uid, u->authority_uid);
  auto db = store::Db::open((dir_ / "audit.db").string());
  auto st = db->prepare("UPDATE records SET text = ?1 WHERE seq = 12");
  st->bind(1, forged.text);
  ASSERT_TRUE(st->run());
  auto report = verify();
  EXPECT_FALSE(has(report, "altered", 12)) << describe(report);
  EXPECT_TRUE(has(report, "broken_link", 13)) << describe(report);
}

TEST_F(TrailTest, OpeningRefusesATailThatDoesNotLink) {
  write(25);  // checkpoints at 10, 20, 25 (final)
  // As after a crash: records 21..25 not sealed yet; one of them is gone.
  sql("DELETE FROM checkpoints WHERE seq = 25");
  sql("DELETE FROM records WHERE seq = 22");
  auto trail = Trail::open(options());
  ASSERT_FALSE(trail);
  EXPECT_EQ(trail.error().code, "audit_chain_broken");
}

TEST_F(TrailTest, SyncTicketsResolveAfterCommitAndConcurrentAppendsStayOrdered) {
  auto trail = Trail::open(options());
  ASSERT_TRUE(trail);
  std::vector<std::thread> threads;
  std::atomic<int> durable{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto room = (*trail)->reserve();
        ASSERT_TRUE(room);
        auto ticket = (*trail)->append(std::move(*room), event_for(t * 1000 + i), /*urgent=*/i % 10 == 0);
        if (i % 10 == 0 && ticket->wait_for(std::chrono::seconds(10))) ++durable;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(durable.load(), 80);
  ASSERT_TRUE((*trail)->flush(std::chrono::seconds(10)));
  auto stats = (*trail)->stats();
  EXPECT_EQ(stats.committed, 800u);
  EXPECT_EQ(stats.last_seq, 800u);
  EXPECT_LT(stats.commits, 800u);  // grouped
  trail->reset();
  auto report = verify();
  EXPECT_TRUE(report.ok()) << describe(report);
}

TEST_F(TrailTest, AFullQueueRefusesReservations) {
  auto o = options();
  o.max_pending_records = 3;
  auto trail = Trail::open(o);
  ASSERT_TRUE(trail);
  auto a = (*trail)->reserve(), b = (*trail)->reserve(), c = (*trail)->reserve();
  ASSERT_TRUE(a && b && c);
  auto d = (*trail)->reserve();
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "audit_unavailable");
  { auto drop = std::move(*a); }  // an unused room is given back
  EXPECT_TRUE((*trail)->reserve());
  EXPECT_EQ((*trail)->stats().refused, 1u);
}

TEST_F(TrailTest, SearchFiltersAndPages) {
  write(40);
  auto store = AuditStore::open((dir_ / "audit.db").string(), true);
  Query q;
  q.principal = "User::\"alice\"";
  q.limit = 7;
  auto page = (*store)->query(q);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 7u);
  EXPECT_EQ(page->records.front().seq, 40u);  // record i+1 holds event i; odd i = alice
  for (const auto& r : page->records) EXPECT_EQ(r.event.principal, "User::\"alice\"");
  ASSERT_TRUE(page->next);
  q.before_seq = *page->next;
  auto next = (*store)->query(q);
  ASSERT_TRUE(next);
  EXPECT_LT(next->records.front().seq, page->records.back().seq);
  Query f;
  f.finding = "pii.email";
  f.newest_first = false;
  auto found = (*store)->query(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->records.size(), 8u);  // events 0, 5, ..., 35
  Query none;
  none.finding = "pii";  // categories match whole
  EXPECT_TRUE((*store)->query(none)->records.empty());
  Query hostile;
  hostile.principal = "' OR 1=1 --";
  EXPECT_TRUE((*store)->query(hostile)->records.empty());
}

TEST_F(TrailTest, RetentionArchivesSealedSegmentsThatVerifyOnTheirOwn) {
  write(95);  // checkpoints every 10 records, and at 95
  auto store = AuditStore::open((dir_ / "audit.db").string());
  ASSERT_TRUE(store);
  RetentionPolicy p;
  p.max_records = 50;
  p.archive_dir = (dir_ / "archive").string();
  auto a = apply_retention(**store, p, 1'800'000'000'000);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(*a);
  EXPECT_EQ((*a)->first_seq, 1u);
  EXPECT_EQ((*a)->last_seq, 40u);  // 45 is due; a segment ends on a checkpoint
  EXPECT_EQ(*(*store)->first_seq(), 41u);
  EXPECT_EQ(*(*store)->count(), 55u);
  store->reset();
  auto file = verify_file((*a)->path, key());
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_TRUE(file->ok()) << describe(*file);
  EXPECT_EQ(file->records, 40u);
  auto whole = verify();
  EXPECT_TRUE(whole.ok()) << describe(whole);
  EXPECT_EQ(whole.records, 95u);  // the archive and the store, one chain
  write(5, 95);                   // the trail continues after pruning
  EXPECT_TRUE(verify().ok());
  // A changed archive and a missing one are named.
  { std::ofstream(*a ? (*a)->path : "", std::ios::app) << "\n"; }
  EXPECT_TRUE(has(verify(), "archive_altered", 1));
  fs::remove((*a)->path);
  auto missing = verify();
  EXPECT_TRUE(has(missing, "archive_missing", 1)) << describe(missing);
  EXPECT_EQ(missing.problems.size(), 1u) << describe(missing);
}

TEST_F(TrailTest, RetentionNeverPassesASinksCursorOrAnUnsealedRecord) {
  auto o = options();
  o.checkpoint_every = 1000;  // only the final checkpoint, at 30
  {
    auto trail = Trail::open(o);
    ASSERT_TRUE(trail);
    for (int i = 0; i < 30; ++i) (*trail)->append({}, event_for(i));
  }
  auto store = AuditStore::open((dir_ / "audit.db").string());
  ASSERT_TRUE((*store)->set_cursor("syslog:siem", 12));
  RetentionPolicy p;
  p.max_records = 5;
  p.archive_dir = (dir_ / "archive").string();
  std::string held;
  auto a = apply_retention(**store, p, 0, &held);
  ASSERT_TRUE(a);
  EXPECT_FALSE(*a);  // 12 is not on a checkpoint: nothing can go yet
  EXPECT_NE(held.find("syslog:siem"), std::string::npos) << held;
  ASSERT_TRUE((*store)->set_cursor("syslog:siem", 30));
  p.max_age_ms = 1;  // everything is due now: up to the checkpoint at 30
  a = apply_retention(**store, p, 4'000'000'000'000, &held);
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->last_seq, 30u);
}

}  // namespace
}  // namespace ztgate::audit
