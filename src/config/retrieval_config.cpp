#include "config/retrieval_config.h"

#include <algorithm>
#include <set>

namespace ztgate::config {

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
  return r;
}

}  // namespace ztgate::config
