// A model directory against its manifest: write a manifest for a directory,
// and check that a directory holds exactly what a signed manifest lists.
//
// Directory rules: only regular files and directories. A symlink anywhere
// inside is refused (never followed), as is a FIFO, socket or device node.
// Every listed file must exist with the exact size and SHA-256; a regular
// file the manifest does not list (a swapped tokenizer, a stray pickle) is a
// failure unless VerifyOptions::allow_extra. Empty directories are ignored.
//
// Problems are reported all at once, each with the file and what is wrong:
//   manifest_file_missing     listed, not present
//   manifest_file_changed     present, different size or SHA-256
//   manifest_file_extra       present, not listed
//   manifest_symlink          a symlink inside the directory
//   manifest_file_special     a FIFO, socket or device inside the directory
//   manifest_file_unreadable  cannot be read, or larger than max_file_bytes
//   manifest_path_unsafe      a file name no manifest path can express
// Whole-run errors (Result error): manifest_io_error (the directory cannot
// be read), manifest_too_large (more than kMaxManifestFiles entries or 64
// levels), and the manifest_* codes of model_manifest.h.
// Thread-safe; hashing streams each file (file_digest.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "posture/file_digest.h"
#include "posture/model_manifest.h"

namespace ztgate::posture {

struct ManifestProblem {
  std::string code;
  std::string path;     // relative to the model directory
  std::string message;  // "<path>: what is wrong"
};

struct DirectoryOptions {
  bool allow_extra = false;              // checking only
  std::vector<std::string> ignore;       // relative paths skipped entirely (e.g. the manifest itself)
  uint64_t max_file_bytes = kMaxDigestFileBytes;
};

struct DirectoryReport {
  std::vector<ManifestProblem> problems;  // sorted by path; empty: the directory matches
  uint64_t bytes_hashed = 0;
  bool ok() const { return problems.empty(); }
};

// Hashes every regular file under `dir` into a normalized manifest. Any
// problem (symlink, special file, unreadable file, unsafe name) fails the
// whole build with that problem's code and message.
Result<ModelManifest> build_manifest(const std::string& dir, std::string model, std::string version,
                                     std::string created_at, const DirectoryOptions& options = {});

// Compares `dir` with `manifest` (not hashing files whose size already differs).
Result<DirectoryReport> check_directory(const std::string& dir, const ModelManifest& manifest,
                                        const DirectoryOptions& options = {});

struct ModelVerification {
  SignedManifest signed_manifest;
  DirectoryReport report;
  bool ok() const { return report.ok(); }
};

// verify_manifest_signature, then check_directory. A bad signature is an
// error (nothing in the directory is looked at).
Result<ModelVerification> verify_model(const std::string& dir, std::string_view manifest_jws,
                                       const authn::Jwk& publisher,
                                       const DirectoryOptions& options = {});

// `file` relative to `dir` when it lies inside it (e.g. a manifest kept next
// to the weights), as a one-element list for DirectoryOptions::ignore; empty
// otherwise.
std::vector<std::string> path_inside(const std::string& dir, const std::string& file);

}  // namespace ztgate::posture
