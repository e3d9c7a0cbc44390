// Builds one normalized text from code points, with its OffsetMap (internal).
//
// TextBuilder does the per-character work of normalization: NFKC and
// confusable folding. Invisible characters, HTML and UTF-8 decoding are the
// caller's (Pass) job; what reaches push() is text.
//
// NFKC with offsets. Text is cut into segments: a code point that starts a
// segment (a starter that composes with nothing before it) and what follows
// until the next such code point. Each segment is decomposed (compatibility
// mappings), folded, canonically ordered and composed on its own, which is
// exactly NFKC because composition never crosses such a boundary; its output
// maps to its input bytes as one unit (or byte for byte when unchanged).
// ASCII runs take a fast path: every ASCII character is a segment of its own
// except one that combining marks may follow, so a run is copied as is.
//
// Folding per word. A word is a run of segments starting with a letter (or a
// mark). A look-alike letter (confusables.h) is folded to Latin only when
// its word also has a Latin letter ("іgnore") or has only look-alike letters
// ("рор"): Russian or Greek words stay intact. The decision may wait for the
// end of the word, so such segments are held (at most kMaxHeldSegments).
//
// Bounds: a segment keeps at most kMaxNonStarters combining marks (more are
// dropped, as in Unicode's stream-safe format, and counted in long_clusters)
// and kMaxSegment code points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/offset_map.h"

namespace ztgate::inspect::internal {

class TextBuilder {
 public:
  static constexpr int kMaxNonStarters = 30;
  static constexpr int kMaxSegment = 64;
  static constexpr size_t kMaxHeldSegments = 64;

  // `source` is the text push() spans refer to; it is read to map unchanged
  // characters byte for byte.
  TextBuilder(std::string_view source, bool fold_confusables);

  // One code point of text from source bytes `src`.
  void push(char32_t cp, Span src);
  // Source bytes [begin, end), all ASCII, as text.
  void push_ascii(size_t begin, size_t end);
  // A line break standing for markup at `src` (a block tag), unless the text
  // is empty or already ends with one.
  void push_break(Span src);
  // Starts a new item of a list view: a "\n" (mapped to an empty span at
  // src_pos) unless the text is empty.
  void begin_item(size_t src_pos);
  // Appends bytes [begin, end) of an already normalized text and its map
  // (whose input is this builder's source too).
  void append_normalized(std::string_view text, const OffsetMap& map, size_t begin, size_t end);
  // Emits what is held. push() may follow.
  void finish();

  const std::string& text() const { return out_; }
  const OffsetMap& map() const { return map_; }
  std::string take_text() { return std::move(out_); }
  OffsetMap take_map() { return std::move(map_); }

  size_t confusables() const { return confusables_; }
  size_t compatibility() const { return compatibility_; }
  size_t long_clusters() const { return long_clusters_; }

 private:
  enum class Kind : uint8_t { latin, foldable, other_letter, mark, non_letter };
  static constexpr int kMaxDecomposition = 32;
  static constexpr int kSegmentCapacity = kMaxSegment + kMaxDecomposition;

  struct Held {       // a segment waiting for its word's folding decision
    uint32_t offset;  // into held_cps_
    uint32_t count;
    uint32_t begin, end;
  };

  void open_segment(Span src);
  void close_segment();
  Kind classify() const;
  void end_word();
  void flush_held(bool fold);
  void emit(const int32_t* cps, const uint8_t* ccc, int n, size_t begin, size_t end, bool fold);

  std::string_view source_;
  bool fold_;
  std::string out_;
  OffsetMap map_;

  // The open segment.
  int32_t seg_cps_[kSegmentCapacity];
  uint8_t seg_ccc_[kSegmentCapacity];
  int seg_n_ = 0;
  int seg_nonstarters_ = 0;
  size_t seg_begin_ = 0;
  size_t seg_end_ = 0;

  // The current word.
  bool word_latin_ = false;  // has a Latin letter: fold what it holds
  bool word_other_ = false;  // has a letter that is neither Latin nor a look-alike
  std::vector<int32_t> held_cps_;
  std::vector<uint8_t> held_ccc_;
  std::vector<Held> held_;

  char32_t last_pushed_ = 0;
  bool pushed_any_ = false;
  size_t confusables_ = 0;
  size_t compatibility_ = 0;
  size_t long_clusters_ = 0;
};

}  // namespace ztgate::inspect::internal
