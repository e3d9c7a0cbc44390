#include "inspect/offset_map.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace ztgate::inspect {

void OffsetMap::append(size_t out_len, size_t in_begin, size_t out_unit, size_t in_unit) {
  assert(out_len > 0 && out_unit > 0 && out_len % out_unit == 0);
  if (out_len == 0 || out_unit == 0) return;
  if (!pieces_.empty()) {
    const Piece& last = pieces_.back();
    if (last.out_unit == out_unit && last.in_unit == in_unit) {
      size_t units = (size_ - last.out_begin) / last.out_unit;
      if (last.in_begin + units * last.in_unit == in_begin) {
        size_ += static_cast<uint32_t>(out_len);
        return;
      }
    }
  }
  pieces_.push_back(Piece{size_, static_cast<uint32_t>(in_begin), static_cast<uint32_t>(out_unit),
                          static_cast<uint32_t>(in_unit)});
  size_ += static_cast<uint32_t>(out_len);
}

void OffsetMap::append_slice(const OffsetMap& src, size_t begin, size_t end) {
  end = std::min(end, src.size());
  if (begin >= end) return;
  for (size_t i = src.piece_at(begin); i < src.pieces_.size() && src.pieces_[i].out_begin < end;
       ++i) {
    const Piece& p = src.pieces_[i];
    size_t r0 = std::max(begin, size_t{p.out_begin}) - p.out_begin;
    size_t r1 = std::min(end, src.piece_end(i)) - p.out_begin;
    const size_t ou = p.out_unit;
    const size_t iu = p.in_unit;
    if (r0 % ou != 0) {  // the slice starts inside a unit
      size_t k = r0 / ou;
      size_t head_end = std::min(r1, (k + 1) * ou);
      append(head_end - r0, p.in_begin + k * iu, head_end - r0, iu);
      r0 = head_end;
    }
    if (r0 >= r1) continue;
    size_t k0 = r0 / ou;
    size_t k1 = r1 / ou;
    if (k1 > k0) {
      append((k1 - k0) * ou, p.in_begin + k0 * iu, ou, iu);
      r0 = k1 * ou;
    }
    if (r0 < r1) append(r1 - r0, p.in_begin + k1 * iu, r1 - r0, iu);  // ends inside a unit
  }
}

void OffsetMap::truncate(size_t size) {
  if (size >= size_) return;
  while (!pieces_.empty() && pieces_.back().out_begin >= size) pieces_.pop_back();
  size_ = static_cast<uint32_t>(size);
}

size_t OffsetMap::piece_at(size_t out) const {
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), out,
                             [](size_t o, const Piece& p) { return o < p.out_begin; });
  return static_cast<size_t>(it - pieces_.begin()) - 1;
}

Span OffsetMap::unit_span(size_t piece, size_t out) const {
  const Piece& p = pieces_[piece];
  size_t k = (out - p.out_begin) / p.out_unit;
  size_t b = p.in_begin + k * p.in_unit;
  return Span{b, b + p.in_unit};
}

Span OffsetMap::map(size_t begin, size_t end) const {
  if (pieces_.empty()) return {};
  end = std::min(end, size());
  if (begin >= end) {
    if (begin >= size()) {
      const Piece& p = pieces_.back();
      size_t pos = p.in_begin + (size_ - p.out_begin) / p.out_unit * p.in_unit;
      return Span{pos, pos};
    }
    Span s = unit_span(piece_at(begin), begin);
    return Span{s.begin, s.begin};
  }
  size_t first = piece_at(begin);
  size_t last = piece_at(end - 1);
  size_t lo = std::numeric_limits<size_t>::max();
  size_t hi = 0;
  size_t inserted_at = std::numeric_limits<size_t>::max();
  for (size_t i = first; i <= last; ++i) {
    size_t a = i == first ? begin : pieces_[i].out_begin;
    size_t b = i == last ? end - 1 : piece_end(i) - 1;
    Span s{unit_span(i, a).begin, unit_span(i, b).end};
    if (s.empty()) {  // inserted text: counts only when nothing else does
      inserted_at = std::min(inserted_at, s.begin);
      continue;
    }
    lo = std::min(lo, s.begin);
    hi = std::max(hi, s.end);
  }
  if (lo > hi) return Span{inserted_at, inserted_at};
  return Span{lo, hi};
}

OffsetMap OffsetMap::compose(const OffsetMap& parent) const {
  OffsetMap out;
  out.pieces_.reserve(pieces_.size());
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const Piece& p = pieces_[i];
    const size_t len = piece_end(i) - p.out_begin;
    const size_t want = size_t{p.out_begin} + len;
    if (p.in_unit == 0) {
      Span at = parent.map(p.in_begin, p.in_begin);
      out.append(len, at.begin, p.out_unit, 0);
    } else if (p.out_unit == 1 && p.in_unit == 1) {
      out.append_slice(parent, p.in_begin, p.in_begin + len);
    } else {
      for (size_t k = 0; k * p.out_unit < len; ++k) {
        size_t in = p.in_begin + k * p.in_unit;
        Span t = parent.map(in, in + p.in_unit);
        out.append(p.out_unit, t.begin, p.out_unit, t.size());
      }
    }
    if (out.size() < want) {  // `parent` is shorter than this map's input: map the rest to its end
      Span at = parent.map(parent.size(), parent.size());
      out.append(want - out.size(), at.begin, want - out.size(), 0);
    }
  }
  return out;
}

}  // namespace ztgate::inspect
