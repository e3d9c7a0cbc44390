// The catalog's JSON Lines format: one change per line, for bulk loads and
// incremental syncs alike (docs/RETRIEVAL.md). Blank lines are skipped.
//
//   {"kind":"document","id":"d1","owner":"alice","readers":["user:bob","group:eng"],
//    "classification":"internal","tenant":"acme","source":"wiki","tags":["hr"],
//    "parent":{"type":"Folder","id":"f1"},"of":"d0"}        (all but id optional)
//   {"kind":"container","type":"Folder","id":"f1","parent":{"type":"Space","id":"s1"}}
//   {"kind":"group","id":"eng","parents":["staff"]}
//   {"kind":"user","id":"alice","groups":["eng"],"clearance":"confidential","tenant":"acme"}
//   {"op":"delete","kind":"document","id":"d1"}   (containers: with "type")
//
// Strict: unknown or duplicate members, wrong types and unknown labels are
// errors ("catalog_line_invalid") whose message starts with "line N:".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "data/catalog.h"

namespace ztgate::data {

inline constexpr size_t kMaxLineBytes = 64 * 1024;

struct ParsedChanges {
  std::vector<CatalogChange> changes;
  std::vector<int> lines;  // the line each change came from
};

Result<ParsedChanges> parse_catalog_jsonl(std::string_view text, const ClassificationScale& scale);

// Loads files of changes into a new catalog (version 1). Errors name the
// file and line ("catalog_line_invalid", "catalog_change_invalid",
// "catalog_full", "catalog_unreadable").
Result<DocumentCatalog> load_catalog(const std::vector<std::string>& files, ClassificationScale scale,
                                     CatalogLimits limits = {});

}  // namespace ztgate::data
