// SinkRunner over a real store: ordered batches within bounds, the cursor
// persisted and resumed after a restart, retries of a failing sink without
// losing or reordering records, notify(), stop() and the stats.
#include "audit/sink_runner.h"

#include <gtest/gtest.h>

#include <mutex>

#include "sink_test_support.h"

namespace ztgate::audit {
namespace {

using namespace std::chrono_literals;
using testing::sealed_records;

// Records every batch it is given; fails while `failures_left` > 0 or `down`.
class FakeSink final : public Sink {
 public:
  explicit FakeSink(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Status deliver(const std::vector<StoredRecord>& batch) override {
    std::lock_guard lock(mu_);
    ++calls_;
    if (down_ || failures_left_ > 0) {
      if (failures_left_ > 0) --failures_left_;
      return make_error(error_code_, "receiver unavailable");
    }
    std::vector<uint64_t> seqs;
    for (const auto& r : batch) seqs.push_back(r.seq);
    batches_.push_back(seqs);
    return Ok{};
  }

  void fail_next(int n, std::string code = "net_connect") {
    std::lock_guard lock(mu_);
    failures_left_ = n;
    error_code_ = std::move(code);
  }
  void set_down(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  std::vector<std::vector<uint64_t>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<uint64_t> delivered() {
    std::vector<uint64_t> all;
    for (const auto& b : batches()) all.insert(all.end(), b.begin(), b.end());
    return all;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::string name_;
  std::mutex mu_;
  int failures_left_ = 0;
  bool down_ = false;
  std::string error_code_ = "net_connect";
  int calls_ = 0;
  std::vector<std::vector<uint64_t>> batches_;
};

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

class SinkRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir(std::string("runner-") +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    path_ = (dir_ / "audit.db").string();
    auto store = AuditStore::open(path_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
  }

  void append(uint64_t first, size_t count) {
    Digest prev{};
    if (first > 1) prev = *digest_from_hex(std::string(64, '0'));
    ASSERT_TRUE(store_->append(sealed_records(first, count, prev), {}).ok());
  }

  SinkRunnerOptions options() {
    SinkRunnerOptions o;
    o.store_path = path_;
    o.backoff_min = 5ms;
    o.backoff_max = 40ms;
    o.log = [this](std::string_view level, std::string_view message) {
      std::lock_guard lock(log_mu_);
      log_.push_back(std::string(level) + " " + std::string(message));
    };
    return o;
  }

  std::vector<std::string> log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  static bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<AuditStore> store_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(SinkRunnerTest, DeliversEveryRecordInOrderInBoundedBatchesAndSavesTheCursor) {
  append(1, 1200);
  auto sink = std::make_unique<FakeSink>("fake:a");
  FakeSink* fake = sink.get();
  auto o = options();
  o.max_batch_records = 500;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 1200; }));
  (*runner)->stop();
  EXPECT_EQ(fake->delivered(), range(1, 1200));
  for (const auto& b : fake->batches()) EXPECT_LE(b.size(), 500u);
  auto stats = (*runner)->stats();
  EXPECT_EQ(stats.delivered, 1200u);
  EXPECT_EQ(stats.committed, 1200u);
  EXPECT_EQ(stats.lag(), 0u);
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(*store_->cursor("fake:a"), 1200u);
  EXPECT_TRUE(log().empty());
}

TEST_F(SinkRunnerTest, KeepsBatchesUnderTheByteBoundButSendsAnOversizedRecordAlone) {
  append(1, 10);
  auto sink = std::make_unique<FakeSink>("fake:bytes");
  FakeSink* fake = sink.get();
  auto o = options();
  o.max_batch_bytes = 1;  // every record is larger: one per batch
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 10; }));
  (*runner)->stop();
  EXPECT_EQ(fake->batches().size(), 10u);
  EXPECT_EQ(fake->delivered(), range(1, 10));
}

TEST_F(SinkRunnerTest, ResumesAfterItsCursorWhenRestarted) {
  append(1, 100);
  auto first = std::make_unique<FakeSink>("fake:resume");
  FakeSink* fake1 = first.get();
  auto runner = SinkRunner::start(std::move(first), options());
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 100; }));
  EXPECT_EQ(fake1->delivered(), range(1, 100));
  runner->reset();  // the gateway stops (and the sink goes with its runner)

  append(101, 50);  // written while the sink was away
  auto second = std::make_unique<FakeSink>("fake:resume");
  FakeSink* fake2 = second.get();
  auto again = SinkRunner::start(std::move(second), options());
  ASSERT_TRUE(again.ok());
  EXPECT_GE((*again)->stats().cursor, 100u);  // it may already be delivering
  ASSERT_TRUE(wait_for([&] { return (*again)->stats().cursor == 150; }));
  (*again)->stop();
  EXPECT_EQ(fake2->delivered(), range(101, 150));  // nothing twice, nothing missing
}

TEST_F(SinkRunnerTest, RetriesAFailingSinkWithoutLosingOrReorderingAndLogsOnlyStateChanges) {
  append(1, 30);
  auto sink = std::make_unique<FakeSink>("fake:flaky");
  FakeSink* fake = sink.get();
  fake->fail_next(5);
  auto o = options();
  o.max_batch_records = 7;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 30; }));
  // Fail again in the middle, with another error, then recover.
  fake->fail_next(3, "net_timeout");
  append(31, 20);
  (*runner)->notify(50);
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 50; }));
  (*runner)->stop();
  EXPECT_EQ(fake->delivered(), range(1, 50));
  auto stats = (*runner)->stats();
  EXPECT_EQ(stats.failures, 8u);
  EXPECT_FALSE(stats.failing);
  EXPECT_EQ(stats.last_error_code, "net_timeout");
  auto lines = log();
  ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_EQ(
      lines[0].rfind(
          "warn audit sink fake:flaky: delivery failing (net_connect: receiver unavailable)", 0),
      0u);
  EXPECT_EQ(lines[1].rfind("info audit sink fake:flaky: delivery recovered", 0), 0u);
  EXPECT_EQ(lines[2].rfind("warn audit sink fake:flaky: delivery failing (net_timeout", 0), 0u);
  EXPECT_EQ(lines[3].rfind("info", 0), 0u);
}

TEST_F(SinkRunnerTest, BacksOffExponentially) {
  append(1, 1);
  auto sink = std::make_unique<FakeSink>("fake:backoff");
  FakeSink* fake = sink.get();
  fake->set_down(true);
  auto o = options();
  o.backoff_min = 20ms;
  o.backoff_max = 160ms;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  std::this_thread::sleep_for(1000ms);
  // Waits of at least 10, 20, 40, 80, then 80 ms (jitter: half to full of
  // 20, 40, 80, 160, 160...): at most 1 + 1000/80 + 4 tries, and more than a
  // handful; a busy loop would make thousands.
  int calls = fake->calls();
  EXPECT_GE(calls, 5);
  EXPECT_LE(calls, 18);
  auto stats = (*runner)->stats();
  EXPECT_TRUE(stats.failing);
  EXPECT_EQ(stats.last_error_code, "net_connect");
  EXPECT_EQ(stats.lag(), 1u);
  EXPECT_EQ(log().size(), 1u);
  fake->set_down(false);
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 1; }, 2s));
}

TEST_F(SinkRunnerTest, HonorsTheSinksRetryAfterUpToTheCap) {
  class SlowDown final : public Sink {
   public:
    const std::string& name() const override { return name_; }
    Status deliver(const std::vector<StoredRecord>&) override {
      ++calls;
      return make_error("audit_sink_http_status", "HTTP 429");
    }
    std::chrono::milliseconds retry_after() const override { return 10min; }
    std::atomic<int> calls{0};
    std::string name_ = "fake:retry-after";
  };
  append(1, 1);
  auto sink = std::make_unique<SlowDown>();
  SlowDown* slow = sink.get();
  auto o = options();
  o.retry_after_max = 300ms;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  std::this_thread::sleep_for(700ms);
  EXPECT_GE(slow->calls.load(), 2);  // the cap, not ten minutes
  EXPECT_LE(slow->calls.load(), 3);  // the asked delay, not 5 ms backoff
}

TEST_F(SinkRunnerTest, NotifyWakesTheRunnerLongBeforeThePoll) {
  auto sink = std::make_unique<FakeSink>("fake:notify");
  FakeSink* fake = sink.get();
  auto o = options();
  o.poll_interval = 30s;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  std::this_thread::sleep_for(50ms);  // the runner found nothing and sleeps
  append(1, 3);
  (*runner)->notify(3);
  ASSERT_TRUE(wait_for([&] { return fake->delivered().size() == 3; }, 2s));
}

TEST_F(SinkRunnerTest, StopDeliversWhatIsCommittedFirst) {
  auto sink = std::make_unique<FakeSink>("fake:stop");
  FakeSink* fake = sink.get();
  auto o = options();
  o.poll_interval = 30s;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  std::this_thread::sleep_for(50ms);
  append(1, 40);  // committed, nobody notified
  (*runner)->stop();
  EXPECT_EQ(fake->delivered(), range(1, 40));
  EXPECT_EQ(*store_->cursor("fake:stop"), 40u);
}

TEST_F(SinkRunnerTest, StopGivesUpOnADeadSinkAtTheDeadlineAndKeepsTheCursor) {
  append(1, 5);
  auto sink = std::make_unique<FakeSink>("fake:dead");
  sink->set_down(true);
  auto o = options();
  o.backoff_min = 1000ms;
  o.backoff_max = 30s;
  o.stop_timeout = 200ms;
  auto runner = SinkRunner::start(std::move(sink), o);
  ASSERT_TRUE(runner.ok());
  std::this_thread::sleep_for(50ms);
  auto before = std::chrono::steady_clock::now();
  (*runner)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1000ms);
  EXPECT_EQ(*store_->cursor("fake:dead"), 0u);  // the records wait for the next start
}

TEST_F(SinkRunnerTest, ReportsRecordsPrunedBeforeDeliveryAsAGapAndGoesOn) {
  append(1, 10);
  Archive archive;
  archive.first_seq = 1;
  archive.last_seq = 4;
  archive.path = (dir_ / "segment-1-4.jsonl").string();
  ASSERT_TRUE(store_->prune(archive).ok());
  auto sink = std::make_unique<FakeSink>("fake:gap");
  FakeSink* fake = sink.get();
  auto runner = SinkRunner::start(std::move(sink), options());
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 10; }));
  (*runner)->stop();
  EXPECT_EQ(fake->delivered(), range(5, 10));
  EXPECT_EQ((*runner)->stats().skipped, 4u);
  auto lines = log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("records 1..4 were pruned"), std::string::npos) << lines[0];
}

TEST_F(SinkRunnerTest, RefusesBadOptionsAndAMissingStore) {
  auto o = options();
  o.max_batch_records = 0;
  EXPECT_EQ(SinkRunner::start(std::make_unique<FakeSink>("fake:x"), o).error().code,
            "audit_sink_config");
  o = options();
  o.store_path = (dir_ / "missing" / "audit.db").string();
  EXPECT_EQ(SinkRunner::start(std::make_unique<FakeSink>("fake:x"), o).error().code, "audit_store");
  o.store_path = (dir_ / "other.db").string();
  EXPECT_EQ(SinkRunner::start(std::make_unique<FakeSink>("fake:x"), o).error().code, "audit_store");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "other.db"));  // a runner never creates a store
}

TEST_F(SinkRunnerTest, ASinkThatThrowsFailsTheBatchInsteadOfTheProcess) {
  class Throwing final : public Sink {
   public:
    const std::string& name() const override { return name_; }
    Status deliver(const std::vector<StoredRecord>&) override {
      if (++calls < 3) throw std::runtime_error("boom");
      return Ok{};
    }
    std::atomic<int> calls{0};
    std::string name_ = "fake:throws";
  };
  append(1, 2);
  auto runner = SinkRunner::start(std::make_unique<Throwing>(), options());
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(wait_for([&] { return (*runner)->stats().cursor == 2; }));
  EXPECT_EQ((*runner)->stats().failures, 2u);
  EXPECT_EQ((*runner)->stats().last_error_code, "audit_sink_internal");
}

}  // namespace
}  // namespace ztgate::audit
