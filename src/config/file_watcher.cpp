#include "config/file_watcher.h"

#include <sys/stat.h>

#include <algorithm>

namespace ztgate::config {

FileWatcher::FileWatcher(std::vector<std::string> files) { reset(std::move(files)); }

void FileWatcher::reset(std::vector<std::string> files) {
  std::vector<Fingerprint> seen;
  seen.reserve(files.size());
  for (const auto& f : files) {
    auto before = std::find(files_.begin(), files_.end(), f);
    seen.push_back(before != files_.end() ? seen_[static_cast<size_t>(before - files_.begin())] : fingerprint(f));
  }
  files_ = std::move(files);
  seen_ = std::move(seen);
}

bool FileWatcher::changed() {
  bool any = false;
  for (size_t i = 0; i < files_.size(); ++i) {
    Fingerprint now = fingerprint(files_[i]);
    if (!(now == seen_[i])) {
      seen_[i] = now;
      any = true;
    }
  }
  return any;
}

FileWatcher::Fingerprint FileWatcher::fingerprint(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  Fingerprint f;
  f.exists = true;
  f.device = static_cast<uint64_t>(st.st_dev);
  f.inode = static_cast<uint64_t>(st.st_ino);
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return f;
}

}  // namespace ztgate::config
