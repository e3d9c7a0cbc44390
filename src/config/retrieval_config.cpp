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
  if (m.has("backend")) {
    MapReader b = m.map("backend");
    RetrievalBackend& be = s.backend;
    be.url = b.required_string("url");
    be.allow_plain_http = b.boolean("allow_plain_http", false);
    if (be.url.rfind("https://", 0) != 0 && !(be.allow_plain_http && be.url.rfind("http://", 0) == 0))
      b.error("url", "must be https:// (http:// only with allow_plain_http: true)");
    be.timeout_ms = b.duration_ms("timeout", be.timeout_ms, 100, 60'000);
    be.max_response_bytes = b.integer("max_response_bytes", be.max_response_bytes, 1024, 64 << 20);
    MapReader req = b.map("request");
    be.query_member = req.string("query", be.query_member);
    be.k_member = req.string("k", be.k_member);
    if (be.query_member.empty()) req.error("query", "names the member the query goes in");
    req.finish();
    MapReader res = b.map("response");
    for (auto [key, field] : {std::pair{"results", &be.results}, std::pair{"id", &be.id}, std::pair{"text", &be.text},
                              std::pair{"title", &be.title}, std::pair{"summary", &be.summary}, std::pair{"score", &be.score}}) {
      *field = res.string(key, *field);
      bool required = std::string_view(key) == "id" || std::string_view(key) == "text";  // results "": the answer itself
      if ((required || !field->empty()) && (field->empty() || (*field)[0] != '/'))
        res.error(key, "a JSON pointer (\"/a/b\")" + std::string(required ? "" : " or \"\""));
    }
    res.finish();
    b.finish();
  }
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
