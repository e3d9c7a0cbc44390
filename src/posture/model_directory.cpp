#include "posture/model_directory.h"

#include <filesystem>

#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "posture/internal/dir_walk.h"

namespace ztgate::posture {
namespace {

using internal::EntryKind;

internal::WalkLimits walk_limits() {
  // Directories count as entries too; allow some beyond the file bound.
  return internal::WalkLimits{kMaxManifestFiles + 10'000, kMaxManifestPathDepth};
}

ManifestProblem problem(std::string code, const std::string& path, const std::string& what) {
  return ManifestProblem{std::move(code), path, path + ": " + what};
}

// The problem for a non-regular entry, or none.
std::optional<ManifestProblem> kind_problem(const std::string& path, EntryKind kind) {
  if (kind == EntryKind::kSymlink)
    return problem("manifest_symlink", path, "is a symlink; symlinks in a model directory are refused");
  if (kind == EntryKind::kOther)
    return problem("manifest_file_special", path, "is not a regular file (FIFO, socket or device)");
  return std::nullopt;
}

ManifestProblem digest_problem(const std::string& path, const Error& e) {
  return problem("manifest_file_unreadable", path, e.code + ": " + e.message);
}

bool ignored(const DirectoryOptions& o, const std::string& path) {
  return std::find(o.ignore.begin(), o.ignore.end(), path) != o.ignore.end();
}

}  // namespace

Result<ModelManifest> build_manifest(const std::string& dir, std::string model, std::string version,
                                     std::string created_at, const DirectoryOptions& options) {
  ModelManifest m{std::move(model), std::move(version), std::move(created_at), {}};
  std::optional<ManifestProblem> first;
  auto st = internal::walk_directory(dir, walk_limits(), [&](const std::string& path, EntryKind kind, int fd) {
    if (first || ignored(options, path)) return;
    if (auto p = kind_problem(path, kind)) {
      first = std::move(p);
      return;
    }
    if (auto safe = check_manifest_path(path); !safe) {
      first = problem("manifest_path_unsafe", path, safe.error().message);
      return;
    }
    auto d = digest_fd(fd, path, options.max_file_bytes);
    if (!d) {
      first = digest_problem(path, d.error());
      return;
    }
    m.files.push_back(ManifestFile{path, d->size, d->hex()});
  });
  if (!st) return st.error();
  if (first) return make_error(first->code, first->message);
  if (m.files.empty()) return make_error("manifest_invalid", dir + " holds no files");
  if (auto n = normalize_manifest(m); !n) return n.error();
  // Validates model, version and created_at the way a reader will.
  if (auto back = parse_manifest(serialize_manifest(m)); !back) return back.error();
  return m;
}

Result<DirectoryReport> check_directory(const std::string& dir, const ModelManifest& manifest,
                                        const DirectoryOptions& options) {
  std::unordered_map<std::string_view, const ManifestFile*> listed;
  listed.reserve(manifest.files.size());
  for (const auto& f : manifest.files) listed.emplace(f.path, &f);
  std::unordered_set<std::string_view> seen;
  DirectoryReport report;
  auto st = internal::walk_directory(dir, walk_limits(), [&](const std::string& path, EntryKind kind, int fd) {
    if (ignored(options, path)) return;
    auto it = listed.find(path);
    if (auto p = kind_problem(path, kind)) {
      if (it != listed.end()) seen.insert(it->first);
      report.problems.push_back(std::move(*p));
      return;
    }
    if (it == listed.end()) {
      if (!options.allow_extra)
        report.problems.push_back(problem("manifest_file_extra", path, "is not listed in the manifest"));
      return;
    }
    seen.insert(it->first);
    const ManifestFile& want = *it->second;
    struct stat sb{};
    if (::fstat(fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) != want.size) {
      report.problems.push_back(problem("manifest_file_changed", path,
                                        "size is " + std::to_string(sb.st_size) + " bytes, manifest says " +
                                            std::to_string(want.size)));
      return;  // no need to hash a file whose size already differs
    }
    auto d = digest_fd(fd, path, options.max_file_bytes);
    if (!d) {
      report.problems.push_back(digest_problem(path, d.error()));
      return;
    }
    report.bytes_hashed += d->size;
    if (d->size != want.size) {
      report.problems.push_back(problem("manifest_file_changed", path,
                                        "size is " + std::to_string(d->size) + " bytes, manifest says " +
                                            std::to_string(want.size)));
    } else if (d->hex() != want.sha256) {
      report.problems.push_back(problem("manifest_file_changed", path,
                                        "SHA-256 is " + d->hex() + ", manifest says " + want.sha256));
    }
  });
  if (!st) return st.error();
  for (const auto& f : manifest.files)
    if (!seen.contains(f.path) && !ignored(options, f.path))
      report.problems.push_back(problem("manifest_file_missing", f.path, "is listed but missing"));
  std::sort(report.problems.begin(), report.problems.end(),
            [](const ManifestProblem& a, const ManifestProblem& b) { return a.path < b.path; });
  return report;
}

Result<ModelVerification> verify_model(const std::string& dir, std::string_view manifest_jws,
                                       const authn::Jwk& publisher, const DirectoryOptions& options) {
  auto signed_manifest = verify_manifest_signature(manifest_jws, publisher);
  if (!signed_manifest) return signed_manifest.error();
  auto report = check_directory(dir, signed_manifest->manifest, options);
  if (!report) return report.error();
  return ModelVerification{std::move(*signed_manifest), std::move(*report)};
}

std::vector<std::string> path_inside(const std::string& dir, const std::string& file) {
  if (file.empty() || file == "-") return {};
  std::error_code ec;
  auto d = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return {};
  auto f = std::filesystem::weakly_canonical(file, ec);
  if (ec) return {};
  auto rel = f.lexically_relative(d);
  if (rel.empty() || rel.begin()->string() == ".." || rel.string() == ".") return {};
  return {rel.generic_string()};
}

}  // namespace ztgate::posture
