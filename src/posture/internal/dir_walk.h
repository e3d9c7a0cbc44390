// Walks a model directory without ever following a symlink inside it.
// Internal to src/posture.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace ztgate::posture::internal {

enum class EntryKind { kRegular, kSymlink, kOther };

struct WalkLimits {
  size_t max_entries = 100'000 + 1'000;  // files plus directories
  size_t max_depth = 64;
};

// Calls `visit(relative_path, kind, fd)` for every non-directory entry under
// `root` ('/'-separated relative paths). For kRegular, `fd` is the file open
// read-only (O_NOFOLLOW), valid only during the call; otherwise it is -1.
// Subdirectories are opened relative to their parent with O_NOFOLLOW, so a
// symlinked directory is reported as kSymlink and never entered. The root
// itself may be a symlink (the operator named it).
// Errors: manifest_io_error (cannot open or read a directory),
// manifest_too_large (more entries or depth than `limits`).
using WalkVisitor = std::function<void(const std::string& path, EntryKind kind, int fd)>;
Status walk_directory(const std::string& root, const WalkLimits& limits, const WalkVisitor& visit);

}  // namespace ztgate::posture::internal
