#include "data/fts_query.h"

#include <set>

namespace ztgate::data {
namespace {

// The length of the well-formed UTF-8 sequence at s[i] (1-4), 0 if none
// (overlong forms, surrogates and values above U+10FFFF are not well formed).
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t n = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c = byte(i + 1);
  if ((b == 0xE0 && c < 0xA0) || (b == 0xED && c > 0x9F) || (b == 0xF0 && c < 0x90) || (b == 0xF4 && c > 0x8F))
    return 0;
  return n;
}

bool ascii_term_byte(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Result<FtsQuery> fts5_query(std::string_view text, size_t max_query_bytes, size_t max_terms) {
  if (text.size() > max_query_bytes)
    return make_error("query_too_long", "the query is longer than " + std::to_string(max_query_bytes) + " bytes");
  FtsQuery out;
  std::set<std::string> seen;
  std::string term, folded;
  auto finish = [&] {
    if (!term.empty() && out.terms.size() < max_terms && seen.insert(folded).second) out.terms.push_back(term);
    term.clear();
    folded.clear();
  };
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_length(text, i);
    if (n == 0) return make_error("query_invalid", "the query is not valid UTF-8");
    auto c = static_cast<unsigned char>(text[i]);
    if (n == 1 && !ascii_term_byte(c)) {
      finish();
    } else if (term.size() + n <= kMaxTermBytes) {  // longer terms are cut at a character boundary
      term.append(text.substr(i, n));
      folded += n == 1 && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : text.substr(i, n).front();
      if (n > 1) folded.append(text.substr(i + 1, n - 1));
    }
    i += n;
  }
  finish();
  if (out.terms.empty()) return make_error("query_empty", "the query has no word to search for");
  for (const auto& t : out.terms) {
    if (!out.match.empty()) out.match += " OR ";
    out.match += '"';
    out.match += t;  // never holds '"': only letters, digits and non-ASCII characters
    out.match += '"';
  }
  return out;
}

}  // namespace ztgate::data
