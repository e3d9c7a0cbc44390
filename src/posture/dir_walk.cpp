#include "posture/internal/dir_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace ztgate::posture::internal {
namespace {

struct DirClose {
  void operator()(DIR* d) const { closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirClose>;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error io_error(const std::string& what, const std::string& path) {
  return make_error("manifest_io_error", what + " " + path + ": " + std::strerror(errno));
}

class Walker {
 public:
  Walker(const WalkLimits& limits, const WalkVisitor& visit) : limits_(limits), visit_(visit) {}

  // Takes ownership of `dirfd`.
  Status walk(int dirfd, const std::string& prefix, size_t depth) {
    if (depth > limits_.max_depth)
      return make_error("manifest_too_large", "directory " + prefix + " is nested too deep");
    DirPtr dir(::fdopendir(dirfd));
    if (!dir) {
      ::close(dirfd);
      return io_error("cannot list", prefix.empty() ? "." : prefix);
    }
    for (;;) {
      errno = 0;
      dirent* e = ::readdir(dir.get());
      if (!e) {
        if (errno != 0) return io_error("cannot list", prefix.empty() ? "." : prefix);
        return Ok{};
      }
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (++entries_ > limits_.max_entries)
        return make_error("manifest_too_large", "more than " +
                                                    std::to_string(limits_.max_entries) +
                                                    " entries in the model directory");
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      if (auto st = visit_entry(::dirfd(dir.get()), name, rel, depth); !st) return st;
    }
  }

 private:
  Status visit_entry(int parent, const std::string& name, const std::string& rel, size_t depth) {
    struct stat st{};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return io_error("cannot stat", rel);
    if (S_ISLNK(st.st_mode)) {
      visit_(rel, EntryKind::kSymlink, -1);
      return Ok{};
    }
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        // Replaced by a symlink between the stat and the open.
        if (errno == ELOOP || errno == ENOTDIR) {
          visit_(rel, EntryKind::kSymlink, -1);
          return Ok{};
        }
        return io_error("cannot open directory", rel);
      }
      return walk(sub, rel, depth + 1);
    }
    if (!S_ISREG(st.st_mode)) {
      visit_(rel, EntryKind::kOther, -1);
      return Ok{};
    }
    // O_NONBLOCK: if it became a FIFO since the stat, opening must not hang;
    // the digest re-checks that it is regular.
    Fd f(::openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) {
      if (errno == ELOOP) {
        visit_(rel, EntryKind::kSymlink, -1);
        return Ok{};
      }
      return io_error("cannot open", rel);
    }
    visit_(rel, EntryKind::kRegular, f.fd);
    return Ok{};
  }

  const WalkLimits& limits_;
  const WalkVisitor& visit_;
  size_t entries_ = 0;
};

}  // namespace

Status walk_directory(const std::string& root, const WalkLimits& limits, const WalkVisitor& visit) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open model directory", root);
  Walker walker(limits, visit);
  return walker.walk(fd, "", 0);
}

}  // namespace ztgate::posture::internal
