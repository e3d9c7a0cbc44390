// Where each byte of a derived text came from in the original input, so that
// a finding on normalized or decoded text can be redacted in the original.
//
// An OffsetMap is piecewise. The derived text is cut into consecutive pieces;
// a piece is made of equal units of `out_unit` output bytes, and unit k of a
// piece comes from the input bytes [in_begin + k*in_unit, in_begin +
// (k+1)*in_unit). Copied text is one piece of 1:1 units; a character that
// NFKC rewrote is one unit (its output bytes come from its input bytes as a
// whole: "ｉ" is 1 output byte from 3 input bytes); base64 is 3:4 units. A
// unit with in_unit 0 is text the normalizer inserted (a separator between
// items), which maps to an empty span at a position.
//
// Guarantee: map(b, e) covers every input byte that produced any output byte
// in [b, e), at unit granularity (never less than a whole unit), so a
// redaction of the mapped span always removes the characters behind the
// finding, including invisible characters between them.
//
// Offsets are 32-bit: the normalizer refuses inputs of 256 MiB or more.
// Immutable once built; safe to share between threads for reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ztgate::inspect {

// A half-open byte range [begin, end).
struct Span {
  size_t begin = 0;
  size_t end = 0;

  size_t size() const { return end - begin; }
  bool empty() const { return end == begin; }
  bool operator==(const Span&) const = default;
};

class OffsetMap {
 public:
  struct Piece {
    uint32_t out_begin = 0;
    uint32_t in_begin = 0;
    uint32_t out_unit = 1;
    uint32_t in_unit = 1;
  };

  // Appends `out_len` output bytes (a positive multiple of out_unit) made of
  // units of out_unit bytes, each from the next in_unit input bytes starting
  // at in_begin. Merges with the previous piece when it continues it.
  void append(size_t out_len, size_t in_begin, size_t out_unit, size_t in_unit);
  // Appends the map of bytes [begin, end) of the text `src` maps: for text
  // copied out of another derived text. Units cut by the slice become single
  // coarser units (a partial unit still maps to its whole input unit).
  void append_slice(const OffsetMap& src, size_t begin, size_t end);
  // Drops the output bytes from `size` on (a size this map had before).
  void truncate(size_t size);

  // Number of output bytes mapped.
  size_t size() const { return size_; }
  const std::vector<Piece>& pieces() const { return pieces_; }

  // The input span behind output bytes [begin, end) (clamped to size()): the
  // smallest span holding the input units of all of them. For an empty range
  // an empty span at the input position of `begin`.
  Span map(size_t begin, size_t end) const;

  // This map followed by `parent`: when this map's input is the output of
  // `parent` (decoded bytes -> the view they were found in), the result maps
  // this map's output straight to parent's input.
  OffsetMap compose(const OffsetMap& parent) const;

 private:
  size_t piece_end(size_t i) const {
    return i + 1 < pieces_.size() ? pieces_[i + 1].out_begin : size_;
  }
  size_t piece_at(size_t out) const;  // index of the piece holding byte `out` (< size())
  Span unit_span(size_t piece, size_t out) const;

  std::vector<Piece> pieces_;
  uint32_t size_ = 0;
};

}  // namespace ztgate::inspect
