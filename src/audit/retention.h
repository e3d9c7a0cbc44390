// Retention: keeps the store within its bounds by archiving the oldest
// records before deleting them. An archive segment is a JSON Lines file
//
//   {"segment":{"chain_uid":..,"first_seq":F,"last_seq":L,"prev":"<hex>"}}
//   <sealed record F>
//   ... (each checkpoint line right after the record it seals) ...
//   <sealed record L>
//   {"checkpoint":{... "seq":L ...}}
//
// that `ztgate audit verify --file` checks on its own (with the public
// key). Segments always end on a signed checkpoint: only sealed records are
// archived. Records a sink has not delivered yet are never deleted (a dead
// sink holds retention back; the log says so). The store keeps each
// segment's path and SHA-256, and the last archived record as the anchor
// the remaining chain starts from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/store.h"
#include "common/result.h"

namespace ztgate::audit {

struct RetentionPolicy {
  uint64_t max_records = 0;  // 0 = unbounded
  uint64_t max_bytes = 0;    // of record text
  int64_t max_age_ms = 0;
  std::string archive_dir;
  uint64_t max_segment_records = 100'000;  // one pass archives at most this many
};

inline bool retention_enabled(const RetentionPolicy& p) {
  return p.max_records > 0 || p.max_bytes > 0 || p.max_age_ms > 0;
}

// One pass. Returns the segment written, or nullopt when nothing was due (or
// nothing could be archived yet: `held_back` then says why, else "").
// Errors: audit_store, audit_archive (the segment could not be written:
// nothing is deleted).
Result<std::optional<Archive>> apply_retention(AuditStore& store, const RetentionPolicy& policy, int64_t now_ms,
                                               std::string* held_back = nullptr);

}  // namespace ztgate::audit
