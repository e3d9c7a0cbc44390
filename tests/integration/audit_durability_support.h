// Helpers for the audit durability integration tests (crash, disk full):
// a keep-alive HTTP/1.1 client on a raw socket that tells a complete
// response from a cut one, a small tmpfs mounted for one test (with a
// user+mount namespace fallback when plain mount(2) is refused), a filler
// that takes a file system's last byte, a Prometheus gauge reader, and the
// trail's (seq, request id) pairs read from the store. Test-only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "audit/store.h"

namespace ztgate::itest {

// One answer on a keep-alive connection. `complete`: the status line, the
// headers and Content-Length bytes of body all arrived.
struct HttpAnswer {
  bool complete = false;
  int status = 0;
  std::string request_id;  // the x-request-id header of the answer
  std::string body;
};

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class KeepAliveClient {
 public:
  explicit KeepAliveClient(int port, int timeout_s = 30) : port_(port), timeout_s_(timeout_s) {}
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;
  ~KeepAliveClient() { close_fd(); }

  // Sends one request (connecting first when needed) and reads its answer.
  HttpAnswer request(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& bearer = "", const std::string& request_id = "") {
    HttpAnswer a;
    if (fd_ < 0 && !connect_fd()) return a;
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
    if (!request_id.empty()) req += "x-request-id: " + request_id + "\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    for (size_t sent = 0; sent < req.size();) {
      ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        close_fd();
        return a;
      }
      sent += static_cast<size_t>(n);
    }
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return a;
    std::string head = buf_.substr(0, head_end);
    if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12) {
      close_fd();
      return a;
    }
    a.status = std::atoi(head.c_str() + 9);
    std::optional<size_t> length;
    bool close_after = false;
    for (size_t at = head.find("\r\n"); at != std::string::npos;) {
      size_t next = head.find("\r\n", at + 2);
      std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = lower(line.substr(0, colon));
        std::string value = line.substr(line.find_first_not_of(' ', colon + 1));
        if (name == "content-length") length = std::stoul(value);
        if (name == "x-request-id") a.request_id = value;
        if (name == "connection" && lower(value) == "close") close_after = true;
      }
      at = next;
    }
    if (!length) {  // every answer of these tests has a length: anything else is a cut
      close_fd();
      return a;
    }
    while (buf_.size() < head_end + 4 + *length)
      if (!fill()) return a;
    a.body = buf_.substr(head_end + 4, *length);
    buf_.erase(0, head_end + 4 + *length);
    a.complete = true;
    if (close_after) close_fd();
    return a;
  }

 private:
  bool connect_fd() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    timeval tv{timeout_s_, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close_fd();
      return false;
    }
    return true;
  }
  bool fill() {
    char chunk[8192];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      close_fd();
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  void close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }

  int port_;
  int timeout_s_;
  int fd_ = -1;
  std::string buf_;
};

// A tmpfs of `size` mounted on `dir` for the life of the object. Plain
// mount(2) first (root); when that is refused (a container without
// CAP_SYS_ADMIN), the test process moves into its own user and mount
// namespaces (what `unshare -rm` does; the process must still be
// single-threaded) and mounts there: the gateway it starts afterwards
// inherits them. `error()` says why neither worked.
class TmpfsMount {
 public:
  TmpfsMount(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
      mounted_ = true;
      return;
    }
    std::string first = std::strerror(errno);
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      error_ = "mount(tmpfs) failed (" + first + ") and unshare(user+mount) failed (" + std::strerror(errno) + ")";
      return;
    }
    bool mapped = write_proc("/proc/self/setgroups", "deny") &&
                  write_proc("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1") &&
                  write_proc("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
    if (!mapped) {
      error_ = "mount(tmpfs) failed (" + first + "); in a new user namespace, the uid/gid maps could not be written";
      return;
    }
    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      error_ = "mount(tmpfs) failed (" + first + "), and again inside a user+mount namespace (" +
               std::strerror(errno) + ")";
      return;
    }
    mounted_ = true;
    in_namespace_ = true;
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }

  bool mounted() const { return mounted_; }
  bool in_namespace() const { return in_namespace_; }
  const std::string& error() const { return error_; }

 private:
  static bool write_proc(const char* path, const std::string& text) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
  }

  std::filesystem::path dir_;
  bool mounted_ = false;
  bool in_namespace_ = false;
  std::string error_;
};

// Writes `path` until the file system says ENOSPC; the bytes written, or
// -1 (errno) when it failed otherwise.
inline long long fill_file_system(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  std::string block(64 * 1024, 'x');
  long long total = 0;
  size_t size = block.size();
  while (true) {
    ssize_t n = ::write(fd, block.data(), size);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n < 0 && errno == ENOSPC) {
      if (size == 1) break;
      size = 1;  // take the last partial block too
      continue;
    }
    if (n == 0) break;
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  ::close(fd);
  return total;
}

// The value of an unlabelled metric in Prometheus text, or -1.
inline double metric_value(const std::string& text, const std::string& name) {
  std::string key = "\n" + name + " ";
  std::string padded = "\n" + text;
  size_t at = padded.find(key);
  if (at == std::string::npos) return -1;
  return std::atof(padded.c_str() + at + key.size());
}

// The trail as the store holds it: chain id and (seq, request id) pairs.
struct TrailView {
  bool ok = false;
  std::string error;
  std::string chain_uid;
  std::vector<std::pair<uint64_t, std::string>> records;  // ascending seq
  uint64_t max_seq() const { return records.empty() ? 0 : records.back().first; }
};

inline TrailView read_trail(const std::filesystem::path& store_path) {
  TrailView v;
  auto store = ztgate::audit::AuditStore::open(store_path.string(), /*read_only=*/true);
  if (!store) {
    v.error = store.error().message;
    return v;
  }
  v.chain_uid = (*store)->chain_uid();
  uint64_t after = 0;
  while (true) {
    auto batch = (*store)->read_after(after, 1000);
    if (!batch) {
      v.error = batch.error().message;
      return v;
    }
    if (batch->empty()) break;
    for (const auto& r : *batch) v.records.emplace_back(r.seq, r.event.request_id);
    after = batch->back().seq;
  }
  v.ok = true;
  return v;
}

}  // namespace ztgate::itest
