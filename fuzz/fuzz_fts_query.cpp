// Fuzz target: a user's search text as an FTS5 expression (data/fts_query.h)
// and the document index's search over it (data/doc_index.h).
//
// Properties checked, for any input text:
//   1. fts5_query returns an expression or one of its errors
//      (query_too_long, query_invalid, query_empty); it never crashes.
//   2. The expression is exactly its terms, each between double quotes,
//      joined by " OR ": no term holds a quote, so nothing of the text is
//      FTS5 syntax; terms are 1..kMaxTermBytes bytes, at most 32 of them.
//   3. SQLite accepts it: a search over a small in-memory index never fails
//      with a syntax error, and returns at most the limit asked for.
//
// Input: the query text (seeds: fuzz/corpus/fuzz_fts_query/).
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "data/doc_index.h"
#include "data/fts_query.h"
#include "property.h"

namespace {

using namespace ztgate::data;
using ztgate::fuzz::require;

DocIndex& index() {
  static std::unique_ptr<DocIndex> index = [] {
    // A file (each connection to ":memory:" would be a database of its own).
    std::string path = "/tmp/fuzz_fts_query." + std::to_string(::getpid()) + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
    auto opened = DocIndex::open(path, false);
    require(opened.ok(), "the in-memory index opens");
    auto i = std::move(*opened);
    require(i->begin().ok() && i->upsert({"d1", "Gateway design", "how", "the gateway NOT secret", "a", "h", ""}).ok() &&
                i->upsert({"d2", "Café", "", "naïve 日本 text", "b", "h", ""}).ok() && i->commit().ok(),
            "the seed documents go in");
    return i;
  }();
  return *index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = fts5_query(text);
  if (!q) {
    const auto& code = q.error().code;
    require(code == "query_too_long" || code == "query_invalid" || code == "query_empty", "a known error", code);
    return 0;
  }
  require(!q->terms.empty() && q->terms.size() <= 32, "1..32 terms");
  std::string expected;
  for (const auto& t : q->terms) {
    require(!t.empty() && t.size() <= kMaxTermBytes, "terms are 1..kMaxTermBytes bytes", t);
    require(t.find('"') == std::string::npos, "no term holds a quote", t);
    if (!expected.empty()) expected += " OR ";
    expected += "\"" + t + "\"";
  }
  require(q->match == expected, "the expression is the quoted terms joined by OR", q->match);
  auto hits = index().search(text, 2);
  require(hits.ok(), "SQLite accepts every expression", hits.ok() ? "" : hits.error().message);
  require(hits->size() <= 2, "at most the limit");
  return 0;
}
