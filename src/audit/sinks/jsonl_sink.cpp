#include "audit/sinks/jsonl_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ztgate::audit {
namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  return make_error("audit_sink_io", what + " " + path + ": " + std::strerror(err));
}

std::string parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

// A rename or a new file is durable once its directory is.
void sync_dir(const std::string& path) {
  int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  (void)::fsync(dfd);
  ::close(dfd);
}

}  // namespace

Result<std::unique_ptr<JsonlSink>> JsonlSink::open(JsonlSinkOptions options) {
  if (options.name.empty()) return make_error("audit_sink_config", "a jsonl sink needs a name");
  if (options.path.empty() || options.path.back() == '/')
    return make_error("audit_sink_config", "sink " + options.name + ": path must name a file");
  if (options.keep < 1 || options.keep > kMaxJsonlKeep)
    return make_error("audit_sink_config", "sink " + options.name + ": keep must be 1.." +
                                               std::to_string(kMaxJsonlKeep));
  if (options.rotate_bytes != 0 && options.rotate_bytes < kMinJsonlRotateBytes)
    return make_error("audit_sink_config", "sink " + options.name +
                                               ": rotate_bytes must be 0 (never) or at least " +
                                               std::to_string(kMinJsonlRotateBytes));
  std::unique_ptr<JsonlSink> sink(new JsonlSink(std::move(options)));
  if (auto opened = sink->open_file(); !opened) return opened.error();
  return sink;
}

JsonlSink::~JsonlSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status JsonlSink::open_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return io_error("cannot open", options_.path, errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error("cannot stat", options_.path, errno);
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    return make_error("audit_sink_config",
                      "sink " + options_.name + ": " + options_.path + " is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  sync_dir(options_.path);
  return Ok{};
}

Status JsonlSink::ensure_current() {
  struct stat st {};
  if (fd_ >= 0 && ::stat(options_.path.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
    return Ok{};
  return open_file();
}

Status JsonlSink::rotate() {
  ::close(fd_);
  fd_ = -1;
  const std::string& base = options_.path;
  for (uint32_t i = options_.keep - 1; i >= 1; --i) {
    std::string from = base + "." + std::to_string(i);
    if (::rename(from.c_str(), (base + "." + std::to_string(i + 1)).c_str()) != 0 &&
        errno != ENOENT)
      return io_error("cannot rotate", from, errno);
  }
  if (::rename(base.c_str(), (base + ".1").c_str()) != 0 && errno != ENOENT)
    return io_error("cannot rotate", base, errno);
  return open_file();  // syncs the directory: the renames are durable
}

Status JsonlSink::write_chunk(const std::string& data) {
  if (data.empty()) return Ok{};
  const uint64_t before = size_;
  size_t done = 0;
  int err = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd_) != 0) err = errno;
  if (err != 0) {
    // Cut the partial batch back off so the retry does not leave a torn line.
    (void)::ftruncate(fd_, static_cast<off_t>(before));
    return io_error("cannot append to", options_.path, err);
  }
  size_ += data.size();
  return Ok{};
}

Status JsonlSink::deliver(const std::vector<StoredRecord>& batch) {
  for (const auto& r : batch)
    if (r.text.find_first_of("\r\n") != std::string::npos)
      return make_error("audit_sink_record",
                        "record " + std::to_string(r.seq) +
                            " contains a line break and cannot be written as one JSON line");
  if (auto current = ensure_current(); !current) return current;
  std::string chunk;
  for (const auto& r : batch) {
    const uint64_t line = r.text.size() + 1;
    const uint64_t pending = size_ + chunk.size();
    if (options_.rotate_bytes != 0 && pending > 0 && pending + line > options_.rotate_bytes) {
      if (auto written = write_chunk(chunk); !written) return written;
      chunk.clear();
      if (auto rotated = rotate(); !rotated) return rotated;
    }
    chunk += r.text;
    chunk += '\n';
  }
  return write_chunk(chunk);
}

}  // namespace ztgate::audit
