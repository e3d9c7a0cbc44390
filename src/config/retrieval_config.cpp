#include "config/retrieval_config.h"

#include <algorithm>
#include <set>

namespace ztgate::config {

namespace {

RetrievalSearchSettings read_search_settings(MapReader& m, const std::string& dir) {
  RetrievalSearchSettings s;
  if (m.has("index")) s.index = resolve_path(dir, m.string("index"));
  s.max_k = m.integer("max_k", s.max_k, 1, 1000);
  s.default_k = m.integer("k", std::min(s.default_k, s.max_k), 1, s.max_k);
  s.overfetch = m.integer("overfetch", s.overfetch, 1, 100);
  s.max_query_bytes = m.integer("max_query_bytes", s.max_query_bytes, 1, 64 * 1024);
  s.max_document_bytes = m.integer("max_document_bytes", s.max_document_bytes, 1, 64 << 20);
  std::string on_deny = m.string("on_injection_deny", "drop");
  if (on_deny != "drop" && on_deny != "block") m.error("on_injection_deny", "must be drop or block");
  s.block_on_injection = on_deny == "block";
  for (auto& p : m.list("purposes", 64)) {
    RetrievalPurpose purpose;
    purpose.name = p.required_string("name");
    purpose.max_documents = p.integer("max_documents", purpose.max_documents, 1, 1000);
    purpose.max_total_chars = p.integer("max_total_chars", purpose.max_total_chars, 0, 64 << 20);
    if (p.has("fields")) purpose.fields = p.strings("fields", 16);
    for (const auto& f : purpose.fields)
      if (std::find(retrieval_fields().begin(), retrieval_fields().end(), f) == retrieval_fields().end())
        p.error("fields", "unknown field \"" + f + "\" (title, summary, text, source, score, classification)");
    if (s.purpose(purpose.name)) p.error("name", "purpose \"" + purpose.name + "\" appears twice");
    p.finish();
    s.purposes.push_back(std::move(purpose));
  }
  if (!s.purpose("default")) s.purposes.push_back(RetrievalPurpose{"default", s.max_k, 100'000, RetrievalPurpose{}.fields});
  return s;
}

}  // namespace

RetrievalSettings read_retrieval_settings(MapReader& m, const std::string& dir) {
  RetrievalSettings r;
  for (const auto& f : m.strings("documents", 256)) r.documents.push_back(resolve_path(dir, f));
  if (m.has("classifications")) {
    r.classifications = m.strings("classifications", 32);
    std::set<std::string> seen;
    for (const auto& l : r.classifications)
      if (l.empty() || !seen.insert(l).second) m.error("classifications", "labels must be non-empty and distinct, lowest first");
    if (r.classifications.empty()) m.error("classifications", "name at least one label, lowest first");
  }
  r.max_candidates = m.integer("max_candidates", r.max_candidates, 1, 10'000);
  r.max_documents = m.integer("max_documents", r.max_documents, 1, 1'000'000'000);
  // Default: "confidential", or the highest label of a scale without one.
  bool known = std::find(r.classifications.begin(), r.classifications.end(), r.sensitive_from) != r.classifications.end();
  if (!known && !r.classifications.empty()) r.sensitive_from = r.classifications.back();
  r.sensitive_from = m.string("sensitive_from", r.sensitive_from);
  if (!r.sensitive_from.empty() &&
      std::find(r.classifications.begin(), r.classifications.end(), r.sensitive_from) == r.classifications.end())
    m.error("sensitive_from", "must be one of the classifications (or \"\" for none)");
  MapReader search = m.map("search");
  r.search = read_search_settings(search, dir);
  search.finish();
  return r;
}

}  // namespace ztgate::config
