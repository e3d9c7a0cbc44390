// Fuzz target: the posting lists of a version 3 audit store (src/audit/
// postings.h) as decode_postings() reads them from a store file someone
// may have edited. The input's first 8 bytes are the group's first seq
// (little-endian), the rest the list.
//
// Properties, for any input:
//   1. Nothing crashes, hangs, leaks or hits undefined behavior.
//   2. A list that decodes gives at most one seq per byte, strictly
//      ascending, the first at or after the group's first seq, none past
//      2^63 - 1.
//   3. Those seqs built into a list again (PostingBuilder) decode to the
//      same seqs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "audit/postings.h"
#include "property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ztgate::fuzz::require;
  if (size < 8) return 0;
  uint64_t first = 0;
  std::memcpy(&first, data, 8);
  first &= (uint64_t{1} << 62) - 1;
  first = first == 0 ? 1 : first;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 8, size - 8);
  std::vector<uint64_t> seqs;
  if (!ztgate::audit::decode_postings(bytes, first, seqs)) return 0;
  require(seqs.size() <= bytes.size(), "at most one seq per byte");
  for (size_t i = 0; i < seqs.size(); ++i) {
    require(seqs[i] >= first && seqs[i] < (uint64_t{1} << 63), "seqs within the group and below 2^63");
    require(i == 0 || seqs[i] > seqs[i - 1], "seqs strictly ascending");
  }
  if (seqs.empty()) return 0;
  ztgate::audit::PostingBuilder builder;
  builder.start(first);
  ztgate::audit::Event e;
  e.decision = "allow";
  for (uint64_t s : seqs) builder.add(s, e, 7);
  auto lists = builder.finish();
  require(lists.size() == 1, "one value, one list");
  std::vector<uint64_t> again;
  require(ztgate::audit::decode_postings(lists[0].seqs, first, again), "a built list decodes");
  require(again == seqs, "a built list decodes to its seqs");
  return 0;
}
