#include "inspect/internal/decoders.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <vector>

#include "inspect/internal/utf8.h"

namespace ztgate::inspect::internal {
namespace {

using uchar = unsigned char;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
// What ends a URL-encoded token: space, and what surrounds URLs in text and markup.
bool ends_url_token(char c) {
  return is_space(c) || c == '(' || c == ')' || c == '<' || c == '>' || c == '"' || c == '\'' ||
         c == '`' || c == '[' || c == ']';
}
int hex_at(std::string_view t, size_t i) {
  return i < t.size() ? hex_value(static_cast<uchar>(t[i])) : -1;
}

enum : uint8_t { kAlphaBit = 0, kAlnumBit = 1, kHexBit = 2, kBackslashBit = 3 };
enum : uint8_t {
  kAlpha = 1 << kAlphaBit,
  kAlnum = 1 << kAlnumBit,
  kHex = 1 << kHexBit,
  kBackslash = 1 << kBackslashBit
};
constexpr std::array<uint8_t, 256> make_class_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 26; ++c) {
    t['a' + c] = t['A' + c] = kAlpha | kAlnum;
    if (c < 6) t['a' + c] = t['A' + c] = kAlpha | kAlnum | kHex;
  }
  for (int c = '0'; c <= '9'; ++c) t[c] = kAlnum | kHex;
  t['\\'] = kBackslash;
  return t;
}
constexpr auto kClass = make_class_table();

// Runs `decode` (which appends one run's bytes to out) and keeps the run only
// when it produced printable text (if asked) within the budget.
template <class Decode>
void commit_run(DecodedText& out, DecodeBudget& budget, size_t at, bool check_printable,
                Decode&& decode) {
  const size_t before = out.bytes.size();
  out.begin_run(at);
  const size_t start = out.bytes.size();
  decode();
  std::string_view produced(out.bytes.data() + start, out.bytes.size() - start);
  bool keep = !produced.empty() && (!check_printable || mostly_printable(produced));
  if (keep && out.bytes.size() - before > budget.remaining) {
    budget.exhausted = true;
    keep = false;
  }
  if (!keep) {
    out.cancel_run(before);
    return;
  }
  budget.remaining -= out.bytes.size() - before;
}

// ---- base64 ----------------------------------------------------------------

constexpr std::array<int8_t, 256> make_base64_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<int8_t>(i);
    t['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
  t['+'] = t['-'] = 62;  // standard and URL-safe alphabets alike
  t['/'] = t['_'] = 63;
  return t;
}
constexpr auto kBase64 = make_base64_table();

// All ones for a base64 character, else 0: a branch-free run counter.
constexpr std::array<uint32_t, 256> make_base64_masks() {
  std::array<uint32_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = kBase64[c] >= 0 ? ~0u : 0u;
  return t;
}
constexpr auto kBase64Mask = make_base64_masks();

// Decodes chunk [b, e) of base64 characters into `bytes`, mapped in `map`
// when given: 3 bytes per 4 characters, a partial quad as one unit.
// `pad` '=' characters after the chunk belong to its last unit.
void decode_base64_chunk(std::string_view t, size_t b, size_t e, size_t pad, std::string& bytes,
                         OffsetMap* map) {
  size_t len = e - b;
  size_t quads = len / 4;
  for (size_t q = 0; q < quads; ++q) {
    const size_t p = b + 4 * q;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k)
      v = (v << 6) | static_cast<uint32_t>(kBase64[static_cast<uchar>(t[p + k])]);
    bytes.push_back(static_cast<char>(v >> 16));
    bytes.push_back(static_cast<char>(v >> 8));
    bytes.push_back(static_cast<char>(v));
  }
  if (map != nullptr && quads > 0) map->append(3 * quads, b, 3, 4);
  const size_t rest = len % 4;  // 1 character carries no whole byte
  if (rest >= 2) {
    const size_t p = b + 4 * quads;
    uint32_t v = 0;
    for (size_t k = 0; k < rest; ++k)
      v = (v << 6) | static_cast<uint32_t>(kBase64[static_cast<uchar>(t[p + k])]);
    v <<= 6 * (4 - rest);
    bytes.push_back(static_cast<char>(v >> 16));
    if (rest == 3) bytes.push_back(static_cast<char>(v >> 8));
    if (map != nullptr) map->append(rest - 1, p, rest - 1, rest + pad);
  }
}

// ---- ROT13 -----------------------------------------------------------------

// Common English words, and the words of instructions an attacker hides.
constexpr std::string_view kEnglishWords[] = {
    "about",  "above",    "act",    "all",       "and",          "any",   "are",    "as",
    "be",     "but",      "can",    "disregard", "do",           "for",   "forget", "from",
    "have",   "how",      "ignore", "in",        "instructions", "is",    "it",     "me",
    "my",     "not",      "now",    "of",        "on",           "or",    "output", "password",
    "please", "previous", "print",  "prompt",    "reveal",       "rules", "say",    "secret",
    "system", "tell",     "that",   "the",       "this",         "to",    "was",    "what",
    "will",   "with",     "you",    "your",
};

constexpr bool words_sorted() {
  for (size_t i = 1; i < std::size(kEnglishWords); ++i)
    if (!(kEnglishWords[i - 1] < kEnglishWords[i])) return false;
  return true;
}
static_assert(words_sorted(), "kEnglishWords must stay sorted for the binary search");

bool is_english_word(std::string_view w) {
  return std::binary_search(std::begin(kEnglishWords), std::end(kEnglishWords), w);
}

char rot13(char c) {
  auto u = static_cast<uchar>(c);
  if (u >= 'a' && u <= 'z') return static_cast<char>('a' + (u - 'a' + 13) % 26);
  if (u >= 'A' && u <= 'Z') return static_cast<char>('A' + (u - 'A' + 13) % 26);
  return c;
}

// Characters a sentence of ROT13 text is made of.
constexpr std::array<bool, 256> make_sentence_table() {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (char c : std::string_view(" \t,.'!?;-")) t[static_cast<uchar>(c)] = true;
  return t;
}
constexpr auto kSentence = make_sentence_table();

// One lookup per byte: whether it belongs in a sentence, whether it is a
// letter, and its vote: English letters frequent in plain text (e t o i s h)
// vote -1, their rotations (r g b v f u), frequent in ROT13 text, +1.
enum : uint8_t { kInSentence = 1, kLetterBit = 1, kVoteShift = 2 };
constexpr std::array<uint8_t, 256> make_rot13_info() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (!kSentence[c]) continue;
    int vote = 0;
    const int lower = c | 0x20;
    if (std::string_view("etoish").find(static_cast<char>(lower)) != std::string_view::npos)
      vote = -1;
    if (std::string_view("rgbvfu").find(static_cast<char>(lower)) != std::string_view::npos)
      vote = 1;
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter) vote = 0;
    t[c] = static_cast<uint8_t>(kInSentence | (letter ? 1 << kLetterBit : 0) |
                                ((vote + 1) << kVoteShift));
  }
  return t;
}
constexpr auto kRot13Info = make_rot13_info();

bool reads_as_rot13(std::string_view s) {
  int plain = 0;
  int rotated = 0;
  char word[16];
  char rot[16];
  size_t n = 0;
  auto end_word = [&] {
    if (n >= 2 && n <= sizeof(word)) {
      plain += is_english_word(std::string_view(word, n));
      rotated += is_english_word(std::string_view(rot, n));
    }
    n = 0;
  };
  for (char c : s) {
    if (is_ascii_alpha(static_cast<uchar>(c))) {
      if (n < sizeof(word)) {
        word[n] = static_cast<char>(ascii_lower(static_cast<uchar>(c)));
        rot[n] = rot13(word[n]);
      }
      ++n;
    } else {
      end_word();
    }
  }
  end_word();
  return rotated >= 2 && rotated > plain;
}

}  // namespace

void DecodedText::begin_run(size_t at) {
  if (!bytes.empty()) {
    bytes.push_back('\n');
    map.append(1, at, 1, 0);
  }
  ++runs;
}

void DecodedText::cancel_run(size_t size) {
  bytes.resize(size);
  map.truncate(size);
  if (runs > 0) --runs;
}

bool mostly_printable(std::string_view bytes) {
  size_t total = 0;
  size_t bad = 0;
  const auto* s = reinterpret_cast<const uchar*>(bytes.data());
  for (size_t i = 0; i < bytes.size();) {
    ++total;
    if (s[i] < 0x80) {
      uchar c = s[i++];
      bad += (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
      continue;
    }
    Utf8Char u = decode_utf8(s + i, bytes.size() - i);
    bad += !u.valid || (u.cp >= 0x80 && u.cp < 0xA0);
    i += u.length;
  }
  return total > 0 && bad * 10 <= total;
}

namespace {

// Scans t[begin, end) for base64 runs (a run may continue past `end`);
// returns where the scan stopped.
size_t scan_base64(std::string_view t, size_t begin, size_t end, size_t min_run,
                   DecodeBudget& budget, DecodedText& out) {
  // Only a chunk this long can start a run: min_run, or a full MIME line.
  const uint32_t min_chunk = static_cast<uint32_t>(std::clamp<size_t>(min_run, 1, 40));
  const auto* s = reinterpret_cast<const uchar*>(t.data());
  const size_t n = t.size();
  std::vector<Span> chunks;
  uint32_t run = 0;  // base64 characters ending here, counted without branches
  size_t i = begin;
  while (i < end) {
    run = (run + 1) & kBase64Mask[s[i]];
    if (run < min_chunk) {
      ++i;
      continue;
    }
    const size_t start = i + 1 - run;
    run = 0;
    chunks.clear();
    size_t chars = 0;
    size_t pad = 0;
    size_t j = start;
    for (;;) {
      const size_t b = j;
      while (j < n && kBase64[s[j]] >= 0) ++j;
      chunks.push_back(Span{b, j});
      chars += j - b;
      while (j < n && s[j] == '=' && pad < 2) {
        ++j;
        ++pad;
      }
      // MIME: a full line of whole quads may continue on the next line.
      if (pad > 0 || j - b < 40 || (j - b) % 4 != 0) break;
      size_t k = j;
      if (k < n && s[k] == '\r') ++k;
      if (k >= n || s[k] != '\n' || k + 1 >= n || kBase64[s[k + 1]] < 0) break;
      j = k + 1;
    }
    i = j;
    if (chars < min_run) continue;
    // Most long alphanumeric runs are identifiers: look at the first bytes
    // before decoding it all.
    std::string head;
    const Span& c0 = chunks.front();
    decode_base64_chunk(t, c0.begin, std::min(c0.end, c0.begin + 64), 0, head, nullptr);
    if (!mostly_printable(head)) continue;
    if (chars / 4 * 3 > budget.remaining) {
      budget.exhausted = true;
      continue;
    }
    commit_run(out, budget, start, true, [&] {
      for (size_t k = 0; k < chunks.size(); ++k)
        decode_base64_chunk(t, chunks[k].begin, chunks[k].end, k + 1 == chunks.size() ? pad : 0,
                            out.bytes, &out.map);
    });
  }
  return i;
}

// Scans t[begin, end) for hex runs (a run may continue past `end`); returns
// where the scan stopped.
size_t scan_hex(std::string_view t, size_t begin, size_t end, size_t min_run, DecodeBudget& budget,
                DecodedText& out) {
  const size_t min_bytes = std::max<size_t>(min_run / 2, 4);
  const uint32_t min_digits = static_cast<uint32_t>(std::max<size_t>(min_run, 2));
  const auto* s = reinterpret_cast<const uchar*>(t.data());
  const size_t n = t.size();
  auto is = [&](size_t k, uint8_t cls) { return k < n && (kClass[s[k]] & cls) != 0; };
  // Counted without branches; a rare trigger takes the careful path.
  uint32_t hex_run = 0;    // hex digits ending here
  uint32_t token_len = 0;  // alphanumerics ending here
  uint32_t token_hex = 1;  // whether they are all hex digits
  uint32_t pairs = 0;      // two-digit hex tokens closed by one separator each, in a row
  size_t i = begin;
  while (i < end) {
    const uint8_t cls = kClass[s[i]];
    const uint32_t alnum = (cls >> kAlnumBit) & 1u;
    const uint32_t hex = (cls >> kHexBit) & 1u;
    const uint32_t keep = 0u - alnum;  // all ones inside a token
    const uint32_t pair_closed = (alnum ^ 1u) & static_cast<uint32_t>(token_len == 2) & token_hex;
    pairs = (pairs & keep) | (((pairs + 1) * pair_closed) & ~keep);
    hex_run = (hex_run + 1) * hex;
    token_len = (token_len + 1) * alnum;
    token_hex = (token_hex & hex) | (alnum ^ 1u);
    const uint32_t trigger = static_cast<uint32_t>(hex_run >= min_digits) |
                             static_cast<uint32_t>(pairs + 1 >= min_bytes) |
                             ((cls >> kBackslashBit) & 1u);
    if (trigger == 0) {
      ++i;
      continue;
    }
    size_t next = i + 1;
    if (cls & kBackslash) {  // "\x69\x67..."
      size_t j = i;
      size_t count = 0;
      while (j + 3 < n && s[j] == '\\' && (s[j + 1] | 0x20) == 'x' && is(j + 2, kHex) &&
             is(j + 3, kHex)) {
        j += 4;
        ++count;
      }
      if (count * 4 >= min_run) {
        commit_run(out, budget, i, true, [&] {
          for (size_t k = i; k < j; k += 4)
            out.push(static_cast<char>(hex_at(t, k + 2) * 16 + hex_at(t, k + 3)), Span{k, k + 4});
        });
        next = j;
      }
    } else if (hex_run >= min_digits) {  // a whole token of hex digits, "0x" allowed
      size_t b = i + 1 - hex_run;
      size_t j = i + 1;
      while (is(j, kHex)) ++j;
      size_t token_begin = b;
      if (b >= 2 && (s[b - 1] | 0x20) == 'x' && s[b - 2] == '0') token_begin = b - 2;
      if (!is(token_begin - 1, kAlnum) && !is(j, kAlnum)) {
        const size_t e = j - (j - b) % 2;
        commit_run(out, budget, b, true, [&] {
          for (size_t k = b; k < e; k += 2)
            out.push(static_cast<char>(hex_at(t, k) * 16 + hex_at(t, k + 1)), Span{k, k + 2});
        });
      }
      next = j;
      while (is(next, kAlnum)) ++next;  // the rest of the token
    } else {  // byte pairs: "69 67 6e ...", the separator the same throughout
      size_t k = i + 1 - 3 * static_cast<size_t>(pairs);
      const size_t b = k;
      const uchar sep = s[b + 2];
      size_t count = 0;
      for (;;) {
        if (!is(k, kHex) || !is(k + 1, kHex) || is(k + 2, kAlnum)) break;
        ++count;
        k += 2;
        if (k + 1 >= n || s[k] != sep || !is(k + 1, kHex)) break;
        ++k;
      }
      if (count >= min_bytes && (sep == ' ' || sep == ':' || sep == ',' || sep == '-')) {
        commit_run(out, budget, b, true, [&] {
          for (size_t p = 0, at = b; p < count; ++p, at += 3)
            out.push(static_cast<char>(hex_at(t, at) * 16 + hex_at(t, at + 1)),
                     Span{at, p + 1 < count ? at + 3 : at + 2});
        });
        next = std::max(next, k);
      }
    }
    hex_run = token_len = pairs = 0;
    token_hex = 1;
    i = next;
  }
  return i;
}

// Calls scan(b, e) on each stretch of bytes in `set` that holds an aligned
// 8-byte block of them, which every stretch of 15 or more does; `scan`
// returns where it stopped. Testing 8 bytes at once keeps ordinary prose (no
// such blocks, or short ones) cheap. With min_run under 15 it scans it all.
template <class Scan>
void for_each_dense_stretch(std::string_view t, const std::array<uint8_t, 256>& set, size_t min_run,
                            Scan&& scan) {
  const auto* s = reinterpret_cast<const uchar*>(t.data());
  const size_t n = t.size();
  if (min_run < 15) {
    scan(size_t{0}, n);
    return;
  }
  size_t done = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    if (i < done) continue;
    const uint8_t all = set[s[i]] & set[s[i + 1]] & set[s[i + 2]] & set[s[i + 3]] & set[s[i + 4]] &
                        set[s[i + 5]] & set[s[i + 6]] & set[s[i + 7]];
    if (all == 0) continue;
    size_t b = i;
    while (b > done && set[s[b - 1]]) --b;
    size_t e = i + 8;
    while (e < n && set[s[e]]) ++e;
    done = std::max(e, scan(b, e));
  }
}

constexpr std::array<uint8_t, 256> make_set(bool (*in)(int)) {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = in(c) ? 1 : 0;
  return t;
}
constexpr auto kBase64Set = make_set([](int c) { return kBase64[c] >= 0; });
// What hex runs are made of: digits, the pair separators, "\x" and "0x".
constexpr auto kHexSet = make_set([](int c) {
  return (kClass[c] & kHex) != 0 || c == ' ' || c == ':' || c == ',' || c == '-' || c == '\\' ||
         c == 'x' || c == 'X';
});

}  // namespace

void find_base64(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  for_each_dense_stretch(t, kBase64Set, min_run, [&](size_t b, size_t e) {
    return scan_base64(t, b, e, min_run, budget, out);
  });
}

void find_hex(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  for_each_dense_stretch(t, kHexSet, min_run, [&](size_t b, size_t e) {
    return scan_hex(t, b, e, min_run, budget, out);
  });
}

void find_url(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  size_t done = 0;  // scanned up to here
  for (size_t p = t.find('%'); p != std::string_view::npos; p = t.find('%', done)) {
    size_t b = p;
    while (b > done && !ends_url_token(t[b - 1])) --b;
    size_t e = p;
    while (e < t.size() && !ends_url_token(t[e])) ++e;
    done = e;
    size_t escapes = 0;
    for (size_t k = b; k + 2 < e; ++k) {
      if (t[k] == '%' && hex_at(t, k + 1) >= 0 && hex_at(t, k + 2) >= 0) {
        ++escapes;
        k += 2;
      }
    }
    if (escapes >= 2 && e - b >= min_run) {
      commit_run(out, budget, b, true, [&] {
        for (size_t k = b; k < e;) {
          if (t[k] == '%' && k + 2 < e && hex_at(t, k + 1) >= 0 && hex_at(t, k + 2) >= 0) {
            out.push(static_cast<char>(hex_at(t, k + 1) * 16 + hex_at(t, k + 2)), Span{k, k + 3});
            k += 3;
          } else {
            out.push(t[k] == '+' ? ' ' : t[k], Span{k, k + 1});
            ++k;
          }
        }
      });
    }
    if (done >= t.size()) break;
  }
}

void find_quoted_printable(std::string_view t, size_t min_run, DecodeBudget& budget,
                           DecodedText& out) {
  constexpr size_t kMaxGap = 76;    // RFC 2045 line length
  auto escape_at = [&](size_t k) {  // 0: none, 1: =HH, 2: soft line break
    if (k >= t.size() || t[k] != '=') return 0;
    if (hex_at(t, k + 1) >= 0 && hex_at(t, k + 2) >= 0) return 1;
    if (k + 1 < t.size() &&
        (t[k + 1] == '\n' || (t[k + 1] == '\r' && k + 2 < t.size() && t[k + 2] == '\n')))
      return 2;
    return 0;
  };
  size_t done = 0;
  size_t p = t.find('=');
  while (p != std::string_view::npos) {
    if (escape_at(p) == 0) {
      p = t.find('=', p + 1);
      continue;
    }
    // A cluster: escapes no more than kMaxGap apart.
    size_t first = p;
    size_t last = p;
    size_t hex_escapes = 0;
    size_t k = p;
    while (k != std::string_view::npos && k - last <= kMaxGap + 3) {
      int kind = escape_at(k);
      if (kind != 0) {
        hex_escapes += kind == 1;
        last = k;
      }
      k = t.find('=', k + 1);
    }
    size_t b = first;
    while (b > done && t[b - 1] != '\n') --b;
    size_t e = last;
    if (escape_at(last) == 2)
      e = last + (t[last + 1] == '\r' ? 3 : 2);  // a soft break joins the next line
    while (e < t.size() && t[e] != '\n') ++e;
    done = e;
    if (hex_escapes >= 3 && e - b >= min_run) {
      commit_run(out, budget, b, true, [&] {
        for (size_t q = b; q < e;) {
          int kind = escape_at(q);
          if (kind == 1) {
            out.push(static_cast<char>(hex_at(t, q + 1) * 16 + hex_at(t, q + 2)), Span{q, q + 3});
            q += 3;
          } else if (kind == 2) {  // soft break: joins the lines, no output
            q += t[q + 1] == '\r' ? 3 : 2;
          } else {
            out.push(t[q], Span{q, q + 1});
            ++q;
          }
        }
      });
    }
    p = e < t.size() ? t.find('=', e) : std::string_view::npos;
  }
}

void find_rot13(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  size_t i = 0;
  while (i < t.size()) {
    if (!kSentence[static_cast<uchar>(t[i])]) {
      ++i;
      continue;
    }
    const size_t b = i;
    size_t letters = 0;
    int vote = 0;
    const auto* s = reinterpret_cast<const uchar*>(t.data());
    for (uint8_t info; i < t.size() && ((info = kRot13Info[s[i]]) & kInSentence) != 0; ++i) {
      letters += (info >> kLetterBit) & 1;
      vote += (info >> kVoteShift) - 1;
    }
    if (letters >= min_run && vote > 0 && reads_as_rot13(t.substr(b, i - b))) {
      commit_run(out, budget, b, false, [&] {
        for (size_t k = b; k < i; ++k) out.push(rot13(t[k]), Span{k, k + 1});
      });
    }
  }
}

}  // namespace ztgate::inspect::internal
