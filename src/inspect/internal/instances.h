// The parts of a text the injection classifier scores on their own
// ("instances"); a text's logit is the largest of theirs, so an injection in
// a long document is judged on the few lines around it, not diluted by the
// whole. Shared by scoring and training so both cut texts the same way.
//
// Three series of instances, each covering the text:
//   0  windows [k*W, (k+1)*W); a text of at most W bytes is one window;
//   1  (texts longer than W) windows shifted by W/2, so every stretch of W/2
//      bytes lies wholly inside some window;
//   2  (when lines is set) lines, up to and including their '\n', a line
//      longer than W cut into pieces of W.
// A feature belongs, in each series, to the instance holding the byte where
// it ends. The cursor is fed the features' end offsets in increasing order
// and says when instances close; ids count instances per series from 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ztgate::inspect::internal {

inline constexpr int kMaxSeries = 3;

class InstanceCursor {
 public:
  InstanceCursor(std::string_view text, size_t window, bool lines)
      : text_(text), window_(window), windows2_(text.size() > window), lines_(lines) {
    end_[0] = text.size() <= window ? SIZE_MAX : window;
    end_[1] = window / 2;
    if (lines_) next_line(0);
  }

  bool active(int series) const { return series == 0 || (series == 1 ? windows2_ : lines_); }
  uint32_t id(int series) const { return id_[series]; }

  // Moves to a feature ending at `pos`, calling close(series) for every
  // instance of a series that ends before it.
  template <class Close>
  void advance(size_t pos, Close&& close) {
    for (int s = 0; s < 2; ++s) {
      if (!active(s) || pos < end_[s]) continue;
      close(s);
      while (end_[s] <= pos) end_[s] += window_;
      ++id_[s];
    }
    if (lines_ && pos > piece_last_) {
      close(2);
      while (pos > piece_last_) {
        const size_t start = piece_last_ + 1;
        if (piece_last_ == line_last_) {
          next_line(start);
        } else {
          piece_last_ = line_last_ - start < window_ ? line_last_ : start + window_ - 1;
        }
      }
      ++id_[2];
    }
  }

 private:
  // The line starting at `start`: its last byte (the '\n', or the text's
  // end) and its first piece.
  void next_line(size_t start) {
    const size_t nl = start < text_.size() ? text_.find('\n', start) : std::string_view::npos;
    line_last_ = nl == std::string_view::npos ? (text_.size() > start ? text_.size() : start) : nl;
    piece_last_ = line_last_ - start < window_ ? line_last_ : start + window_ - 1;
  }

  std::string_view text_;
  size_t window_;
  bool windows2_;
  bool lines_;
  size_t end_[2] = {0, 0};  // first offset past the current window
  size_t line_last_ = 0;    // last offset of the current line
  size_t piece_last_ = 0;   // last offset of the current piece of it
  uint32_t id_[kMaxSeries] = {0, 0, 0};
};

}  // namespace ztgate::inspect::internal
