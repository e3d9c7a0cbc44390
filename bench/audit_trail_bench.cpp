// The audit trail's write path (issue 5): records sealed into the hash chain
// and committed to SQLite (WAL, synchronous=FULL) per second, async and sync,
// next to the raw speed of the same disk measured in the same run.
//
//   build-release/bench/audit_trail_bench
//   env: ZTGATE_BENCH_DIR     where the stores go (default: audit-bench-tmp next
//                             to the binary, i.e. the build tree's file system)
//        ZTGATE_BENCH_RECORDS records per async run (default 200000)
//        ZTGATE_BENCH_SECONDS length of a sync run (default 3)
//        ZTGATE_BENCH_KEEP=1  keep the stores (to inspect them)
//
// Every benchmark gets a fresh directory (removed afterwards); the file
// system type is printed first.
//
// BM_DiskFsync/0: 4 KiB pwrite + fdatasync, cycling over a preallocated
//   1 MiB region (no metadata change: the disk's flush rate). /1: the same
//   appending to a growing file (a size change per flush). ops/s.
// BM_DiskSeqWrite: 1 MiB writes, 256 MiB, then fdatasync. bytes/s.
// BM_Async/<producers>: the producers reserve() and append() ZTGATE_BENCH_RECORDS
//   events between them (retrying when the queue is full), then flush();
//   items_per_second = records durable per second from the first append to
//   the flush's return; bytes_per_second over the events' JSON. The events are
//   10 real pipeline::ocsf_event() outputs (built once: ocsf_event_bench times
//   that) with different principals, agents, actions, resources, decisions
//   and findings; each append copies one and stamps its time and request id.
// BM_Sync/<threads>: each thread appends with urgent=true and waits for its
//   ticket, again and again, for ZTGATE_BENCH_SECONDS. items_per_second =
//   records durable per second; p50_us/p99_us: append-to-durable latency per
//   record (what a sync route adds to a request); commits_per_s and
//   records_per_commit show the group commit; x_fsync = records/s divided by
//   BM_DiskFsync's best rate (> 1: more records than one fsync each allows).
// Both: cpu_us_per_record = the process's CPU (every thread) per record,
// steadier than wall time on a shared machine; BM_Async's db_bytes_per_record
// = the database file's size per record (WAL excluded),
// trail_cpu_us_per_record = the CPU of the threads the trail started (the
// producers excluded) per record, and writer_cpu_us_per_record = that of the
// busiest of them (the writer): what caps the async rate, as the writer must
// keep up on one core; writer_runq_us_per_record = how long the writer was
// ready to run but waited for a core (other processes on a shared machine).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/trail.h"
#include "pipeline/ocsf_event.h"

using namespace ztgate;
using namespace ztgate::pipeline;

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double g_best_fsync_per_s = 0;  // set by BM_DiskFsync (runs first)

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  return (end != nullptr && *end == '\0' && n > 0) ? static_cast<size_t>(n) : fallback;
}

fs::path bench_root() {
  if (const char* d = std::getenv("ZTGATE_BENCH_DIR"); d != nullptr && *d != '\0') return fs::path(d);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return (ec ? fs::temp_directory_path() : exe.parent_path()) / "audit-bench-tmp";
}

// The mount's type as /proc/mounts names it (statfs only gives a magic number).
std::string fs_type(const fs::path& dir) {
  std::ifstream mounts("/proc/mounts");
  std::string dev, mnt, type, rest, best_type = "?";
  size_t best = 0;
  std::string p = fs::weakly_canonical(dir).string();
  while (mounts >> dev >> mnt >> type && std::getline(mounts, rest)) {
    bool under = p == mnt || (p.rfind(mnt, 0) == 0 && (mnt == "/" || p[mnt.size()] == '/'));
    if (under && mnt.size() >= best) {
      best = mnt.size();
      best_type = type + " (" + dev + " on " + mnt + ")";
    }
  }
  return best_type;
}

// A fresh directory per benchmark, removed afterwards.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = bench_root() / (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    if (std::getenv("ZTGATE_BENCH_KEEP") == nullptr) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// CPU seconds of the whole process (every thread): steadier than wall time
// on a shared machine.
double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// A thread's scheduler times so far (/proc/self/task/<tid>/schedstat): on a
// CPU, and runnable but waiting for one (other processes had the cores).
struct ThreadTimes {
  double cpu_ns = 0;
  double runq_ns = 0;
};

// The threads of this process by tid.
std::map<int, ThreadTimes> thread_times() {
  std::map<int, ThreadTimes> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(entry.path() / "schedstat");
    ThreadTimes t;
    if (in >> t.cpu_ns >> t.runq_ns) out[std::atoi(entry.path().filename().c_str())] = t;
  }
  return out;
}

// What the threads absent from `before_open` (the trail's own, started by
// Trail::open) spent between two snapshots, in seconds: the CPU of all of
// them, and the CPU and run-queue wait of the busiest (the writer).
struct TrailTimes {
  double all_cpu = 0, writer_cpu = 0, writer_runq = 0;
};
TrailTimes trail_thread_times(const std::map<int, ThreadTimes>& before_open, const std::map<int, ThreadTimes>& start,
                              const std::map<int, ThreadTimes>& end) {
  TrailTimes out;
  for (const auto& [tid, at_end] : end) {
    if (before_open.count(tid) != 0) continue;
    auto s = start.find(tid);
    ThreadTimes from = s == start.end() ? ThreadTimes{} : s->second;
    double cpu = (at_end.cpu_ns - from.cpu_ns) * 1e-9;
    out.all_cpu += cpu;
    if (cpu > out.writer_cpu) {
      out.writer_cpu = cpu;
      out.writer_runq = (at_end.runq_ns - from.runq_ns) * 1e-9;
    }
  }
  return out;
}

// --- the disk ---------------------------------------------------------------

void BM_DiskFsync(benchmark::State& state) {
  TempDir dir("fsync");
  const bool append = state.range(0) == 1;
  std::string path = (dir.path() / "f").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    state.SkipWithError("cannot create the file");
    return;
  }
  std::vector<char> block(4096, 'a');
  constexpr off_t kRegion = 1 << 20;
  if (!append) {
    for (off_t off = 0; off < kRegion; off += 4096)
      if (::pwrite(fd, block.data(), block.size(), off) != 4096) state.SkipWithError("write failed");
    ::fsync(fd);
  }
  off_t off = 0;
  for (auto _ : state) {
    if (::pwrite(fd, block.data(), block.size(), off) != 4096 || ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    off += 4096;
    if (!append && off >= kRegion) off = 0;
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 4096);
  state.SetLabel(append ? "append" : "overwrite");
}
BENCHMARK(BM_DiskFsync)->Arg(0)->Arg(1)->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

// Publishes the best fsync rate of the BM_DiskFsync runs for BM_Sync's ratio.
class FsyncRateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.benchmark_name().rfind("BM_DiskFsync", 0) != 0 || r.error_occurred) continue;
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) g_best_fsync_per_s = std::max(g_best_fsync_per_s, double(it->second));
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

void BM_DiskSeqWrite(benchmark::State& state) {
  TempDir dir("seq");
  std::string path = (dir.path() / "f").string();
  std::vector<char> chunk(1 << 20, 'b');
  constexpr int kChunks = 256;
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (int i = 0; ok && i < kChunks; ++i) ok = ::write(fd, chunk.data(), chunk.size()) == ssize_t(chunk.size());
    ok = ok && ::fdatasync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      state.SkipWithError("write failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kChunks} * (1 << 20));
}
BENCHMARK(BM_DiskSeqWrite)->UseRealTime()->Iterations(3)->Unit(benchmark::kMillisecond);

// --- the events ---------------------------------------------------------------

std::string body(size_t n, char c) { return std::string(n, c); }

// Ten realistic events: the pipeline's own producer on filled exchanges.
std::vector<audit::Event> sample_events() {
  struct Who {
    const char* user;
    const char* agent;  // "" = the user acts directly
    const char* action;
    const char* type;
    const char* resource;
    bool allow;
  };
  static constexpr Who kWho[] = {
      {"alice@example.com", "research-assistant", "invoke_model", "Model", "gpt-4o-mini", true},
      {"bob@example.com", "", "invoke_model", "Model", "gpt-4o", true},
      {"carol@example.com", "coding-agent", "call_tool", "Tool", "github.create_issue", true},
      {"dave@example.com", "", "invoke_model", "Model", "claude-3-5-sonnet", false},
      {"erin@example.com", "support-bot", "read_document", "Document", "kb/refunds-policy.md", true},
      {"frank@example.com", "coding-agent", "call_tool", "Tool", "shell.exec", false},
      {"grace@example.com", "", "invoke_model", "Model", "gpt-4o-mini", true},
      {"heidi@example.com", "research-assistant", "read_document", "Document", "finance/q3-forecast.xlsx", false},
      {"ivan@example.com", "", "list_models", "Model", "*", true},
      {"judy@example.com", "support-bot", "invoke_model", "Model", "mistral-large", true},
  };
  std::vector<audit::Event> out;
  int n = 0;
  for (const auto& w : kWho) {
    Exchange x;
    x.request_id = "0f6c2a9e-8d1b-4c55-9a7e-3b2d1c0e9f8" + std::to_string(n);
    x.adapter = "openai";
    x.route = w.action == std::string_view("call_tool") ? "/mcp" : "/v1/chat/completions";
    x.remote = "10.20.30." + std::to_string(40 + n) + ":51234";
    authn::Identity id;
    if (*w.agent) {
      id.principal = {"Agent", w.agent};
      id.authn.method = "delegation";
      x.chain = {{"User", w.user}, {"Agent", w.agent}};
      x.context["delegation"] = json::object{{"scopes", json::array{"models:invoke", "tools:read"}},
                                             {"task", "task-7c1e" + std::to_string(n)},
                                             {"depth", 1},
                                             {"chain", json::array{w.agent}}};
    } else {
      id.principal = {"User", w.user};
      id.authn.method = "jwt";
    }
    id.authn.issuer = "corp-idp";
    id.authn.mfa = n % 3 != 0;
    x.identity = id;
    x.action = w.action;
    x.resource = {w.type, w.resource};
    x.context["request"] = json::object{
        {"operation", "chat"}, {"stream", n % 2 == 0}, {"messages", 2 + n}, {"tools", n % 4 == 0}, {"max_tokens", 512}};
    x.context["device"] = json::object{{"present", true},     {"device_id", "laptop-44" + std::to_string(n)},
                                       {"managed", n != 5},   {"disk_encrypted", true},
                                       {"edr_running", true}, {"os_patch_age_days", n},
                                       {"age_s", 120}};
    x.upstream = w.allow ? "openai" : "";
    Verdict v;
    v.decision = w.allow ? cedar::Decision::kAllow : cedar::Decision::kDeny;
    v.determining = {"policy" + std::to_string(10 + n)};
    v.names = {w.allow ? "staff-may-use-approved-models" : "no-unmanaged-devices-for-finance"};
    v.cached = n % 2 == 1;
    x.verdict = v;
    x.status = w.allow ? 200 : 403;
    if (w.allow) {
      x.output_bytes = 2048 + 100 * n;
      x.output_chunks = 1;
      x.usage = json::object{{"prompt_tokens", 412 + n}, {"completion_tokens", 230}, {"total_tokens", 642 + n}};
    }
    x.timings = {{"authenticate", 21000}, {"enrich", 3000},       {"authorize", 9000},
                 {"enforce", 400},        {"output_meter", 1200}, {"forward", 412000000}};
    std::string request = R"({"model":"m","messages":[{"role":"user","content":")" + body(600 + 40 * n, 'x') + "\"}]}";
    std::string response = R"({"choices":[{"message":{"content":")" + body(1500, 'y') + "\"}}]}";
    EventOptions o;
    o.config_version = 42;
    o.product_version = "0.9.0";
    o.payload_mode = PayloadMode::kHash;
    o.request_payload = request;
    o.response_payload = response;
    o.http_method = "POST";
    o.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    audit::Event e = ocsf_event(x, o);
    // Inspection is not built yet: give some events findings so that index is used.
    if (n % 4 == 1) e.findings = "pii.email";
    if (n == 5) e.findings = "secret.api_key prompt_injection";
    out.push_back(std::move(e));
    ++n;
  }
  return out;
}

const std::vector<audit::Event>& events() {
  static const std::vector<audit::Event> e = sample_events();
  return e;
}

audit::Event next_event(size_t i) {
  audit::Event e = events()[i % events().size()];
  e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  e.request_id = "req-" + std::to_string(i);
  return e;
}

std::unique_ptr<audit::Trail> open_trail(const TempDir& dir, benchmark::State& state) {
  audit::TrailOptions o;
  o.store_path = (dir.path() / "audit.db").string();
  o.key_path = (dir.path() / "audit.key").string();
  auto t = audit::Trail::open(std::move(o));
  if (!t) {
    state.SkipWithError(("cannot open the trail: " + t.error().message).c_str());
    return nullptr;
  }
  return std::move(*t);
}

// --- async ------------------------------------------------------------------

void BM_Async(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  const size_t total = env_size("ZTGATE_BENCH_RECORDS", 200'000);
  TempDir dir("async");
  auto before_open = thread_times();
  auto trail = open_trail(dir, state);
  if (!trail) return;
  size_t bytes = 0;
  for (const auto& e : events()) bytes += e.json.size();
  std::atomic<uint64_t> refusals{0};
  audit::Trail::Stats before = trail->stats();
  bool flushed = false;
  auto trail_start = thread_times();
  double cpu0 = process_cpu_s();
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        size_t from = total * p / producers, to = total * (p + 1) / producers;
        for (size_t i = from; i < to; ++i) {
          auto room = trail->reserve();
          while (!room) {  // the queue is full: back-pressure, as a request would see
            refusals.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            room = trail->reserve();
          }
          trail->append(std::move(*room), next_event(i));
        }
      });
    }
    for (auto& t : threads) t.join();
    flushed = trail->flush(std::chrono::seconds(120));
  }
  double cpu = process_cpu_s() - cpu0;
  // The producers are joined: the threads left that Trail::open started are the trail's.
  TrailTimes times = trail_thread_times(before_open, trail_start, thread_times());
  audit::Trail::Stats after = trail->stats();
  if (!flushed || after.committed - before.committed != total * state.iterations())
    state.SkipWithError("not everything was committed");
  state.SetItemsProcessed(static_cast<int64_t>(after.committed - before.committed));
  state.SetBytesProcessed(static_cast<int64_t>(bytes * (after.committed - before.committed) / events().size()));
  state.counters["records_per_commit"] =
      double(after.committed - before.committed) / double(std::max<uint64_t>(1, after.commits - before.commits));
  state.counters["queue_full_retries"] = double(refusals.load());
  state.counters["event_bytes"] = double(bytes) / double(events().size());
  state.counters["cpu_us_per_record"] = cpu * 1e6 / double(std::max<uint64_t>(1, after.committed - before.committed));
  const double committed = double(std::max<uint64_t>(1, after.committed - before.committed));
  state.counters["writer_cpu_us_per_record"] = times.writer_cpu * 1e6 / committed;
  state.counters["writer_runq_us_per_record"] = times.writer_runq * 1e6 / committed;
  state.counters["trail_cpu_us_per_record"] = times.all_cpu * 1e6 / committed;
  state.counters["db_bytes_per_record"] = double(fs::file_size(dir.path() / "audit.db")) / double(after.committed);
  trail.reset();
}
BENCHMARK(BM_Async)->Arg(1)->Arg(2)->Arg(4)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// --- sync -------------------------------------------------------------------

void BM_Sync(benchmark::State& state) {
  const int threads_n = static_cast<int>(state.range(0));
  const auto run_for = std::chrono::seconds(env_size("ZTGATE_BENCH_SECONDS", 3));
  TempDir dir("sync");
  auto trail = open_trail(dir, state);
  if (!trail) return;
  std::vector<std::vector<double>> latencies(threads_n);
  std::atomic<bool> failed{false};
  audit::Trail::Stats before = trail->stats();
  Clock::time_point start, end;
  double cpu0 = process_cpu_s();
  for (auto _ : state) {
    start = Clock::now();
    auto deadline = start + run_for;
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&, t] {
        auto& mine = latencies[t];
        mine.reserve(1 << 16);
        for (size_t i = size_t(t) << 32; Clock::now() < deadline; ++i) {
          audit::Event e = next_event(i);
          auto t0 = Clock::now();
          auto room = trail->reserve();
          if (!room) {
            failed = true;
            return;
          }
          auto ticket = trail->append(std::move(*room), std::move(e), /*urgent=*/true);
          if (!ticket->wait_for(std::chrono::seconds(10))) {
            failed = true;
            return;
          }
          mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    end = Clock::now();
  }
  double cpu = process_cpu_s() - cpu0;
  audit::Trail::Stats after = trail->stats();
  if (failed) state.SkipWithError("a record was refused or not durable within 10 s");
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * double(all.size())))]; };
  double seconds = std::chrono::duration<double>(end - start).count();
  uint64_t commits = after.commits - before.commits;
  state.SetItemsProcessed(static_cast<int64_t>(all.size()));
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["commits_per_s"] = double(commits) / seconds;
  state.counters["records_per_commit"] = double(all.size()) / double(std::max<uint64_t>(1, commits));
  state.counters["cpu_us_per_record"] = cpu * 1e6 / double(std::max<size_t>(1, all.size()));
  if (g_best_fsync_per_s > 0) state.counters["x_fsync"] = double(all.size()) / seconds / g_best_fsync_per_s;
  trail.reset();
}
BENCHMARK(BM_Sync)->Arg(1)->Arg(8)->Arg(32)->Arg(64)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  fs::create_directories(bench_root());
  std::printf("stores in %s: %s\n", bench_root().c_str(), fs_type(bench_root()).c_str());
  size_t bytes = 0;
  for (const auto& e : events()) bytes += e.json.size();
  std::printf("events: %zu distinct, %zu bytes on average\n", events().size(), bytes / events().size());
  FsyncRateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
