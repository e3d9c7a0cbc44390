// `ztgate docs ingest`: a folder of documents with metadata sidecars into
// the document index (doc_index.h) and the catalog (catalog.h), the one
// source of the documents' permissions (docs/RETRIEVAL.md "Ingest").
//
// For every file named *.txt, *.md, *.markdown, *.html or *.htm under the
// folder (other files are ignored) there must be a sidecar
// `<file>.meta.json`:
//
//   {"id"?: "handbook", "title"?: "...", "summary"?: "...",
//    "owner"?: "carol", "readers"?: ["group:staff", "user:bob"],
//    "classification"?: "internal", "tenant"?: "acme", "source"?: "wiki",
//    "tags"?: ["hr"], "parent"?: {"type": "Folder", "id": "hr"}}
//
// The ACL members are the catalog's (catalog_jsonl.h), checked by the same
// parser; a sidecar without `classification` gets the most restricted
// label, one without owner or readers is readable by nobody. Defaults: id
// = the path under the folder, title = the first Markdown heading or HTML
// <title>, else the file name; summary = "" (summaries are written, never
// cut from the text: a summary-only answer must not leak the text).
//
// Refused (listed in the report, left out of index and catalog): a file
// without a sidecar or with a bad one, a file or sidecar over the size
// bound, not UTF-8, a symlink leading out of the folder, a repeated id.
// HTML is reduced to its text (tags, comments, <script> and <style>
// dropped; the common entities decoded).
//
// Writes <index_dir>/index.db (one transaction: added, changed, removed)
// and <index_dir>/catalog.jsonl (the documents' catalog lines, sorted by
// id; replaced by rename, and only when it changes). Idempotent: unchanged
// files are left as they are; files gone from the folder leave both.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "data/classification.h"

namespace ztgate::data {

struct IngestOptions {
  std::string from;       // the folder
  std::string index_dir;  // where index.db and catalog.jsonl go (created 0700)
  size_t max_document_bytes = 1 << 20;
  size_t max_files = 100'000;
  ClassificationScale scale;
};

struct IngestReport {
  size_t documents = 0;  // in the index after the ingest
  size_t added = 0, updated = 0, unchanged = 0, removed = 0, ignored = 0;
  std::vector<std::string> refused;  // "<path>: <why>"
  bool catalog_written = false;
};

// Errors: "ingest_failed" (the folder or the index cannot be used, too many
// files); a refused file is not an error (see the report).
Result<IngestReport> ingest_folder(const IngestOptions& options);

// HTML as the text a reader sees (exposed for tests).
std::string html_text(std::string_view html, std::string* title = nullptr);

}  // namespace ztgate::data
