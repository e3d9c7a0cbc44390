#include "audit/postings.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ztgate::audit {
namespace {

void put_varint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

}  // namespace

// Eight bytes per multiply-xorshift step, then MurmurHash3's finalizer so
// that every input bit reaches the kept ones. Not a MAC: the salt only
// keeps outsiders from choosing texts that collide with a given one (which
// would make searches for it read more rows). The keys are stored: this
// function must never change.
int64_t index_key(uint64_t salt, std::string_view text) {
  if (text.empty()) return 0;
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h = salt ^ (static_cast<uint64_t>(text.size()) * kMul);
  // Eight bytes read as a little-endian number whatever the host: the keys
  // are stored.
  auto word = [&](size_t at, size_t n) {
    uint64_t w = 0;
    std::memcpy(&w, text.data() + at, n);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    return w;
  };
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    h = (h ^ word(i, 8)) * kMul;
    h ^= h >> 29;
  }
  h = (h ^ word(i, text.size() - i)) * kMul;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  h &= (uint64_t{1} << 47) - 1;
  return h == 0 ? 1 : static_cast<int64_t>(h);
}

bool decode_postings(std::string_view bytes, uint64_t first_seq, std::vector<uint64_t>& out) {
  out.clear();
  if (bytes.size() > kMaxPostingBytes) return false;
  constexpr uint64_t kMaxSeq = uint64_t{1} << 63;
  uint64_t seq = first_seq;
  size_t i = 0;
  while (i < bytes.size()) {
    uint64_t gap = 0;
    int shift = 0;
    while (true) {
      if (i >= bytes.size() || shift > 63) return false;
      const auto b = static_cast<unsigned char>(bytes[i++]);
      const uint64_t part = b & 0x7f;
      if (shift == 63 && part > 1) return false;
      gap |= part << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (!out.empty() && gap == 0) return false;
    if (gap >= kMaxSeq - seq) return false;
    seq += gap;
    out.push_back(seq);
  }
  return true;
}

void PostingBuilder::start(uint64_t first_seq) {
  first_seq_ = first_seq;
  used_ = 0;
  where_.clear();
}

void PostingBuilder::add(uint64_t seq, const Event& e, uint64_t salt) {
  for (const auto& f : kIndexedFields) {
    const std::string& value = e.*f.member;
    if (value.empty()) continue;
    const int64_t key = index_key(salt, value);
    const uint64_t id = (static_cast<uint64_t>(key) << 3) | static_cast<uint64_t>(f.field);
    auto [it, inserted] = where_.try_emplace(id, used_);
    if (inserted) {
      if (used_ == lists_.size()) {
        lists_.emplace_back();
        last_.push_back(0);
      }
      Posting& p = lists_[used_];
      p.field = f.field;
      p.key = key;
      p.seqs.clear();
      put_varint(p.seqs, seq - first_seq_);
      last_[used_] = seq;
      ++used_;
      continue;
    }
    const size_t at = it->second;
    put_varint(lists_[at].seqs, seq - last_[at]);
    last_[at] = seq;
  }
}

std::span<const Posting> PostingBuilder::finish() {
  // Moves strings, not bytes; where_ and last_ are dead until start().
  std::sort(lists_.begin(), lists_.begin() + static_cast<std::ptrdiff_t>(used_), [](const Posting& a, const Posting& b) {
    return a.field != b.field ? a.field < b.field : a.key < b.key;
  });
  return {lists_.data(), used_};
}

}  // namespace ztgate::audit
