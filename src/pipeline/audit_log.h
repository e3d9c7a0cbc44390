// The audit log of this issue: one JSON line per exchange, appended to a
// file (mode 0600, O_APPEND) or written to stdout ("-"). The tamper-evident
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

#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "pipeline/exchange.h"

namespace ztgate::pipeline {

std::string audit_record(const Exchange& x, uint64_t config_version);

class AuditLog {
 public:
  // "-" writes to stdout. The file is created 0600 when missing.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `line` and a newline in one write. False when the write failed
  // (counted; the gateway's metrics report it).
  bool write(const std::string& line);
  uint64_t failures() const;

 private:
  explicit AuditLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
  mutable std::mutex mu_;
  uint64_t failures_ = 0;
};

}  // namespace ztgate::pipeline
