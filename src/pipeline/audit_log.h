// The audit log of this issue: one JSON line per exchange, appended to a
// file (mode 0600, O_APPEND) or written to stdout ("-"). Writes are off the
// request path: lines are queued in memory and a writer thread appends them
// every kFlushInterval (or sooner when kFlushBytes are waiting). The queue
// is bounded (kMaxPendingBytes): when the disk falls that far behind, the
// request thread writes itself (back-pressure, never a dropped record).
// The destructor flushes everything. The tamper-evident
// trail (hash chain, signed checkpoints, SQLite, sinks) replaces the file
// writer in the next issue; the record's content is already what it will
// carry.
//
// audit_record() builds the line from a finished Exchange. It carries
// identities, never credentials: request id, time, adapter and route,
// principal and the delegation chain (user -> agents), action, resource,
// decision (with determining policies, their @id names, obligations and
// evaluation errors), whether it was enforced (shadow mode), the status and
// error code the client got, upstream facts (id, error, bytes, token usage),
// latency per stage in nanoseconds (latency_ns), and the configuration version.
//
// Error codes: audit_open (the file cannot be opened for appending).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <string>

#include "common/result.h"
#include "pipeline/exchange.h"

namespace ztgate::pipeline {

std::string audit_record(const Exchange& x, uint64_t config_version);

inline constexpr std::chrono::milliseconds kFlushInterval{50};
inline constexpr size_t kFlushBytes = 64 * 1024;
inline constexpr size_t kMaxPendingBytes = 8 * 1024 * 1024;

class AuditLog {
 public:
  // "-" writes to stdout. The file is created 0600 when missing.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `line` (a newline is added).
  void write(const std::string& line);
  // Writes everything queued now; false when a write failed.
  bool flush();
  uint64_t failures() const;  // lines that could not be written

 private:
  AuditLog(int fd, bool owned);
  void writer_loop();
  bool write_out(const std::string& data);  // holds io_mu_

  int fd_;
  bool owned_;
  mutable std::mutex mu_;  // pending_, stop_
  std::condition_variable wake_;
  std::string pending_;
  // The writer's batch: swapped with pending_ and cleared after each write,
  // so the two buffers keep their capacity instead of a 64 KiB+ string being
  // allocated by a request thread and freed by the writer every batch.
  // Only writer_loop touches it.
  std::string spare_;
  bool stop_ = false;
  std::mutex io_mu_;  // one writer to the fd at a time, in queue order
  std::atomic<uint64_t> failures_{0};
  std::thread writer_;
};

}  // namespace ztgate::pipeline
