// retrieval: retrieval authorization (docs/RETRIEVAL.md,
// docs/CONFIGURATION.md "Retrieval"). The document catalog's files, the
// classification scale and the endpoints' bounds. Read at start and on
// reload (a reload re-reads the catalog files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/yaml_reader.h"

namespace ztgate::config {

// What a retrieval purpose lets through (docs/RETRIEVAL.md "Minimization"):
// the most documents per search, the most characters of text in all (title,
// summary and text together; longer texts are cut), and the fields
// returned besides the id.
struct RetrievalPurpose {
  std::string name;
  int64_t max_documents = 20;
  int64_t max_total_chars = 100'000;
  std::vector<std::string> fields = {"title", "summary", "text", "source", "score"};
};
inline const std::vector<std::string>& retrieval_fields() {
  static const std::vector<std::string> fields{"title", "summary", "text", "source", "score", "classification"};
  return fields;
}

// retrieval.search.backend: an external retrieval service the proxy
// fronts instead of the embedded index. POST <url> with a JSON body
// {<query_member>: the query, <k_member>: the candidates wanted}; the
// answer's results array and each result's members are found by JSON
// pointers (RFC 6901). "" pointers for title/summary/score: not mapped.
struct RetrievalBackend {
  std::string url;                 // "" = the embedded index
  bool allow_plain_http = false;   // http:// (loopback services, tests)
  int64_t timeout_ms = 5000;
  int64_t max_response_bytes = 8 << 20;
  std::string query_member = "query";
  std::string k_member = "k";
  std::string results = "/results";
  std::string id = "/id";
  std::string text = "/text";
  std::string title = "/title";
  std::string summary = "/summary";
  std::string score = "/score";
};

// retrieval.search: the retrieval proxy (POST /v1/retrieval/search) over
// the embedded index that `ztgate docs ingest` fills.
struct RetrievalSearchSettings {
  std::string index;           // directory of index.db and catalog.jsonl ("" = no search)
  int64_t default_k = 5;       // results when the request names no k
  int64_t max_k = 50;          // the most a request may ask for
  int64_t overfetch = 4;       // candidates searched per result asked (bounded by max_candidates)
  int64_t max_query_bytes = 1024;
  int64_t max_document_bytes = 1 << 20;  // per file at ingest
  bool block_on_injection = false;       // a document policy denies for its content: false drops it, true fails the call
  RetrievalBackend backend;
  std::vector<RetrievalPurpose> purposes;  // "default" always present (built in unless configured)
  const RetrievalPurpose* purpose(const std::string& name) const {
    for (const auto& p : purposes)
      if (p.name == name) return &p;
    return nullptr;
  }
};

struct RetrievalSettings {
  std::vector<std::string> documents;  // JSON Lines files of catalog changes, applied in order
  std::vector<std::string> classifications = {"public", "internal", "confidential", "restricted"};  // lowest first
  int64_t max_candidates = 1000;       // per POST /v1/retrieval/authorize
  int64_t max_documents = 50'000'000;  // in the catalog
  // Allowed documents at this label or above are listed (id, label) in the
  // call's audit record ("" = none; default: confidential, or the highest
  // label of a scale without it).
  std::string sensitive_from = "confidential";
  RetrievalSearchSettings search;
};

RetrievalSettings read_retrieval_settings(MapReader& m, const std::string& dir);

}  // namespace ztgate::config
