// Hashed n-gram features of a text, the input of the injection classifier
// (classifier.h). Shared by training and scoring so both see exactly the same
// features.
//
// The text (already normalized: NFKC, confusables folded, invisible
// characters removed) is read as bytes, ASCII letters lower-cased and every
// run of whitespace read as one space, with a space before and after. From
// that stream come:
//   - a run of one byte read as at most three of it;
//   - byte n-grams for n in [char_min, char_max] (at most 8), spanning word
//     boundaries ("e ig" of "ignore"), so punctuation, markup and scripts
//     without spaces (Chinese, Japanese) all give features;
//   - words (maximal runs of ASCII letters and digits and of non-ASCII
//     bytes): unigrams and, when word_ngrams is 2, bigrams of adjacent words.
// Each feature is hashed (seeded) to one of 2^bucket_bits buckets. The sink
// is called once per occurrence with the bucket and the input offset where
// the feature ends; one pass, no allocation, linear time.
// With a group salt, a feature's group copy is its bucket XOR group_mask():
// a function of the shared bucket, so a scorer can add the two weights once
// per model and group (classifier.cpp) and look up one per feature.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

// The per-byte helpers below are inlined into the loop, so that a sink's
// running sums stay in registers: out of line, g++ kept them in memory and
// every feature paid a store-to-load round trip (a third of the scoring
// time).
#if defined(__GNUC__)
#define ZTGATE_NGRAM_INLINE __attribute__((always_inline))
#else
#define ZTGATE_NGRAM_INLINE
#endif

namespace ztgate::inspect::internal {

struct NgramSpec {
  uint32_t bucket_bits = 20;  // 10..24
  uint32_t char_min = 3;      // 0 (no byte n-grams) or 1..8
  uint32_t char_max = 5;      // char_min..8
  uint32_t word_ngrams = 2;   // 0 none, 1 unigrams, 2 unigrams and bigrams
  uint32_t seed = 0;
  // When not 0, every feature is emitted twice: once shared, once in the
  // bucket XOR group_mask(*this) (features specific to a group of channels).
  uint64_t group_salt = 0;
};

inline uint64_t mix64(uint64_t x) {
  // The splitmix64 finalizer: every input bit reaches every output bit.
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

// The XOR that moves a shared bucket to its group copy: never 0 with a
// salt, below 2^bucket_bits.
inline uint32_t group_mask(const NgramSpec& spec) {
  if (spec.group_salt == 0) return 0;
  const uint64_t seed = mix64(uint64_t{spec.seed} + 0x9E3779B97F4A7C15ULL);
  const auto mask = static_cast<uint32_t>(mix64(spec.group_salt ^ seed) >> (64 - spec.bucket_bits));
  return mask == 0 ? 1 : mask;
}

template <class Sink>
void for_each_ngram(std::string_view text, const NgramSpec& spec, Sink&& sink) {
  const unsigned shift = 64 - spec.bucket_bits;
  const uint64_t seed = mix64(uint64_t{spec.seed} + 0x9E3779B97F4A7C15ULL);
  const unsigned cmin = spec.char_min;
  const unsigned cmax = spec.char_min == 0 ? 0 : spec.char_max;
  constexpr uint64_t kFnvOffset = 0xCBF29CE484222325ULL;
  constexpr uint64_t kFnvPrime = 0x100000001B3ULL;

  uint64_t window = ' ';  // the last bytes of the stream, newest lowest
  unsigned filled = 1;    // bytes in `window`, up to 8
  bool last_space = true;
  uint64_t word = kFnvOffset;
  unsigned word_len = 0;
  uint64_t prev_word = 0;
  bool has_prev = false;

  const uint32_t mask = group_mask(spec);
  // Multiply-shift hashing: the top bits of an odd multiple depend on every
  // bit of the key; two multiplications per feature keep this cheap.
  auto emit = [&](uint64_t key, size_t pos) ZTGATE_NGRAM_INLINE {
    const auto b = static_cast<uint32_t>(((key ^ seed) * 0x9E3779B97F4A7C15ULL) >> shift);
    sink(b, pos);
    if (mask != 0) sink(b ^ mask, pos);
  };
  auto end_word = [&](size_t pos) ZTGATE_NGRAM_INLINE {
    if (word_len == 0) return;
    if (spec.word_ngrams >= 1) emit(word * 0x9E3779B97F4A7C15ULL + 1, pos);
    if (spec.word_ngrams >= 2 && has_prev) {
      emit((prev_word * 0xD6E8FEB86659FD93ULL) ^ (word + 2), pos);
    }
    prev_word = word;
    has_prev = true;
    word = kFnvOffset;
    word_len = 0;
  };
  auto push = [&](uint8_t b, size_t pos) ZTGATE_NGRAM_INLINE {
    window = (window << 8) | b;
    if (filled < 8) ++filled;
    const unsigned top = cmax < filled ? cmax : filled;
    for (unsigned n = cmin; n <= top && n != 0; ++n) {
      const uint64_t gram = n == 8 ? window : window & ((uint64_t{1} << (8 * n)) - 1);
      emit(gram * 0x2545F4914F6CDD1DULL + n, pos);
    }
  };

  unsigned run = 0;  // times the last byte repeated
  uint8_t last = ' ';
  for (size_t i = 0; i < text.size(); ++i) {
    uint8_t b = static_cast<uint8_t>(text[i]);
    if (b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b + ('a' - 'A'));
    // A run of one byte counts as at most three ("-----" as "---"): padding
    // and separators would otherwise repeat the same n-grams at will.
    run = b == last ? run + 1 : 0;
    last = b;
    if (run >= 3) continue;
    const bool space = b == ' ' || (b >= '\t' && b <= '\r');
    const bool word_byte = (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b >= 0x80;
    if (word_byte) {
      word = (word ^ b) * kFnvPrime;
      ++word_len;
    } else {
      end_word(i);
    }
    if (space) {
      if (last_space) continue;
      b = ' ';
    }
    last_space = space;
    push(b, i);
  }
  end_word(text.size());
  if (!last_space) push(' ', text.size());
}

}  // namespace ztgate::inspect::internal
