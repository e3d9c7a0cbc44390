// Strict UTF-8 decoding and encoding for the normalizer (internal).
//
// decode_utf8 follows the Unicode "maximal subpart" practice: an invalid
// sequence yields one U+FFFD per maximal prefix that could have started a
// valid sequence, so a truncated 3-byte character costs one replacement, not
// three. Overlong forms, surrogates and code points above U+10FFFF are invalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ztgate::inspect::internal {

inline constexpr char32_t kReplacement = 0xFFFD;

struct Utf8Char {
  char32_t cp = kReplacement;
  uint32_t length = 1;  // bytes consumed, at least 1
  bool valid = false;
};

// Decodes the sequence at s[0] (n >= 1 bytes available).
inline Utf8Char decode_utf8(const unsigned char* s, size_t n) {
  const unsigned c = s[0];
  if (c < 0x80) return {c, 1, true};
  if (c < 0xC2 || c > 0xF4) return {};
  auto cont = [&](size_t i, unsigned lo, unsigned hi) { return i < n && s[i] >= lo && s[i] <= hi; };
  if (c < 0xE0) {
    if (!cont(1, 0x80, 0xBF)) return {};
    return {((c & 0x1Fu) << 6) | (s[1] & 0x3Fu), 2, true};
  }
  if (c < 0xF0) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : 0xBF;
    if (!cont(1, lo, hi)) return {};
    if (!cont(2, 0x80, 0xBF)) return {kReplacement, 2, false};
    return {((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu), 3, true};
  }
  unsigned lo = c == 0xF0 ? 0x90 : 0x80;
  unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
  if (!cont(1, lo, hi)) return {};
  if (!cont(2, 0x80, 0xBF)) return {kReplacement, 2, false};
  if (!cont(3, 0x80, 0xBF)) return {kReplacement, 3, false};
  return {((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu), 4,
          true};
}

// Appends the UTF-8 form of a valid code point.
inline void encode_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline bool is_ascii_alpha(unsigned c) { return ((c | 0x20u) - 'a') < 26u; }
inline bool is_ascii_digit(unsigned c) { return (c - '0') < 10u; }
inline bool is_ascii_alnum(unsigned c) { return is_ascii_alpha(c) || is_ascii_digit(c); }
inline unsigned ascii_lower(unsigned c) { return (c - 'A') < 26u ? c | 0x20u : c; }
inline int hex_value(unsigned c) {
  if (is_ascii_digit(c)) return static_cast<int>(c - '0');
  unsigned l = c | 0x20u;
  if (l >= 'a' && l <= 'f') return static_cast<int>(l - 'a' + 10);
  return -1;
}

}  // namespace ztgate::inspect::internal
