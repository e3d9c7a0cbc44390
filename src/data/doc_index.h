// The embedded document index: the text of the documents the retrieval
// proxy searches (POST /v1/retrieval/search), in SQLite with FTS5 and BM25
// ranking, in one file (<retrieval.search.index>/index.db) that
// `ztgate docs ingest` fills and the gateway reads.
//
// Who may read a document is the catalog's business (catalog.h), looked up
// by the same id. A document in the index that the catalog does not know is
// denied (unknown_document), one in the catalog but not in the index is
// never found. And each indexed document keeps the fingerprint of the ACL
// it was ingested with (acl_fingerprint): the retrieval proxy hands out its
// text only while the catalog's record has that same fingerprint, so text
// and ACL from two different ingests (the gateway not yet reloaded, or the
// catalog changed elsewhere since) never meet. Every gap fails closed.
//
// Per document: id (the catalog's), title, summary, text, source path (as
// ingested, relative to the folder) and a content hash (re-ingest skips
// what did not change). Ranking: bm25() with title 10, summary 2, text 1;
// ties in the order documents entered the index, the same every time.
//
// Bounds (IndexLimits): the query (fts_query.h), results per search, and
// each field's size at upsert (a bigger document is refused, not cut).
// Search returns ids and scores only; a caller fetches the text of the
// documents it decided to hand out (get), so a denied document's text never
// leaves the index.
//
// Thread-safe: searches take a connection from a small pool (SQLite
// statements are per connection); one writer at a time (the ingest). The
// file is in WAL mode: a running gateway sees a finished ingest at its
// next search, never half of it (each ingest is one transaction).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "data/catalog.h"
#include "store/sqlite.h"

namespace ztgate::data {

struct IndexLimits {
  size_t max_query_bytes = 1024;
  size_t max_query_terms = 32;
  size_t max_results = 1000;              // per search
  size_t max_document_bytes = 1 << 20;    // the text
  size_t max_title_bytes = 1024;
  size_t max_summary_bytes = 4096;
  size_t max_path_bytes = 4096;
};

struct IndexedDocument {
  std::string id;
  std::string title;
  std::string summary;
  std::string text;
  std::string source_path;
  std::string hash;  // of the content as ingested (the ingest's business)
  std::string acl;   // acl_fingerprint() of the catalog record it was ingested with
};

// A document record's access-relevant content as one string (every field,
// length-prefixed): equal for equal records.
std::string acl_fingerprint(const DocumentRecord& d);

struct SearchHit {
  std::string id;
  double score = 0;  // -bm25(): higher is better
};

class DocIndex {
 public:
  // Opens (read_only: an existing file, else creating it and its schema).
  // Errors: "index_unavailable" (missing / unreadable / not an index).
  static Result<std::unique_ptr<DocIndex>> open(const std::string& path, bool read_only, IndexLimits limits = {});

  const IndexLimits& limits() const { return limits_; }

  // The best `limit` (at most max_results) documents for the user's text,
  // best first. Errors: query_too_long, query_invalid, query_empty (fts_query.h),
  // "index_unavailable".
  Result<std::vector<SearchHit>> search(std::string_view query, size_t limit) const;
  // A document by id (nullopt: not in the index).
  Result<std::optional<IndexedDocument>> get(std::string_view id) const;
  // Every document's (id, hash), in id order (what an ingest compares against).
  Result<std::vector<std::pair<std::string, std::string>>> list() const;

  // Changes, one batch at a time: begin(), upsert/remove..., commit(); a
  // batch not committed is rolled back. Errors: "document_too_large",
  // "document_invalid" (an empty or over-long id), "store_error".
  Status begin();
  Status upsert(const IndexedDocument& d);
  Status remove(std::string_view id);
  Status commit();
  void rollback();

 private:
  DocIndex(std::string path, bool read_only, IndexLimits limits)
      : path_(std::move(path)), read_only_(read_only), limits_(limits) {}
  Result<std::unique_ptr<store::Db>> take() const;  // a pooled connection (or a new one)
  void give_back(std::unique_ptr<store::Db> db) const;

  std::string path_;
  bool read_only_;
  IndexLimits limits_;
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<store::Db>> pool_;
  std::unique_ptr<store::Db> writer_;
  std::optional<store::Transaction> batch_;
};

}  // namespace ztgate::data
