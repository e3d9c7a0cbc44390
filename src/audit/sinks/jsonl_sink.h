// JsonlSink: the sealed records as JSON Lines in a local file, one record
// per line, byte for byte as stored (so `ztgate audit verify --file` and any
// SIEM agent tailing the file see the chain itself).
//
// The file is created 0600 and opened O_APPEND; each batch is written and
// fsync'ed before deliver() returns. A batch that fails half way is cut
// back off the file (ftruncate to its size before the batch) so a retry
// never leaves a torn line.
//
// Rotation (rotate_bytes > 0): before a record would take the file past
// rotate_bytes, the file is fsync'ed and renamed like logrotate does —
// name.(keep-1) -> name.keep, ..., name -> name.1 — and a new file started;
// the oldest (name.keep) is deleted. A single record larger than
// rotate_bytes gets a file of its own. When someone else renames or removes
// the file (an external logrotate), the next batch reopens `path`.
//
// Error codes: audit_sink_config (bad path, keep, rotate_bytes),
// audit_sink_io (open, write, fsync, rename: errno text, never record
// content), audit_sink_record (a record with a raw CR or LF: it would break
// the line framing; the writer never produces one).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "audit/sink.h"

namespace ztgate::audit {

struct JsonlSinkOptions {
  std::string name;           // the sink's name (cursor key), e.g. "jsonl:local"
  std::string path;           // absolute or relative file path
  uint64_t rotate_bytes = 0;  // 0 = never rotate
  uint32_t keep = 10;         // rotated files kept: 1..kMaxJsonlKeep
};

inline constexpr uint32_t kMaxJsonlKeep = 1000;
inline constexpr uint64_t kMinJsonlRotateBytes = 4096;

class JsonlSink final : public Sink {
 public:
  // Opens (creates) the file at once so a bad path fails at startup.
  static Result<std::unique_ptr<JsonlSink>> open(JsonlSinkOptions options);
  ~JsonlSink() override;

  const std::string& name() const override { return options_.name; }
  Status deliver(const std::vector<StoredRecord>& batch) override;

 private:
  explicit JsonlSink(JsonlSinkOptions options) : options_(std::move(options)) {}
  Status open_file();
  Status ensure_current();  // reopens when `path` is no longer our file
  Status rotate();
  Status write_chunk(const std::string& data);

  JsonlSinkOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes in the current file
  uint64_t dev_ = 0, ino_ = 0;
};

}  // namespace ztgate::audit
