#include "audit/sink_runner.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

namespace ztgate::audit {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct SinkRunner::Impl {
  std::unique_ptr<Sink> sink;
  SinkRunnerOptions options;
  std::unique_ptr<AuditStore> store;  // used by the runner thread only
  std::mt19937_64 rng{std::random_device{}()};

  mutable std::mutex mu;  // guards notified, stopping, stop_deadline, stats
  std::condition_variable wake;
  bool notified = false;
  bool stopping = false;
  Clock::time_point stop_deadline{};
  SinkStats stats;
  std::thread thread;

  // Runner-thread state.
  uint64_t cursor = 0;       // last delivered seq
  bool cursor_saved = true;  // the store holds `cursor`
  std::string logged_state;  // "" healthy, else the error code last logged
  bool cursor_error_logged = false;
  milliseconds backoff{0};

  void log(std::string_view level, const std::string& message) {
    std::string line = "audit sink " + sink->name() + ": " + message;
    if (options.log)
      options.log(level, line);
    else
      std::cerr << "ztgate: " << level << ": " << line << "\n";
  }

  bool stop_due() {
    std::lock_guard lock(mu);
    return stopping && Clock::now() >= stop_deadline;
  }

  // Waits up to `delay`, or until notified (when `wake_on_notify`) or
  // stopped; stopping cuts any wait at the stop deadline.
  void wait(milliseconds delay, bool wake_on_notify) {
    std::unique_lock lock(mu);
    const Clock::time_point until = Clock::now() + delay;
    for (;;) {
      if (wake_on_notify && (notified || stopping)) break;
      Clock::time_point limit = stopping ? std::min(until, stop_deadline) : until;
      if (Clock::now() >= limit) break;
      wake.wait_until(lock, limit);
    }
    notified = false;
  }

  // The last committed seq, for the lag (the writer's notify() may be absent).
  void refresh_committed() {
    auto head = store->head();
    if (!head) return;
    std::lock_guard lock(mu);
    stats.committed = std::max(stats.committed, head->seq);
  }

  milliseconds jittered(milliseconds b) {
    auto half = b.count() / 2;
    std::uniform_int_distribution<int64_t> pick(half, std::max<int64_t>(half, b.count()));
    return milliseconds(pick(rng));
  }

  // `step`: "delivery" or "reading the store".
  void failed(const std::string& step, const Error& e) {
    {
      std::lock_guard lock(mu);
      ++stats.failures;
      stats.failing = true;
      stats.last_error_code = e.code;
    }
    if (logged_state != e.code) {
      log("warn", step + " failing (" + e.code + ": " + e.message +
                      "); retrying with backoff, records are kept");
      logged_state = e.code;
    }
    backoff =
        backoff.count() == 0 ? options.backoff_min : std::min(backoff * 2, options.backoff_max);
    milliseconds delay = jittered(backoff);
    milliseconds asked = step == "delivery" ? std::min(sink->retry_after(), options.retry_after_max)
                                            : milliseconds{0};
    wait(std::max(delay, asked), false);
  }

  void recovered() {
    if (!logged_state.empty()) log("info", "delivery recovered after " + logged_state);
    logged_state.clear();
    backoff = milliseconds{0};
  }

  // Retried before every batch until it succeeds. Delivered but not saved
  // means a restart would send those records again, nothing worse.
  void save_cursor() {
    if (cursor_saved) return;
    auto saved = store->set_cursor(sink->name(), cursor);
    cursor_saved = saved.ok();
    if (!saved.ok() && !cursor_error_logged) {
      log("error", "cannot save the cursor at seq " + std::to_string(cursor) + " (" +
                       saved.error().code + ": " + saved.error().message + "); will retry");
      cursor_error_logged = true;
    }
    if (saved.ok()) cursor_error_logged = false;
  }

  // Records after the cursor, trimmed to the byte bound (at least one).
  Result<std::vector<StoredRecord>> next_batch() {
    auto read = store->read_after(cursor, options.max_batch_records);
    if (!read) return read;
    auto& batch = *read;
    size_t bytes = 0, keep = 0;
    while (keep < batch.size() &&
           (keep == 0 || bytes + batch[keep].text.size() <= options.max_batch_bytes))
      bytes += batch[keep++].text.size();
    batch.resize(keep);
    return read;
  }

  void note_gap(const std::vector<StoredRecord>& batch) {
    if (batch.empty() || batch.front().seq == cursor + 1) return;
    uint64_t missing = batch.front().seq - cursor - 1;
    log("warn",
        "records " + std::to_string(cursor + 1) + ".." + std::to_string(batch.front().seq - 1) +
            " were pruned from the store before this sink delivered them (see the archives)");
    std::lock_guard lock(mu);
    stats.skipped += missing;
  }

  // A sink that throws (it should not: errors are values) fails the batch
  // instead of ending the process.
  Status deliver(const std::vector<StoredRecord>& batch) {
    try {
      return sink->deliver(batch);
    } catch (const std::exception&) {
      return make_error("audit_sink_internal", "the sink failed unexpectedly (exception)");
    }
  }

  void run() {
    for (;;) {
      if (stop_due()) break;
      save_cursor();
      refresh_committed();
      auto batch = next_batch();
      if (!batch) {
        failed("reading the store", batch.error());
        continue;
      }
      if (batch->empty()) {
        {
          std::lock_guard lock(mu);
          if (stopping) break;  // everything committed is delivered
        }
        wait(options.poll_interval, true);
        continue;
      }
      note_gap(*batch);
      auto delivered = deliver(*batch);
      if (!delivered) {
        failed("delivery", delivered.error());
        continue;
      }
      cursor = batch->back().seq;
      cursor_saved = false;
      {
        std::lock_guard lock(mu);
        stats.delivered += batch->size();
        ++stats.batches;
        stats.cursor = cursor;
        stats.committed = std::max(stats.committed, cursor);
        stats.failing = false;
      }
      recovered();
    }
    save_cursor();
  }
};

SinkRunner::SinkRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<SinkRunner>> SinkRunner::start(std::unique_ptr<Sink> sink,
                                                      SinkRunnerOptions options) {
  if (!sink) return make_error("audit_sink_config", "no sink to run");
  if (options.max_batch_records == 0 || options.max_batch_bytes == 0 ||
      options.poll_interval.count() <= 0 || options.backoff_min.count() <= 0 ||
      options.backoff_max < options.backoff_min)
    return make_error(
        "audit_sink_config",
        "sink " + sink->name() + ": batch bounds, poll interval and backoff must be positive");
  options.max_batch_records = std::min(options.max_batch_records, kMaxQueryLimit * 10);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.store_path, ec))
    return make_error("audit_store",
                      "no audit store at " + options.store_path + " (the trail creates it)");
  auto store = AuditStore::open(options.store_path);
  if (!store) return store.error();
  auto cursor = (*store)->cursor(sink->name());
  if (!cursor) return cursor.error();
  auto head = (*store)->head();
  if (!head) return head.error();

  auto impl = std::make_unique<Impl>();
  impl->sink = std::move(sink);
  impl->options = std::move(options);
  impl->store = std::move(*store);
  impl->cursor = *cursor;
  impl->stats.cursor = *cursor;
  impl->stats.committed = head->seq;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<SinkRunner>(new SinkRunner(std::move(impl)));
}

SinkRunner::~SinkRunner() { stop(); }

void SinkRunner::notify(uint64_t committed_seq) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->notified = true;
    impl_->stats.committed = std::max(impl_->stats.committed, committed_seq);
  }
  impl_->wake.notify_all();
}

void SinkRunner::stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->stopping = true;
      impl_->stop_deadline = Clock::now() + impl_->options.stop_timeout;
    }
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

const std::string& SinkRunner::name() const { return impl_->sink->name(); }

SinkStats SinkRunner::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace ztgate::audit
