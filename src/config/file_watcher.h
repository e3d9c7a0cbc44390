// Notices when any of a set of files changes: content replaced, rewritten in
// place, renamed over (editors and `kubectl` ConfigMaps do all three),
// created or deleted. Polling by (device, inode, size, mtime in ns): no
// inotify subtleties with symlink swaps, and cheap at a few files per
// second. changed() reports a change once; the caller then reloads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ztgate::config {

class FileWatcher {
 public:
  explicit FileWatcher(std::vector<std::string> files);
  // True when some file's fingerprint differs from the last call (or from
  // construction). Follows symlinks.
  bool changed();
  // Watches `files` from now on (after a reload, which may name other files).
  // A file watched before keeps the fingerprint of the last changed() call:
  // the state the reload read, or an older one. So a write that lands while
  // a reload runs is reported by the next changed(), never taken for the
  // state just loaded. Files new to the set are fingerprinted now.
  void reset(std::vector<std::string> files);

 private:
  struct Fingerprint {
    bool exists = false;
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Fingerprint&) const = default;
  };
  static Fingerprint fingerprint(const std::string& file);

  std::vector<std::string> files_;
  std::vector<Fingerprint> seen_;
};

}  // namespace ztgate::config
