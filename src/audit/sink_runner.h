// SinkRunner: the thread that feeds one sink (sink.h) from the store.
//
// It reads the records committed after the sink's cursor in batches
// (at most `max_batch_records` and `max_batch_bytes`, but at least one
// record), hands each batch to Sink::deliver() and, once delivered, moves
// the cursor in the store (AuditStore::set_cursor). Records therefore go out
// in seq order, each at least once, across restarts: a new runner resumes
// after the stored cursor. A crash between delivery and the cursor update
// sends that batch again.
//
// When deliver() fails the runner retries the same batch after a backoff
// (`backoff_min` doubling to `backoff_max`, each wait drawn from [b/2, b]:
// jitter, so that sinks failing together do not retry together), or after
// the sink's retry_after() when that is longer (capped at `retry_after_max`).
// It logs when the sink starts failing, when the error code changes and
// when it recovers, never once per retry; the message is the sink's error
// (code and message), which by contract names no record content and no
// credential.
//
// It wakes when notify() says the writer committed (Trail's on_commit),
// else polls every `poll_interval`. stop() delivers what is committed for
// at most `stop_timeout` (plus one deliver() in flight, bounded by the
// sink's own timeouts), then joins the thread.
//
// If records after the cursor were pruned by retention before the sink got
// them, the runner logs the gap once and continues with what is there
// (`skipped` counts them): the archive holds them.
//
// Thread safety: notify(), stats() and stop() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "audit/sink.h"
#include "common/result.h"

namespace ztgate::audit {

struct SinkRunnerOptions {
  std::string store_path;  // the trail's SQLite file (it must exist)
  size_t max_batch_records = 500;
  size_t max_batch_bytes = size_t{1} << 20;  // sum of record text sizes
  std::chrono::milliseconds poll_interval{250};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds retry_after_max{300'000};
  std::chrono::milliseconds stop_timeout{2000};
  // State changes ("warn" when failing, "info" on recovery, "error" for the
  // store). Empty: one line on stderr. Called from the runner's thread.
  std::function<void(std::string_view level, std::string_view message)> log;
};

// What /metrics shows per sink (ztgate_audit_sink_*{sink="<name>"}).
struct SinkStats {
  uint64_t delivered = 0;  // records delivered by this runner (repeats after a retry count again)
  uint64_t batches = 0;    // successful deliver() calls
  uint64_t failures = 0;   // failed deliver() calls and store read errors
  uint64_t skipped = 0;    // records pruned before this sink could deliver them
  uint64_t cursor = 0;     // last delivered seq
  uint64_t committed = 0;  // last committed seq the runner knows of
  uint64_t lag() const { return committed > cursor ? committed - cursor : 0; }
  bool failing = false;         // the last attempt failed
  std::string last_error_code;  // the last failure's code ("" = none yet); kept after recovery
};

class SinkRunner {
 public:
  // Opens the runner's own store connection (the store must exist: the
  // trail creates it), reads the sink's cursor and starts the thread. A sink
  // that never delivered starts from the first record in the store.
  // Error codes: audit_store (from the store), audit_sink_config (bad
  // options). Failures later are kept in stats() and logged, and the error
  // code audit_sink_internal stands for a sink that threw.
  static Result<std::unique_ptr<SinkRunner>> start(std::unique_ptr<Sink> sink,
                                                   SinkRunnerOptions options);
  ~SinkRunner();  // stop()
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  // The writer committed up to `committed_seq` (0 = unknown): wake up.
  void notify(uint64_t committed_seq = 0);
  // Delivers what is committed within stop_timeout, then stops. Idempotent.
  void stop();

  const std::string& name() const;
  SinkStats stats() const;

  struct Impl;

 private:
  explicit SinkRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::audit
