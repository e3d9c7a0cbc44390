#include "inspect/internal/text_builder.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "inspect/internal/confusables.h"
#include "inspect/internal/utf8.h"

namespace ztgate::inspect::internal {
namespace {

// The options of utf8proc's own NFKC.
constexpr auto kDecompose =
    static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STABLE);
constexpr auto kCompose = static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE);

// A starter that composes with the starter before it: the second half of a
// primary composite (e.g. U+0B3E, U+0CD5), or a Hangul vowel or trailing
// consonant (composed algorithmically). Such a code point does not start a
// segment.
bool composes_with_previous(char32_t cp, const utf8proc_property_t* p) {
  if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2)) return true;
#if UTF8PROC_VERSION_MAJOR == 2 && UTF8PROC_VERSION_MINOR < 9
  // utf8proc 2.8 (Debian 12) packs "second of a pair" as comb_index >= 0x8000.
  return p->comb_index != UINT16_MAX && p->comb_index >= 0x8000;
#else
  return p->comb_issecond;
#endif
}

bool is_letter(utf8proc_category_t c) {
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}
bool is_mark(utf8proc_category_t c) {
  return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}

// Latin letters beyond ASCII (after decomposition most are ASCII + marks).
bool is_latin_block(char32_t c) {
  return (c >= 0x00C0 && c <= 0x024F) || (c >= 0x1E00 && c <= 0x1EFF) ||
         (c >= 0x2C60 && c <= 0x2C7F) || (c >= 0xA720 && c <= 0xA7FF) ||
         (c >= 0xAB30 && c <= 0xAB6F);
}

}  // namespace

TextBuilder::TextBuilder(std::string_view source, bool fold_confusables)
    : source_(source), fold_(fold_confusables) {}

void TextBuilder::open_segment(Span src) {
  seg_n_ = 0;
  seg_nonstarters_ = 0;
  seg_begin_ = src.begin;
  seg_end_ = src.end;
}

void TextBuilder::push(char32_t cp, Span src) {
  pushed_any_ = true;
  last_pushed_ = cp;
  if (cp < 0x80) {
    close_segment();
    open_segment(src);
    seg_cps_[0] = static_cast<int32_t>(cp);
    seg_ccc_[0] = 0;
    seg_n_ = 1;
    return;
  }
  int32_t d[kMaxDecomposition];
  uint8_t c[kMaxDecomposition];
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
  int k = 1;
  d[0] = static_cast<int32_t>(cp);
  if (p->decomp_seqindex != UINT16_MAX) {
    int boundclass = 0;
    utf8proc_ssize_t r =
        utf8proc_decompose_char(d[0], d, kMaxDecomposition, kDecompose, &boundclass);
    if (r >= 1 && r <= kMaxDecomposition) {
      k = static_cast<int>(r);
    } else {
      d[0] = static_cast<int32_t>(cp);
    }
    if (p->decomp_type != 0) ++compatibility_;
  }
  const utf8proc_property_t* first =
      k == 1 && d[0] == static_cast<int32_t>(cp) ? p : utf8proc_get_property(d[0]);
  int nonstarters = 0;
  for (int i = 0; i < k; ++i) {
    c[i] = static_cast<uint8_t>(i == 0 ? first->combining_class
                                       : utf8proc_get_property(d[i])->combining_class);
    nonstarters += c[i] != 0;
  }
  const bool starter = c[0] == 0;
  const bool joins = !starter || composes_with_previous(static_cast<char32_t>(d[0]), first);
  if (!joins || seg_n_ == 0) {
    close_segment();
    open_segment(src);
  } else if (seg_n_ + k > kMaxSegment || seg_nonstarters_ + nonstarters > kMaxNonStarters) {
    ++long_clusters_;
    if (!starter) {  // drop the mark; the segment's span still covers it
      seg_end_ = std::max(seg_end_, src.end);
      return;
    }
    close_segment();
    open_segment(src);
  }
  std::memcpy(seg_cps_ + seg_n_, d, sizeof(int32_t) * static_cast<size_t>(k));
  std::memcpy(seg_ccc_ + seg_n_, c, static_cast<size_t>(k));
  seg_n_ += k;
  seg_nonstarters_ += nonstarters;
  seg_begin_ = std::min(seg_begin_, src.begin);
  seg_end_ = std::max(seg_end_, src.end);
}

void TextBuilder::push_ascii(size_t begin, size_t end) {
  const auto* s = reinterpret_cast<const unsigned char*>(source_.data());
  if (end - begin < 3) {
    for (size_t i = begin; i < end; ++i) push(s[i], Span{i, i + 1});
    return;
  }
  // The first character closes whatever is open (and may settle the word);
  // the middle ones are segments of their own, copied; the last one stays
  // open since combining marks may follow it.
  push(s[begin], Span{begin, begin + 1});
  close_segment();
  const size_t bulk = end - begin - 2;
  out_.append(source_.data() + begin + 1, bulk);
  map_.append(bulk, begin + 1, 1, 1);
  word_latin_ = is_ascii_alpha(s[end - 2]);
  word_other_ = false;
  push(s[end - 1], Span{end - 1, end});
}

void TextBuilder::push_break(Span src) {
  if (!pushed_any_ || last_pushed_ == '\n') return;
  push('\n', src);
}

void TextBuilder::begin_item(size_t src_pos) {
  finish();
  if (!out_.empty()) {
    out_.push_back('\n');
    map_.append(1, src_pos, 1, 0);
  }
  pushed_any_ = !out_.empty();
  last_pushed_ = '\n';
}

void TextBuilder::append_normalized(std::string_view text, const OffsetMap& map, size_t begin,
                                    size_t end) {
  finish();
  end = std::min(end, text.size());
  if (begin >= end) return;
  out_.append(text.substr(begin, end - begin));
  map_.append_slice(map, begin, end);
  pushed_any_ = true;
  last_pushed_ = static_cast<unsigned char>(text[end - 1]);
}

void TextBuilder::finish() {
  close_segment();
  end_word();
}

TextBuilder::Kind TextBuilder::classify() const {
  const auto c = static_cast<char32_t>(seg_cps_[0]);
  if (seg_ccc_[0] != 0) return Kind::mark;
  if (c < 0x80) return is_ascii_alpha(c) ? Kind::latin : Kind::non_letter;
  if (fold_ && fold_confusable(c) != 0) return Kind::foldable;
  utf8proc_category_t cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  if (is_letter(cat)) return is_latin_block(c) ? Kind::latin : Kind::other_letter;
  if (is_mark(cat)) return Kind::mark;
  return Kind::non_letter;
}

void TextBuilder::close_segment() {
  if (seg_n_ == 0) return;
  const Kind kind = classify();
  const int n = seg_n_;
  seg_n_ = 0;
  bool hold = false;
  switch (kind) {
    case Kind::non_letter:
      end_word();
      break;
    case Kind::latin:
      word_latin_ = true;
      flush_held(true);
      break;
    case Kind::foldable:
      hold = !word_latin_;
      break;
    case Kind::other_letter:
      word_other_ = true;
      hold = !held_.empty();
      break;
    case Kind::mark:
      hold = !held_.empty();
      break;
  }
  if (!hold) {
    emit(seg_cps_, seg_ccc_, n, seg_begin_, seg_end_, word_latin_);
    return;
  }
  held_.push_back(Held{static_cast<uint32_t>(held_cps_.size()), static_cast<uint32_t>(n),
                       static_cast<uint32_t>(seg_begin_), static_cast<uint32_t>(seg_end_)});
  held_cps_.insert(held_cps_.end(), seg_cps_, seg_cps_ + n);
  held_ccc_.insert(held_ccc_.end(), seg_ccc_, seg_ccc_ + n);
  if (held_.size() >= kMaxHeldSegments) flush_held(!word_other_);
}

void TextBuilder::end_word() {
  // Without a Latin letter (else nothing would be held), fold a word made
  // only of look-alikes.
  flush_held(!word_other_);
  word_latin_ = false;
  word_other_ = false;
}

void TextBuilder::flush_held(bool fold) {
  for (const Held& h : held_)
    emit(held_cps_.data() + h.offset, held_ccc_.data() + h.offset, static_cast<int>(h.count),
         h.begin, h.end, fold);
  held_.clear();
  held_cps_.clear();
  held_ccc_.clear();
}

void TextBuilder::emit(const int32_t* cps, const uint8_t* ccc, int n, size_t begin, size_t end,
                       bool fold) {
  const size_t start = out_.size();
  if (n == 1 && cps[0] < 0x80) {
    out_.push_back(static_cast<char>(cps[0]));
  } else {
    int32_t buf[kSegmentCapacity];
    uint8_t cc[kSegmentCapacity];
    std::memcpy(buf, cps, sizeof(int32_t) * static_cast<size_t>(n));
    std::memcpy(cc, ccc, static_cast<size_t>(n));
    if (fold && fold_) {
      for (int i = 0; i < n; ++i) {
        if (cc[i] != 0 || buf[i] < 0x80) continue;
        if (char f = fold_confusable(static_cast<char32_t>(buf[i])); f != 0) {
          buf[i] = f;
          ++confusables_;
        }
      }
    }
    // Canonical ordering: each run of combining marks sorted by class, stably.
    for (int i = 1; i < n; ++i) {
      for (int j = i; j > 0 && cc[j] != 0 && cc[j - 1] > cc[j]; --j) {
        std::swap(cc[j - 1], cc[j]);
        std::swap(buf[j - 1], buf[j]);
      }
    }
    int m = n;
    if (n > 1) {
      utf8proc_ssize_t r = utf8proc_normalize_utf32(buf, n, kCompose);
      if (r > 0) m = static_cast<int>(r);
    }
    for (int i = 0; i < m; ++i) encode_utf8(static_cast<char32_t>(buf[i]), out_);
  }
  const size_t len = out_.size() - start;
  if (len == end - begin && std::memcmp(out_.data() + start, source_.data() + begin, len) == 0) {
    map_.append(len, begin, 1, 1);
  } else {
    map_.append(len, begin, len, end - begin);
  }
}

}  // namespace ztgate::inspect::internal
