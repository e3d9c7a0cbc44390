// The audit store: sealed records and signed checkpoints in SQLite (WAL,
// synchronous=FULL: a committed append survives a crash or power loss),
// indexed for search by time, principal, agent, action, resource, decision.
//
// Tables: records (seq, time, indexed fields, sealed text), checkpoints,
// cursors (each sink's last delivered seq), archives (segments exported by
// retention), meta (chain id; the anchor left by pruning; the schema
// version: store.cpp says what each has); version 3 (new stores) indexes
// by commit group: record_groups and postings (postings.h). One AuditStore is one connection
// (and its own lock): the writer uses one, readers (sinks, search, verify)
// open their own; WAL lets them read while the writer appends.
//
// Errors: "audit_store" (open, schema, I/O: disk full comes back as this,
// with SQLite's message), "audit_store_busy".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/digest.h"
#include "audit/event.h"
#include "common/result.h"

namespace ztgate::audit {

// A record as stored: its sequence number, the indexed fields and the
// sealed text (chain.h). `event.json` is empty: `text` is the record.
struct StoredRecord {
  uint64_t seq = 0;
  Event event;       // time_ms, request_id, route, principal, agent, action, resource, decision, findings
  std::string text;  // the sealed record (OCSF JSON with attestation)
};

// A record to append, lent by the caller for the duration of append():
// `fields` gives the indexed fields (its `json` is not read), `text` the
// sealed record. What the trail's writer passes, without copying either.
struct RecordRef {
  uint64_t seq = 0;
  const Event* fields = nullptr;
  std::string_view text;
};

// The last record of the chain (or the anchor pruning left): where the
// next append continues. seq 0 = empty chain.
struct ChainHead {
  uint64_t seq = 0;
  Digest fingerprint{};
};

// A segment that retention exported before deleting it from the store.
struct Archive {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  Digest last_fingerprint{};
  std::string path;
  std::string file_sha256;  // hex of the segment file's SHA-256
  int64_t time_ms = 0;
};

// Search filters; empty strings and nullopt do not filter. Pages go by seq:
// ascending from `after_seq`, or descending (newest first) below `before_seq`.
struct Query {
  std::optional<int64_t> since_ms;  // time >= since
  std::optional<int64_t> until_ms;  // time < until
  std::string principal, agent, action, resource, decision, route, request_id;
  std::string finding;  // one category
  bool newest_first = true;
  uint64_t after_seq = 0;   // ascending pages
  uint64_t before_seq = 0;  // descending pages (0 = from the newest)
  size_t limit = 100;       // clamped to [1, kMaxQueryLimit]
};
inline constexpr size_t kMaxQueryLimit = 1000;

// "2026-11-24T08:00:00Z" (RFC 3339, UTC, seconds) as Unix milliseconds;
// nullopt for anything else. How search times are written (CLI, admin API).
std::optional<int64_t> parse_utc_time_ms(const std::string& text);

struct QueryPage {
  std::vector<StoredRecord> records;
  // The cursor for the next page (after_seq or before_seq), when there may be more.
  std::optional<uint64_t> next;
};

class AuditStore {
 public:
  // Opens or creates the store (parent directory must exist; file mode
  // 0600). Creates the chain id on first open. `read_only` opens without
  // creating anything (verify, search from the CLI).
  static Result<std::unique_ptr<AuditStore>> open(const std::string& path, bool read_only = false);
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  const std::string& chain_uid() const;
  // The connection's page cache (SQLite's default is 2 MiB, what readers and
  // sink runners keep). The trail's writer asks for a whole group's worth.
  Status set_cache_kib(size_t kib);
  Result<ChainHead> head();  // the last record, else the pruning anchor, else {0, zeros}

  // WAL checkpoints (copying committed pages from the write-ahead log into
  // the database file, and its fsync: about a third of a commit's time) are
  // done by the committing connection, after a commit that left more than
  // 1000 pages in the log (SQLite's default). The trail's writer hands them
  // to a thread and connection the store opens on `path` (this store's):
  // every 8 MiB appended they copy what is committed while the writer goes
  // on; every 64 MiB the writer waits for the copy to finish before its
  // next transaction, so that the log starts over (it stays bounded).
  // Durability is unchanged: commits still fsync the log.
  Status checkpoint_in_background(const std::string& path);

  // Appends records (consecutive seqs continuing head()) and checkpoints in
  // one transaction: all or nothing, durable when it returns ok.
  Status append(const std::vector<StoredRecord>& records, const std::vector<Checkpoint>& checkpoints);
  Status append(std::span<const RecordRef> records, const std::vector<Checkpoint>& checkpoints);

  // Records with seq > after_seq, ascending, at most `limit`.
  Result<std::vector<StoredRecord>> read_after(uint64_t after_seq, size_t limit);
  Result<std::optional<StoredRecord>> record(uint64_t seq);
  Result<uint64_t> first_seq();  // 0 when empty
  Result<uint64_t> count();
  Result<uint64_t> total_bytes();  // sum of record text sizes
  Result<uint64_t> last_seq_before(int64_t time_ms);  // the newest record older than time_ms (0 = none)
  // Checkpoints with seq >= from_seq, ascending by seq.
  Result<std::vector<Checkpoint>> checkpoints(uint64_t from_seq = 0);
  Result<std::optional<Checkpoint>> last_checkpoint();

  Result<QueryPage> query(const Query& q);

  // A version 3 store's search index (its commit groups and posting lists,
  // store.cpp) is not covered by the chain: an edit there could hide
  // records from searches (never change what a search returns: every
  // record read is checked). check_index() rebuilds the index from the
  // records and names where the stored one differs (at most `max`
  // problems). Versions 1 and 2 use SQLite's own indexes: nothing to check.
  struct IndexProblem {
    uint64_t seq = 0;  // the first seq of the group concerned (0 = the store as a whole)
    std::string message;
  };
  Result<std::vector<IndexProblem>> check_index(size_t max);
  int schema_version() const;

  // Sinks: the last seq each delivered (0 = nothing yet).
  Result<uint64_t> cursor(std::string_view sink);
  Status set_cursor(std::string_view sink, uint64_t seq);
  Result<std::vector<std::pair<std::string, uint64_t>>> cursors();

  // Retention: records up to and including `last_seq` were exported to
  // `archive`; delete them and keep (last_seq, fingerprint) as the anchor
  // the remaining chain starts from. One transaction.
  Status prune(const Archive& archive);
  Result<std::vector<Archive>> archives();
  // The anchor: the last pruned record (seq 0 when nothing was pruned).
  Result<ChainHead> anchor();

  struct Impl;

 private:
  explicit AuditStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::audit
