// Test-only helpers for the sink tests: sealed records in a real store, and
// tiny in-process servers on 127.0.0.1 (a raw TCP receiver for syslog, an
// HTTP/1.1 receiver with scripted answers for webhooks). Blocking POSIX
// sockets on one thread each; errors throw std::runtime_error.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "audit/store.h"

namespace ztgate::audit::testing {

// A fresh, empty directory under the system temp dir, removed when the
// test binary exits.
inline std::filesystem::path temp_dir(const std::string& name) {
  struct Cleanup {
    std::vector<std::filesystem::path> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Cleanup cleanup;
  auto dir =
      std::filesystem::temp_directory_path() / ("ztgate-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  cleanup.dirs.push_back(dir);
  return dir;
}

// Records first_seq.. (count of them), sealed into one chain as the trail
// would, with varied decisions and a request id needing SD escaping.
inline std::vector<StoredRecord> sealed_records(uint64_t first_seq, size_t count,
                                                Digest prev = {}) {
  std::vector<StoredRecord> out;
  static const char* kDecisions[] = {"allow", "deny", "error"};
  for (size_t i = 0; i < count; ++i) {
    uint64_t seq = first_seq + i;
    StoredRecord r;
    r.seq = seq;
    r.event.time_ms = 1'700'000'000'000 + static_cast<int64_t>(seq) * 1001;
    r.event.request_id = "req-" + std::to_string(seq) + "-\"q]";
    r.event.route = "/v1/chat/completions";
    r.event.principal = "User::\"alice\"";
    r.event.action = "invoke_model";
    r.event.resource = "Model::\"gpt-4o\"";
    r.event.decision = kDecisions[seq % 3];
    std::string json = "{\"class_uid\":6003,\"time\":" + std::to_string(r.event.time_ms) +
                       ",\"message\":\"caf\xC3\xA9 " + std::to_string(seq) + "\"}";
    Sealed s = seal(json, seq, prev, "chain-test", "kid-test");
    prev = s.fingerprint;
    r.text = std::move(s.text);
    out.push_back(std::move(r));
  }
  return out;
}

inline int listen_loopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// Waits for `fd` readable up to 50 ms; true when readable.
inline bool readable(int fd, int ms = 50) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

// Accepts connections one at a time and keeps every byte each one sent.
// close_current() drops the open connection (the peer sees EOF).
class TcpReceiver {
 public:
  TcpReceiver() : listen_fd_(listen_loopback(port_)), thread_([this] { run(); }) {}
  ~TcpReceiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }

  // Bytes received per connection, in accept order.
  std::vector<std::string> connections() {
    std::lock_guard lock(mu_);
    return received_;
  }
  void close_current() {
    close_requested_ = true;
    while (close_requested_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Waits until all connections together hold at least `bytes`.
  bool wait_bytes(size_t bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      size_t total = 0;
      for (const auto& c : connections()) total += c.size();
      if (total >= bytes) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  void run() {
    int conn = -1;
    while (!stop_) {
      if (close_requested_) {
        if (conn >= 0) ::close(conn);
        conn = -1;
        close_requested_ = false;
      }
      if (conn < 0) {
        if (!readable(listen_fd_)) continue;
        conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        std::lock_guard lock(mu_);
        received_.emplace_back();
        continue;
      }
      if (!readable(conn, 10)) continue;
      char buf[65536];
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(conn);
        conn = -1;
        continue;
      }
      std::lock_guard lock(mu_);
      received_.back().append(buf, static_cast<size_t>(n));
    }
    if (conn >= 0) ::close(conn);
  }

  uint16_t port_ = 0;
  int listen_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> close_requested_{false};
  std::mutex mu_;
  std::vector<std::string> received_;
  std::thread thread_;
};

// Splits "len SP msg len SP msg ..." (RFC 6587 octet counting); throws on a
// malformed frame.
inline std::vector<std::string> split_octet_frames(const std::string& bytes) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < bytes.size()) {
    size_t sp = bytes.find(' ', i);
    if (sp == std::string::npos || sp == i || sp - i > 9)
      throw std::runtime_error("bad frame length");
    size_t len = std::stoul(bytes.substr(i, sp - i));
    if (sp + 1 + len > bytes.size()) throw std::runtime_error("truncated frame");
    out.push_back(bytes.substr(sp + 1, len));
    i = sp + 1 + len;
  }
  return out;
}

// An HTTP/1.1 receiver: answers each request with the next scripted
// response (status, extra header lines), then 200 once the script is used
// up; keeps every request (head and body). One request per connection.
// With a server TLS context (use_tls), it speaks HTTPS.
class HttpReceiver {
 public:
  struct Answer {
    int status = 200;
    std::string extra_headers;  // "Name: value\r\n" lines
  };
  struct Request {
    std::string head;
    std::string body;
    int answered = 0;
  };

  explicit HttpReceiver(std::vector<Answer> script = {})
      : script_(script.begin(), script.end()),
        listen_fd_(listen_loopback(port_)),
        thread_([this] { run(); }) {}
  ~HttpReceiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/ingest") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Serves HTTPS with `ctx` (a server context with certificate and key) from
  // now on. Call before any client connects.
  void use_tls(SSL_CTX* ctx) { tls_.store(ctx); }

 private:
  void serve(int conn) {
    SSL* ssl = nullptr;
    if (SSL_CTX* ctx = tls_.load()) {
      timeval tv{5, 0};
      setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, conn);
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        return;  // the client refused us (or we it)
      }
    }
    serve_http(conn, ssl);
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
  }

  void serve_http(int conn, SSL* ssl) {
    std::string data;
    char buf[65536];
    size_t head_end = std::string::npos, need = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (head_end != std::string::npos && data.size() >= head_end + 4 + need) break;
      if (ssl == nullptr && !readable(conn, 20)) continue;
      ssize_t n =
          ssl != nullptr ? SSL_read(ssl, buf, sizeof buf) : ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos &&
          (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string lower = data.substr(0, head_end);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = lower.find("content-length:");
        need = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
      }
    }
    if (head_end == std::string::npos) return;
    Answer answer;
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
      }
      requests_.push_back(
          {data.substr(0, head_end), data.substr(head_end + 4, need), answer.status});
    }
    std::string response = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\n" +
                           answer.extra_headers +
                           "Content-Length: 2\r\nConnection: close\r\n\r\nok";
    if (ssl != nullptr)
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
    else
      (void)::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
  }

  void run() {
    while (!stop_) {
      if (!readable(listen_fd_)) continue;
      int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      serve(conn);
      ::close(conn);
    }
  }

  std::mutex mu_;
  std::deque<Answer> script_;
  std::vector<Request> requests_;
  uint16_t port_ = 0;
  int listen_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<SSL_CTX*> tls_{nullptr};
  std::thread thread_;
};

}  // namespace ztgate::audit::testing
