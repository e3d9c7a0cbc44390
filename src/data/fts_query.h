// A user's search text as a safe SQLite FTS5 MATCH expression.
//
// FTS5 has a query language of its own (AND / OR / NOT / NEAR, column
// filters `title:`, prefixes `*`, `^`, parentheses): text from a user passed
// to MATCH as it is could change what is searched or fail the statement.
// Here the text is cut into terms (runs of ASCII letters and digits and of
// non-ASCII characters; every other ASCII byte separates) and each term
// becomes an FTS5 string, "term", joined by OR: BM25 then ranks documents
// that match more (and rarer) terms first. Inside an FTS5 string only `"` is
// special, and a term never holds one, so no user text is ever read as
// FTS5 syntax.
//
// Bounds: the text at most max_query_bytes (else "query_too_long"), at most
// max_terms terms (the rest are dropped), each term at most kMaxTermBytes
// (cut at a character boundary). Terms repeat once (ASCII case folded).
// Errors: "query_invalid" (not UTF-8), "query_empty" (no term at all).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::data {

inline constexpr size_t kMaxTermBytes = 64;

struct FtsQuery {
  std::string match;               // the MATCH expression: "a" OR "b"
  std::vector<std::string> terms;  // the terms, in order of first appearance
};

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or
// values above U+10FFFF).
bool is_utf8(std::string_view s);

Result<FtsQuery> fts5_query(std::string_view text, size_t max_query_bytes = 1024, size_t max_terms = 32);

}  // namespace ztgate::data
