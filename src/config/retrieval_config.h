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

struct RetrievalSettings {
  std::vector<std::string> documents;  // JSON Lines files of catalog changes, applied in order
  std::vector<std::string> classifications = {"public", "internal", "confidential", "restricted"};  // lowest first
  int64_t max_candidates = 1000;       // per POST /v1/retrieval/authorize
  int64_t max_documents = 50'000'000;  // in the catalog
  // Allowed documents at this label or above are listed (id, label) in the
  // call's audit record ("" = none; default: confidential, or the highest
  // label of a scale without it).
  std::string sensitive_from = "confidential";
};

RetrievalSettings read_retrieval_settings(MapReader& m, const std::string& dir);

}  // namespace ztgate::config
