// `ztgate audit verify` (the real binary) on a trail tampered with as an
// attacker with file access would: one byte of a stored record changed, a
// record deleted, two swapped, the tail truncated, a checkpoint forged, an
// archive segment changed. Each run must exit 2 and name the problem and
// where; the untouched trail exits 0. Also `audit query` and `--file`.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "audit/retention.h"
#include "audit/store.h"
#include "audit/trail.h"
#include "itest_support.h"
#include "store/sqlite.h"

namespace ztgate::itest {
namespace {

namespace fs = std::filesystem;

class AuditVerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_work_dir("audit-verify");
    audit::TrailOptions o;
    o.store_path = (dir_ / "audit.db").string();
    o.key_path = (dir_ / "audit-key.pem").string();
    o.public_key_path = (dir_ / "audit-key.jwk").string();
    o.checkpoint_every = 10;
    auto trail = audit::Trail::open(o);
    ASSERT_TRUE(trail) << trail.error().message;
    for (int i = 1; i <= 60; ++i) {
      audit::Event e;
      e.time_ms = 1'790'000'000'000 + i;
      e.request_id = "req-" + std::to_string(i);
      e.route = "/v1/chat/completions";
      e.principal = i % 2 ? "User::\"alice\"" : "User::\"bob\"";
      e.action = "invoke_model";
      e.resource = "Model::\"m\"";
      e.decision = i % 7 ? "allow" : "deny";
      e.json = R"({"class_uid":6003,"message":"request )" + std::to_string(i) + R"("})";
      (*trail)->append({}, std::move(e));
    }
  }

  ProcessResult verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{ZTGATE_BINARY, "audit", "verify", "--store", (dir_ / "audit.db").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, std::chrono::seconds(30));
  }

  void sql(const std::string& statement) {
    auto db = store::Db::open((dir_ / "audit.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(statement)) << statement;
  }

  void expect_named(const std::string& kind, const std::string& words) {
    auto r = verify();
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("TAMPERED"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(kind + ": "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(words), std::string::npos) << r.output;
  }

  fs::path dir_;
};

TEST_F(AuditVerifyCliTest, AnIntactTrailVerifiesAndCanBeSearched) {
  auto r = verify();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("intact: 60 records (1 to 60)"), std::string::npos) << r.output;
  auto q = run_process({ZTGATE_BINARY, "audit", "query", "--store", (dir_ / "audit.db").string(), "--decision", "deny",
                        "--principal", "User::\"alice\"", "--oldest-first"},
                       std::chrono::seconds(30));
  EXPECT_EQ(q.exit_code, 0) << q.output;
  // Denied: every 7th; alice: odd: 7, 21, 35, 49.
  size_t rows = 0;
  for (size_t at = q.output.find("User::\"alice\""); at != std::string::npos; at = q.output.find("User::\"alice\"", at + 1))
    ++rows;
  EXPECT_EQ(rows, 4u) << q.output;
  EXPECT_LT(q.output.find("\n7 "), q.output.find("\n21 ")) << q.output;
}

TEST_F(AuditVerifyCliTest, OneChangedByte) {
  sql("UPDATE records SET text = replace(text, 'request 23', 'request 24') WHERE seq = 23");
  expect_named("altered", "record 23 was changed");
}

TEST_F(AuditVerifyCliTest, ADeletedRecord) {
  sql("DELETE FROM records WHERE seq = 31");
  expect_named("missing", "record 31 is missing");
}

TEST_F(AuditVerifyCliTest, TwoSwappedRecords) {
  sql("UPDATE records SET seq = -1 WHERE seq = 12; UPDATE records SET seq = 12 WHERE seq = 13; "
      "UPDATE records SET seq = 13 WHERE seq = -1");
  expect_named("reordered", "records were swapped or moved");
}

TEST_F(AuditVerifyCliTest, ATruncatedTail) {
  sql("DELETE FROM records WHERE seq > 55");
  expect_named("truncated", "records 56 to 60 were cut from the end");
}

TEST_F(AuditVerifyCliTest, AForgedCheckpoint) {
  sql("UPDATE checkpoints SET time_ms = time_ms + 1 WHERE seq = 30");
  expect_named("bad_signature", "checkpoint at record 30");
}

TEST_F(AuditVerifyCliTest, AnArchiveSegmentVerifiesAloneAndItsChangeIsNamed) {
  std::string segment;
  {
    auto store = audit::AuditStore::open((dir_ / "audit.db").string());
    ASSERT_TRUE(store);
    audit::RetentionPolicy p;
    p.max_records = 25;
    p.archive_dir = (dir_ / "archive").string();
    auto a = audit::apply_retention(**store, p, 0);
    ASSERT_TRUE(a && *a);
    segment = (*a)->path;
  }
  auto whole = verify();
  EXPECT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_NE(whole.output.find("intact: 60 records"), std::string::npos) << whole.output;
  auto alone = run_process({ZTGATE_BINARY, "audit", "verify", "--file", segment, "--public-key",
                            (dir_ / "audit-key.jwk").string()},
                           std::chrono::seconds(30));
  EXPECT_EQ(alone.exit_code, 0) << alone.output;
  std::string text = read_file(segment);
  text.replace(text.find("request 5"), 9, "request 6");
  write_file(segment, text);
  expect_named("archive_altered", "was changed since it was written");
  auto changed = run_process({ZTGATE_BINARY, "audit", "verify", "--file", segment, "--public-key",
                              (dir_ / "audit-key.jwk").string(), "--json"},
                             std::chrono::seconds(30));
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  EXPECT_NE(changed.output.find("\"kind\":\"altered\",\"seq\":5"), std::string::npos) << changed.output;
}

}  // namespace
}  // namespace ztgate::itest
