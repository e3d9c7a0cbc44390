#include "inspect/internal/decoders.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <vector>

#include "inspect/internal/utf8.h"

namespace ztgate::inspect::internal {
namespace {

using uchar = unsigned char;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
// What ends a URL-encoded token: space, and what surrounds URLs in text and markup.
bool ends_url_token(char c) {
  return is_space(c) || c == '(' || c == ')' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' ||
         c == '[' || c == ']';
}
int hex_at(std::string_view t, size_t i) { return i < t.size() ? hex_value(static_cast<uchar>(t[i])) : -1; }

// Runs `decode` (which appends one run's bytes to out) and keeps the run only
// when it produced printable text (if asked) within the budget.
template <class Decode>
void commit_run(DecodedText& out, DecodeBudget& budget, size_t at, bool check_printable, Decode&& decode) {
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

bool is_b64(std::string_view t, size_t i) { return i < t.size() && kBase64[static_cast<uchar>(t[i])] >= 0; }

// Decodes chunk [b, e) of base64 characters into `bytes`, mapped in `map`
// when given: 3 bytes per 4 characters, a partial quad as one unit.
// `pad` '=' characters after the chunk belong to its last unit.
void decode_base64_chunk(std::string_view t, size_t b, size_t e, size_t pad, std::string& bytes, OffsetMap* map) {
  size_t len = e - b;
  size_t quads = len / 4;
  for (size_t q = 0; q < quads; ++q) {
    const size_t p = b + 4 * q;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 6) | static_cast<uint32_t>(kBase64[static_cast<uchar>(t[p + k])]);
    bytes.push_back(static_cast<char>(v >> 16));
    bytes.push_back(static_cast<char>(v >> 8));
    bytes.push_back(static_cast<char>(v));
  }
  if (map != nullptr && quads > 0) map->append(3 * quads, b, 3, 4);
  const size_t rest = len % 4;  // 1 character carries no whole byte
  if (rest >= 2) {
    const size_t p = b + 4 * quads;
    uint32_t v = 0;
    for (size_t k = 0; k < rest; ++k) v = (v << 6) | static_cast<uint32_t>(kBase64[static_cast<uchar>(t[p + k])]);
    v <<= 6 * (4 - rest);
    bytes.push_back(static_cast<char>(v >> 16));
    if (rest == 3) bytes.push_back(static_cast<char>(v >> 8));
    if (map != nullptr) map->append(rest - 1, p, rest - 1, rest + pad);
  }
}

// ---- ROT13 -----------------------------------------------------------------

// Common English words, and the words of instructions an attacker hides.
constexpr std::string_view kEnglishWords[] = {
    "about",  "above",    "act",      "all",          "and",       "any",      "are",    "as",
    "be",     "but",      "can",      "disregard",    "do",        "for",      "forget", "from",
    "have",   "how",      "ignore",   "in",           "instructions", "is",    "it",     "me",
    "my",     "not",      "now",      "of",           "on",        "or",       "output", "password",
    "please", "previous", "print",    "prompt",       "reveal",    "rules",    "say",    "secret",
    "system", "tell",     "that",     "the",          "this",      "to",       "was",    "what",
    "will",   "with",     "you",      "your",
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

// English letters frequent in plain text (e t o i s h) against their
// rotations (r g b v f u), frequent in ROT13 text.
int letter_vote(uchar c) {
  switch (c | 0x20) {
    case 'e': case 't': case 'o': case 'i': case 's': case 'h': return -1;
    case 'r': case 'g': case 'b': case 'v': case 'f': case 'u': return 1;
    default: return 0;
  }
}

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

void find_base64(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  std::vector<Span> chunks;
  size_t i = 0;
  while (i < t.size()) {
    if (!is_b64(t, i)) {
      ++i;
      continue;
    }
    chunks.clear();
    size_t chars = 0;
    size_t pad = 0;
    size_t j = i;
    for (;;) {
      const size_t b = j;
      while (is_b64(t, j)) ++j;
      chunks.push_back(Span{b, j});
      chars += j - b;
      while (j < t.size() && t[j] == '=' && pad < 2) {
        ++j;
        ++pad;
      }
      // MIME: a full line of whole quads may continue on the next line.
      if (pad > 0 || j - b < 40 || (j - b) % 4 != 0) break;
      size_t k = j;
      if (k < t.size() && t[k] == '\r') ++k;
      if (k >= t.size() || t[k] != '\n' || !is_b64(t, k + 1)) break;
      j = k + 1;
    }
    const size_t run_end = j;
    if (chars >= min_run) {
      // Most long alphanumeric runs are identifiers: look at the first bytes
      // before decoding it all.
      std::string head;
      const Span& c0 = chunks.front();
      decode_base64_chunk(t, c0.begin, std::min(c0.end, c0.begin + 64), 0, head, nullptr);
      if (mostly_printable(head)) {
        if (chars / 4 * 3 > budget.remaining) {
          budget.exhausted = true;
        } else {
          commit_run(out, budget, i, true, [&] {
            for (size_t k = 0; k < chunks.size(); ++k)
              decode_base64_chunk(t, chunks[k].begin, chunks[k].end, k + 1 == chunks.size() ? pad : 0, out.bytes,
                                  &out.map);
          });
        }
      }
    }
    i = run_end;
  }
}

void find_hex(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  const size_t min_bytes = std::max<size_t>(min_run / 2, 4);
  size_t i = 0;
  while (i < t.size()) {
    const auto c = static_cast<uchar>(t[i]);
    // "\x69\x67..."
    if (c == '\\' && i + 3 < t.size() && (t[i + 1] | 0x20) == 'x' && hex_at(t, i + 2) >= 0 && hex_at(t, i + 3) >= 0) {
      size_t j = i;
      size_t count = 0;
      while (j + 3 < t.size() && t[j] == '\\' && (t[j + 1] | 0x20) == 'x' && hex_at(t, j + 2) >= 0 &&
             hex_at(t, j + 3) >= 0) {
        j += 4;
        ++count;
      }
      if (count * 4 >= min_run) {
        commit_run(out, budget, i, true, [&] {
          for (size_t k = i; k < j; k += 4)
            out.push(static_cast<char>(hex_at(t, k + 2) * 16 + hex_at(t, k + 3)), Span{k, k + 4});
        });
      }
      i = j;
      continue;
    }
    if (!is_ascii_alnum(c)) {
      ++i;
      continue;
    }
    // A token: hex digits only (after an optional "0x"), or pairs with separators.
    const size_t token = i;
    size_t b = i;
    if (c == '0' && i + 2 < t.size() && (t[i + 1] | 0x20) == 'x' && hex_at(t, i + 2) >= 0) b = i + 2;
    size_t j = b;
    while (hex_at(t, j) >= 0) ++j;
    const bool ends_token = j >= t.size() || !is_ascii_alnum(static_cast<uchar>(t[j]));
    if (ends_token && j - b >= min_run) {
      const size_t e = j - (j - b) % 2;
      commit_run(out, budget, b, true, [&] {
        for (size_t k = b; k < e; k += 2)
          out.push(static_cast<char>(hex_at(t, k) * 16 + hex_at(t, k + 1)), Span{k, k + 2});
      });
      i = j;
      continue;
    }
    if (j - b == 2 && b == token && j + 2 < t.size() && (t[j] == ' ' || t[j] == ':' || t[j] == ',' || t[j] == '-')) {
      const char sep = t[j];
      size_t k = b;
      size_t pairs = 0;
      for (;;) {
        if (hex_at(t, k) < 0 || hex_at(t, k + 1) < 0) break;
        const size_t after = k + 2;
        if (after < t.size() && is_ascii_alnum(static_cast<uchar>(t[after]))) break;  // not a pair
        ++pairs;
        k = after;
        if (k + 1 >= t.size() || t[k] != sep || hex_at(t, k + 1) < 0) break;
        ++k;
      }
      if (pairs >= min_bytes) {
        commit_run(out, budget, b, true, [&] {
          for (size_t p = 0, at = b; p < pairs; ++p, at += 3)
            out.push(static_cast<char>(hex_at(t, at) * 16 + hex_at(t, at + 1)),
                     Span{at, p + 1 < pairs ? at + 3 : at + 2});
        });
        i = k;
        continue;
      }
    }
    while (i < t.size() && is_ascii_alnum(static_cast<uchar>(t[i]))) ++i;  // skip the token
  }
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

void find_quoted_printable(std::string_view t, size_t min_run, DecodeBudget& budget, DecodedText& out) {
  constexpr size_t kMaxGap = 76;  // RFC 2045 line length
  auto escape_at = [&](size_t k) {  // 0: none, 1: =HH, 2: soft line break
    if (k >= t.size() || t[k] != '=') return 0;
    if (hex_at(t, k + 1) >= 0 && hex_at(t, k + 2) >= 0) return 1;
    if (k + 1 < t.size() && (t[k + 1] == '\n' || (t[k + 1] == '\r' && k + 2 < t.size() && t[k + 2] == '\n')))
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
    if (escape_at(last) == 2) e = last + (t[last + 1] == '\r' ? 3 : 2);  // a soft break joins the next line
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
    while (i < t.size() && kSentence[static_cast<uchar>(t[i])]) {
      const auto c = static_cast<uchar>(t[i]);
      letters += is_ascii_alpha(c);
      vote += letter_vote(c);
      ++i;
    }
    if (letters >= min_run && vote > 0 && reads_as_rot13(t.substr(b, i - b))) {
      commit_run(out, budget, b, false, [&] {
        for (size_t k = b; k < i; ++k) out.push(rot13(t[k]), Span{k, k + 1});
      });
    }
  }
}

}  // namespace ztgate::inspect::internal
