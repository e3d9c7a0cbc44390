// Verification of a trail: the hash chain, the sequence, the checkpoints.
// Finds and names, in plain words, where the trail was changed:
//
//   altered            a record's content no longer matches its fingerprint
//   malformed          a record is not a sealed record at all
//   missing            sequence numbers are missing (records deleted)
//   reordered          a record sits where another belongs (swapped, moved)
//   broken_link        a record does not link to its predecessor (a record
//                      before it was replaced, fingerprint and all)
//   foreign_chain      a record belongs to another trail (other chain id)
//   bad_signature      a checkpoint's signature does not verify (forged or
//                      altered), or it was signed by another key
//   checkpoint_mismatch a checkpoint's head differs from the record it seals
//   truncated          records a checkpoint sealed are gone from the end
//   archive_missing / archive_altered   a retention segment is gone or changed
//   index_mismatch     the search index (commit groups, posting lists of a
//                      version 3 store) does not match the records: searches
//                      could miss records (they never return a wrong one)
//
// Records after the last checkpoint are reported as unsealed (not a
// problem: the next checkpoint seals them; deleting them before it cannot
// be detected — the checkpoint interval bounds that window).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/store.h"
#include "common/result.h"

namespace ztgate::audit {

struct Problem {
  std::string kind;  // see above
  uint64_t seq = 0;  // where (0 = the trail as a whole)
  std::string message;
};

struct VerifyReport {
  uint64_t records = 0;      // records read
  uint64_t first_seq = 0;    // first and last seq seen
  uint64_t last_seq = 0;
  uint64_t checkpoints = 0;  // checkpoints verified
  uint64_t sealed_seq = 0;   // the last seq sealed by a valid checkpoint
  std::vector<Problem> problems;  // in trail order, at most kMaxProblems
  uint64_t more_problems = 0;     // problems not listed
  bool ok() const { return problems.empty(); }
};
inline constexpr size_t kMaxProblems = 100;

// Consumes a trail in order (records, and checkpoints anywhere after or
// before the record they seal) and reports. `start`: where the chain
// starts (seq 0 = genesis; else the anchor pruning or a segment left).
// Without a verifier, signatures are reported as unverifiable.
class ChainVerifier {
 public:
  ChainVerifier(std::string chain_uid, std::optional<CheckpointVerifier> key, ChainHead start);
  // `row_seq`: the seq the store keeps the record under (0 for files: the
  // order of lines is the position).
  void record(uint64_t row_seq, std::string_view text);
  void checkpoint(const Checkpoint& c);
  VerifyReport finish();

 private:
  void problem(std::string kind, uint64_t seq, std::string message);
  void check_checkpoint(const Checkpoint& c, const Digest& fingerprint, bool content_ok);

  std::string chain_uid_;
  std::optional<CheckpointVerifier> key_;
  uint64_t expected_;                 // the next seq
  std::optional<Digest> prev_;        // fingerprint of expected_-1 (unknown after damage)
  bool damaged_since_checkpoint_ = false;
  std::map<uint64_t, Checkpoint> pending_;  // checkpoints waiting for their record
  uint64_t last_checkpoint_seq_ = 0;
  VerifyReport report_;
};

// The whole store: archives (when their files are readable), the records
// from the anchor on, every checkpoint.
Result<VerifyReport> verify_store(AuditStore& store, const std::optional<CheckpointVerifier>& key);
// A JSON Lines file: sealed records and {"checkpoint":...} lines (an
// archive segment, a jsonl sink's file). An optional first line
// {"segment":{"chain_uid":..,"first_seq":N,"prev":"<hex>"}} says where it starts.
Result<VerifyReport> verify_file(const std::string& path, const std::optional<CheckpointVerifier>& key);

}  // namespace ztgate::audit
