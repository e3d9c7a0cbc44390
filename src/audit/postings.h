// Posting lists: the search index of a version 3 audit store (store.cpp).
//
// Instead of one index entry per record and indexed field (version 2: six
// B-tree inserts per record, most of what the writer did), a commit group
// gets one row per distinct (field, value): the seqs of the group's
// records that hold the value. A 4,096-record group of the benchmark's
// events has ~30 such rows instead of ~24,000 index entries.
//
// A list is the seqs in ascending order as unsigned LEB128 varints: the
// first is its distance from the group's first seq, each next one its
// distance from the one before (>= 1). A value that most records hold
// costs one byte per record.
//
// The values are keyed by the store's index_key() (a salted 47-bit hash):
// two values may share a key, so a list only names candidates and the
// search re-checks every record it reads (never a wrong answer).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/event.h"

namespace ztgate::audit {

// The fields a version 3 store indexes, by the number stored in the
// `postings.field` column (stored: never renumber).
enum class IndexedField : int { principal = 1, agent = 2, action = 3, resource = 4, decision = 5 };

struct IndexedFieldInfo {
  IndexedField field;
  std::string Event::*member;
  const char* column;  // the records table's column
};
// In the order a search prefers to walk them (the usually more selective first).
inline constexpr IndexedFieldInfo kIndexedFields[] = {
    {IndexedField::principal, &Event::principal, "principal"},
    {IndexedField::agent, &Event::agent, "agent"},
    {IndexedField::resource, &Event::resource, "resource"},
    {IndexedField::action, &Event::action, "action"},
    {IndexedField::decision, &Event::decision, "decision"},
};

// One posting list of a group.
struct Posting {
  IndexedField field = IndexedField::principal;
  int64_t key = 0;
  std::string seqs;  // encoded as above
};

// Bounds: a group holds at most kMaxGroupRecords records (the trail's
// groups hold max_batch, 4,096 by default), so a list is at most
// kMaxPostingBytes (10 bytes per varint); longer bytes are refused unread.
inline constexpr size_t kMaxGroupRecords = 400'000;
inline constexpr size_t kMaxPostingBytes = kMaxGroupRecords * 10;

// Decodes a list of the group starting at `first_seq` into `out`
// (cleared). false when the bytes are not a list (longer than
// kMaxPostingBytes, a truncated varint, one longer than 10 bytes, a zero
// gap after the first, a seq past 2^63-1):
// the store's file was damaged or edited.
bool decode_postings(std::string_view bytes, uint64_t first_seq, std::vector<uint64_t>& out);

// Builds one group's lists. Reused from group to group (its memory stays).
// `key(text)` is the store's index_key(); empty values are not indexed.
class PostingBuilder {
 public:
  void start(uint64_t first_seq);
  // Records in ascending seq order, from the group's first seq on.
  void add(uint64_t seq, const Event& e, uint64_t salt);
  // The group's lists, ordered by (field, key): the order of the table's
  // primary key, so that the inserts walk the B-tree once.
  std::span<const Posting> finish();

 private:
  uint64_t first_seq_ = 0;
  std::vector<Posting> lists_;  // [0, used_) are this group's
  std::vector<uint64_t> last_;  // the last seq added to each
  size_t used_ = 0;
  std::unordered_map<uint64_t, size_t> where_;  // (key << 3 | field) -> index in lists_
};

// The store's index key of a text (store.cpp: index_key, version 2 and 3).
int64_t index_key(uint64_t salt, std::string_view text);

}  // namespace ztgate::audit
