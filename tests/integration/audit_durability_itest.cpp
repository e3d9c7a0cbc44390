// The audit trail's durability against the real `ztgate serve` (issue 5,
// "Must show"):
//   - crash: several keep-alive clients drive AuthZEN evaluations on a
//     route with `audit: { durability: sync }`; the gateway is killed with
//     SIGKILL in the middle of the load; after a restart on the same data
//     directory every request that got a complete 2xx answer has its record,
//     `ztgate audit verify` passes and the chain continues (next seq, same
//     chain id, no gap);
//   - disk full: the store sits on a 4 MiB tmpfs made for the test and a
//     filler takes its last byte; the sync route fails closed with 503
//     audit_unavailable within about audit.sync_timeout, the async route
//     answers while the queue has room and then refuses too, the process
//     stays up and reports ztgate_audit_store_failing 1; once the filler is
//     gone the sync route answers again, every async request answered during
//     the outage has its record, and the trail verifies.
// The tmpfs needs root (mount) or user namespaces: without either the test
// fails, it does not skip.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "audit_durability_support.h"
#include "child_process.h"
#include "itest_support.h"

namespace ztgate {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using itest::HttpAnswer;
using itest::KeepAliveClient;
using itest::run_process;

constexpr const char* kSyncRoute = "/access/v1/evaluation";
constexpr const char* kAsyncRoute = "/access/v1/evaluations";
constexpr const char* kEvaluation =
    R"({"subject":{"type":"user","id":"rick@the-citadel.com"},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"}})";

std::string batch_body() { return std::string(R"({"evaluations":[)") + kEvaluation + "]}"; }

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string numbered(const std::string& prefix, size_t n) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%06zu", n % 1000000);
  return prefix + digits;
}

class AuditDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = itest::fresh_work_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  void TearDown() override {
    server_.reset();  // the gateway stops before its file system goes away
    mount_.reset();
  }

  // ztgate.yaml with the AuthZEN todo policies, the given audit section,
  // and the sync route; then an API key for Service::"todo-app".
  void configure(const std::string& audit_section) {
    std::string todo = std::string(ZTGATE_SOURCE_DIR) + "/tests/gateway/authzen_todo";
    config_ = dir_ / "ztgate.yaml";
    itest::write_file(config_, "data_dir: data\n"
                      "gateway: { public_url: \"https://pdp.example.test\" }\n"
                      "listeners: [ { address: 127.0.0.1, port: 0 } ]\n"
                      "limits: { drain_timeout: 5s }\n"
                      "pdp: { authzen_legacy_properties: true }\n"
                      "policies:\n"
                      "  files: [" + todo + "/policies.cedar]\n"
                      "  entities: [" + todo + "/entities.json]\n"
                      "audit: " + audit_section + "\n"
                      "routes:\n"
                      "  - { path: " + kSyncRoute + ", audit: { durability: sync } }\n");
    auto key = run_process({ZTGATE_BINARY, "keys", "create", "--data-dir", (dir_ / "data").string(), "--name", "app",
                            "--principal", "Service::\"todo-app\""});
    ASSERT_EQ(key.exit_code, 0) << key.output;
    std::string out = "\n" + key.output;
    size_t at = out.find("\nztg_");
    ASSERT_NE(at, std::string::npos) << key.output;
    key_ = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
  }

  void start() {
    server_ = std::make_unique<itest::ChildProcess>(
        std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", config_.string()});
    std::string line = server_->wait_for_line("ztgate listening on ", 30s);
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }

  // SIGKILL, and reaped: its files and sockets are closed when this returns.
  void kill9() {
    EXPECT_EQ(::kill(server_->pid(), SIGKILL), 0);
    server_->terminate_and_wait(10s);  // a signal to a zombie is harmless; this reaps it
    server_.reset();
  }

  bool alive() const {
    int status = 0;
    return server_ && server_->pid() > 0 && ::waitpid(server_->pid(), &status, WNOHANG) == 0;
  }

  itest::ProcessResult verify() {
    return run_process({ZTGATE_BINARY, "audit", "verify", "--config", config_.string()}, 60s);
  }

  double metric(const std::string& name) {
    KeepAliveClient c(port_, 10);
    HttpAnswer a = c.request("GET", "/metrics", "");
    return a.complete && a.status == 200 ? itest::metric_value(a.body, name) : -2;
  }

  // Polls the metric until it equals `want` (or, `at_least`, reaches it);
  // false after `within`.
  bool metric_becomes(const std::string& name, double want, std::chrono::milliseconds within,
                      bool at_least = false) {
    auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      double v = metric(name);
      if (v == want || (at_least && v > want)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  fs::path dir_;
  fs::path config_;
  std::string key_;
  std::unique_ptr<itest::TmpfsMount> mount_;
  std::unique_ptr<itest::ChildProcess> server_;
  int port_ = 0;
};

// Seqs 1..N without a gap or a repeat, and no request id twice.
void expect_contiguous_and_unique(const itest::TrailView& v, const std::string& prefix) {
  for (size_t i = 0; i < v.records.size(); ++i) {
    ASSERT_EQ(v.records[i].first, i + 1) << "sequence gap at index " << i;
  }
  std::map<std::string, int> seen;
  for (const auto& r : v.records)
    if (r.second.rfind(prefix, 0) == 0) ++seen[r.second];
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << "request " << id << " recorded " << n << " times";
}

TEST_F(AuditDurabilityTest, KillDuringSyncLoadLosesNoAnsweredRecordAndTheChainContinues) {
  ASSERT_NO_FATAL_FAILURE(configure(
      "{ sync_timeout: 15s, commit_interval: 10ms, checkpoint: { every: 250, interval: 1s } }"));
  ASSERT_NO_FATAL_FAILURE(start());
  const fs::path store = dir_ / "data" / "audit.db";

  constexpr int kClients = 6;
  constexpr long kKillAfter = 1000;
  std::atomic<long> answered{0};
  std::atomic<long> not_2xx{0};
  std::atomic<int> running{kClients};  // counted down as clients stop
  std::vector<std::vector<std::string>> acked(kClients);  // ids with a complete 2xx answer
  std::vector<std::thread> clients;
  auto load_start = Clock::now();
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      KeepAliveClient c(port_, 60);
      const std::string prefix = "crash-" + std::to_string(t) + "-";
      for (size_t n = 0;; ++n) {
        std::string id = numbered(prefix, n);
        HttpAnswer a = c.request("POST", kSyncRoute, kEvaluation, key_, id);
        if (!a.complete) break;  // the gateway is gone
        if (a.status >= 200 && a.status < 300 && a.request_id == id)
          acked[t].push_back(id);
        else
          ++not_2xx;
        ++answered;
      }
      --running;
    });
  }
  auto deadline = Clock::now() + 120s;
  while (answered.load() < kKillAfter && running.load() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  long at_kill = answered.load();
  int running_at_kill = running.load();
  long long load_ms = ms_since(load_start);
  ASSERT_NO_FATAL_FAILURE(kill9());
  for (auto& c : clients) c.join();
  ASSERT_GE(at_kill, kKillAfter) << "the load did not reach " << kKillAfter << " answers in time";
  ASSERT_EQ(running_at_kill, kClients) << "clients stopped before the kill";
  EXPECT_EQ(not_2xx.load(), 0) << "sync answers other than 2xx under load";

  // Every answered request has its record, once; the chain verifies.
  itest::TrailView before = itest::read_trail(store);
  ASSERT_TRUE(before.ok) << before.error;
  std::set<std::string> recorded;
  for (const auto& r : before.records) recorded.insert(r.second);
  size_t total_acked = 0;
  std::vector<std::string> missing;
  for (const auto& ids : acked)
    for (const auto& id : ids) {
      ++total_acked;
      if (!recorded.count(id)) missing.push_back(id);
    }
  EXPECT_TRUE(missing.empty()) << missing.size() << " answered requests have no record, first: " << missing.front();
  ASSERT_NO_FATAL_FAILURE(expect_contiguous_and_unique(before, "crash-"));
  auto v1 = verify();
  EXPECT_EQ(v1.exit_code, 0) << "verify after the crash:\n" << v1.output;

  // Restart on the same data directory: the sequence continues.
  auto restart = Clock::now();
  ASSERT_NO_FATAL_FAILURE(start());
  long long restart_ms = ms_since(restart);
  {
    KeepAliveClient c(port_, 30);
    for (int i = 0; i < 3; ++i) {
      std::string id = numbered("after-crash-", static_cast<size_t>(i));
      HttpAnswer a = c.request("POST", kSyncRoute, kEvaluation, key_, id);
      ASSERT_TRUE(a.complete);
      ASSERT_EQ(a.status, 200) << a.body;
    }
  }
  itest::TrailView after = itest::read_trail(store);
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_EQ(after.chain_uid, before.chain_uid);
  ASSERT_GT(after.records.size(), before.records.size());
  for (size_t i = 0; i < before.records.size(); ++i)
    ASSERT_EQ(after.records[i], before.records[i]) << "record " << i + 1 << " changed after the restart";
  EXPECT_EQ(after.records[before.records.size()].first, before.max_seq() + 1);
  ASSERT_NO_FATAL_FAILURE(expect_contiguous_and_unique(after, "crash-"));
  std::map<std::string, uint64_t> seq_of;
  for (const auto& r : after.records) seq_of[r.second] = r.first;
  for (int i = 0; i < 3; ++i) {
    std::string id = numbered("after-crash-", static_cast<size_t>(i));
    ASSERT_TRUE(seq_of.count(id)) << id;
    EXPECT_GT(seq_of[id], before.max_seq());
  }
  auto v2 = verify();
  EXPECT_EQ(v2.exit_code, 0) << "verify after the restart:\n" << v2.output;
  std::fprintf(stderr,
               "[ crash    ] %ld answers in %lld ms (%d clients), killed; %zu acknowledged, %zu records "
               "(last seq %llu); restart %lld ms; next seq %llu\n",
               at_kill, load_ms, kClients, total_acked, before.records.size(),
               static_cast<unsigned long long>(before.max_seq()), restart_ms,
               static_cast<unsigned long long>(after.records[before.records.size()].first));
}

TEST_F(AuditDurabilityTest, DiskFullFailsSyncClosedKeepsAsyncAnswersAndRecovers) {
  const fs::path small = dir_ / "small";
  mount_ = std::make_unique<itest::TmpfsMount>(small, "4m");
  ASSERT_TRUE(mount_->mounted()) << "the disk-full test needs a small file system of its own: " << mount_->error();
  const fs::path store = small / "audit.db";
  constexpr int kQueue = 200;
  ASSERT_NO_FATAL_FAILURE(configure("{ store: " + store.string() +
                                    ", sync_timeout: 500ms, commit_interval: 10ms, queue: { max_records: " +
                                    std::to_string(kQueue) + " } }"));
  ASSERT_NO_FATAL_FAILURE(start());
  KeepAliveClient c(port_, 30);
  auto sync_call = [&](const std::string& id) { return c.request("POST", kSyncRoute, kEvaluation, key_, id); };
  auto async_call = [&](const std::string& id) { return c.request("POST", kAsyncRoute, batch_body(), key_, id); };
  auto refused = [](const HttpAnswer& a) {
    return a.complete && a.status == 503 && a.body.find("\"code\":\"audit_unavailable\"") != std::string::npos;
  };
  auto healthy = [&] {
    KeepAliveClient h(port_, 10);
    HttpAnswer a = h.request("GET", "/healthz", "");
    return a.complete && a.status == 200;
  };

  // Healthy first: both routes answer, the store is not failing.
  for (int i = 0; i < 2; ++i) {
    HttpAnswer s = sync_call(numbered("warm-sync-", static_cast<size_t>(i)));
    ASSERT_TRUE(s.complete && s.status == 200) << s.status << " " << s.body;
    HttpAnswer a = async_call(numbered("warm-async-", static_cast<size_t>(i)));
    ASSERT_TRUE(a.complete && a.status == 200) << a.status << " " << a.body;
  }
  ASSERT_TRUE(metric_becomes("ztgate_audit_store_failing", 0, 5s));

  // The disk fills up.
  long long filler_bytes = itest::fill_file_system(small / "filler");
  ASSERT_GT(filler_bytes, 0) << std::strerror(errno);

  // Sync: fails closed, in about sync_timeout. (A record or two may still
  // fit in space SQLite already holds.)
  size_t sync_refused = 0;
  long long refusal_ms = 0;
  size_t probes = 0;
  for (; probes < 20 && sync_refused == 0; ++probes) {
    auto t = Clock::now();
    HttpAnswer s = sync_call(numbered("full-sync-", probes));
    ASSERT_TRUE(s.complete) << "no answer on the sync route with the disk full";
    if (refused(s)) {
      ++sync_refused;
      refusal_ms = ms_since(t);
    } else {
      ASSERT_EQ(s.status, 200) << s.body;
    }
  }
  ASSERT_EQ(sync_refused, 1u) << "the sync route kept answering 200 with the disk full";
  EXPECT_LT(refusal_ms, 5000) << "the refusal took far longer than sync_timeout (500ms)";
  for (int i = 0; i < 3; ++i, ++probes) {
    HttpAnswer s = sync_call(numbered("full-sync-", probes));
    EXPECT_TRUE(refused(s)) << s.status << " " << s.body;
    ++sync_refused;
  }
  EXPECT_TRUE(healthy());
  EXPECT_TRUE(metric_becomes("ztgate_audit_store_failing", 1, 5s)) << "ztgate_audit_store_failing is not 1";

  // Async: answered while the queue has room, then refused as well.
  std::vector<std::string> async_acked;
  HttpAnswer first_refusal;
  for (size_t n = 0; n < 2 * kQueue; ++n) {
    std::string id = numbered("full-async-", n);
    HttpAnswer a = async_call(id);
    ASSERT_TRUE(a.complete) << "no answer on the async route with the disk full";
    if (a.status != 200) {
      first_refusal = a;
      break;
    }
    async_acked.push_back(id);
  }
  EXPECT_TRUE(refused(first_refusal)) << first_refusal.status << " " << first_refusal.body;
  EXPECT_GE(async_acked.size(), 1u);
  // Room is taken by the sync requests refused above too (their records
  // stay queued): the answered async ones fit in what was left.
  EXPECT_LE(async_acked.size() + sync_refused, static_cast<size_t>(kQueue));
  EXPECT_LE(metric("ztgate_audit_pending_records"), kQueue);
  for (int i = 0; i < 3; ++i) {
    HttpAnswer a = async_call(numbered("full-async-refused-", static_cast<size_t>(i)));
    EXPECT_TRUE(refused(a)) << a.status << " " << a.body;
    HttpAnswer s = sync_call(numbered("full-sync-refused-", static_cast<size_t>(i)));
    EXPECT_TRUE(refused(s)) << s.status << " " << s.body;
  }
  EXPECT_TRUE(alive()) << "the gateway died with the disk full";
  EXPECT_TRUE(healthy());
  EXPECT_EQ(metric("ztgate_audit_store_failing"), 1);
  // The writer tries the queued records (the answered async ones among
  // them) at least once more against the full disk before space returns.
  double failures = metric("ztgate_audit_commit_failures_total");
  auto retry_wait = Clock::now();
  EXPECT_TRUE(metric_becomes("ztgate_audit_commit_failures_total", failures + 1, 20s, /*at_least=*/true))
      << "no commit retry within 20 s (commit failures stayed at " << failures << ")";
  long long retry_ms = ms_since(retry_wait);

  // Space returns: the sync route answers again within seconds.
  fs::remove(small / "filler");
  auto freed = Clock::now();
  bool recovered = false;
  for (size_t n = 0; !recovered && ms_since(freed) < 30000; ++n) {
    HttpAnswer s = sync_call(numbered("recover-sync-", n));
    ASSERT_TRUE(s.complete);
    recovered = s.status == 200;
    if (!recovered) {
      EXPECT_TRUE(refused(s)) << s.status << " " << s.body;
      std::this_thread::sleep_for(100ms);
    }
  }
  long long recovery_ms = ms_since(freed);
  ASSERT_TRUE(recovered) << "the sync route did not answer 200 within 30 s of the space coming back";
  EXPECT_TRUE(metric_becomes("ztgate_audit_store_failing", 0, 10s)) << "ztgate_audit_store_failing stayed 1";
  EXPECT_TRUE(metric_becomes("ztgate_audit_pending_records", 0, 10s)) << "records still pending";

  // Nothing answered was lost; the chain is whole.
  itest::TrailView trail = itest::read_trail(store);
  ASSERT_TRUE(trail.ok) << trail.error;
  std::set<std::string> recorded;
  for (const auto& r : trail.records) recorded.insert(r.second);
  std::vector<std::string> missing;
  for (const auto& id : async_acked)
    if (!recorded.count(id)) missing.push_back(id);
  EXPECT_TRUE(missing.empty()) << missing.size() << " async requests answered 200 during the outage have no record, "
                               << "first: " << missing.front();
  for (const auto& id : {"warm-sync-000000", "warm-async-000001"}) EXPECT_TRUE(recorded.count(id)) << id;
  ASSERT_NO_FATAL_FAILURE(expect_contiguous_and_unique(trail, "full-async-"));
  auto v = verify();
  EXPECT_EQ(v.exit_code, 0) << v.output;
  std::fprintf(stderr,
               "[ diskfull ] tmpfs%s, filler %lld bytes; sync refused in %lld ms after %zu probe(s); %zu async "
               "answered before the queue (%d) was full; a retry %lld ms later; recovered %lld ms after the space "
               "returned; %zu records\n",
               mount_->in_namespace() ? " (user namespace)" : "", filler_bytes, refusal_ms, probes - 3,
               async_acked.size(), kQueue, retry_ms, recovery_ms, trail.records.size());
}

}  // namespace
}  // namespace ztgate
