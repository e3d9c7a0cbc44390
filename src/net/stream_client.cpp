#include "net/stream_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/tls_peer.h"

namespace ztgate::net {

using Clock = std::chrono::steady_clock;
// How long a TLS 1.3 connection waits for the server to accept or refuse
// the client after the handshake (StreamConnection::Impl::await_acceptance).
constexpr std::chrono::milliseconds kAcceptanceWait{500};

namespace {

std::string authority(const std::string& host, uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

// Waits until `fd` is ready for `events` or the deadline passes: 1 ready,
// 0 deadline, -1 poll failed.
int wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (rc > 0) return 1;
    if (rc < 0 && errno != EINTR) return -1;
  }
}

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO uses
// write(2), which raises SIGPIPE on a connection the peer closed.
int bio_fd(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(bio_fd(b), data, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && would_block(errno)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int bio_read(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(bio_fd(b), out, static_cast<size_t>(len), 0);
  if (n < 0 && would_block(errno)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

const BIO_METHOD* nosignal_socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ztgate nosignal socket");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

struct AddrinfoDeleter {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

}  // namespace

struct StreamConnection::Impl {
  std::string where;  // host:port, for messages
  std::chrono::milliseconds write_timeout{};
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  bool broken = false;

  ~Impl() {
    if (ssl != nullptr) {
      SSL_shutdown(ssl);  // one non-blocking close_notify attempt; the result does not matter
      SSL_free(ssl);
    }
    if (ctx != nullptr) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
    ERR_clear_error();
  }

  Error fail(std::string code, const std::string& what) {
    broken = true;
    ERR_clear_error();
    return make_error(std::move(code), where + ": " + what);
  }

  // TLS 1.3 ends the client's handshake before the server has checked the
  // client's certificate: a server that refuses it answers with an alert
  // after SSL_connect succeeded, and a batch written at once would be lost.
  // So wait (briefly) for the server's first word: its session tickets
  // (sent once it accepted us) or its alert. Silence until `until` is taken
  // as acceptance: a server may send no tickets.
  Status await_acceptance(Clock::time_point until) {
    if (SSL_version(ssl) != TLS1_3_VERSION) return Ok{};  // TLS 1.2 checks inside the handshake
    char scratch[256];
    int ready = wait_fd(fd, POLLIN, until);
    if (ready == 0) return Ok{};
    if (ready < 0) return fail("net_io", "waiting for the server after the TLS handshake failed");
    int n = SSL_read(ssl, scratch, sizeof scratch);
    int reason = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, n);
    if (reason == SSL_ERROR_NONE || reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE)
      return Ok{};
    unsigned long e = ERR_peek_error();
    const char* why = e != 0 ? ERR_reason_error_string(e) : nullptr;
    return fail("net_tls",
                std::string("the server refused the connection after the TLS handshake: ") +
                    (why != nullptr ? why : "connection closed"));
  }

  // Drives one TLS call (handshake or write) through WANT_READ/WANT_WRITE
  // until it completes, fails, or the deadline passes. Returns the call's
  // positive result, or 0 with `error` set.
  template <class Call>
  int drive(Call call, Clock::time_point deadline, const char* step, Error& error) {
    for (;;) {
      int rc = call();
      if (rc > 0) return rc;
      int reason = SSL_get_error(ssl, rc);
      short events = reason == SSL_ERROR_WANT_READ    ? POLLIN
                     : reason == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                      : 0;
      if (events == 0) {
        std::string why = reason == SSL_ERROR_SYSCALL && errno != 0 ? std::strerror(errno)
                          : reason == SSL_ERROR_ZERO_RETURN || reason == SSL_ERROR_SYSCALL
                              ? std::string("connection closed by peer")
                              : tls_failure_reason(ssl, "TLS error");
        error = fail(std::strcmp(step, "TLS handshake") == 0 ? "net_tls" : "net_io",
                     std::string(step) + " failed: " + why);
        return 0;
      }
      int ready = wait_fd(fd, events, deadline);
      if (ready <= 0) {
        error = fail(ready == 0 ? "net_timeout" : "net_io",
                     std::string("deadline passed during ") + step);
        return 0;
      }
    }
  }
};

StreamConnection::StreamConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamConnection::~StreamConnection() = default;

Result<std::unique_ptr<StreamConnection>> StreamConnection::connect(
    const std::string& host, uint16_t port, const StreamClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->where = authority(host, port);
  impl->write_timeout = options.write_timeout;
  const Clock::time_point deadline = Clock::now() + options.connect_timeout;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0)
    return make_error("net_resolve", impl->where + ": name resolution failed: " + gai_strerror(rc));
  std::unique_ptr<addrinfo, AddrinfoDeleter> addresses(found);

  std::string last_failure = "no address";
  for (addrinfo* a = addresses.get(); a != nullptr && impl->fd < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_failure = std::strerror(errno);
      continue;
    }
    int err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      int ready = wait_fd(fd, POLLOUT, deadline);
      socklen_t len = sizeof err;
      if (ready == 0) {
        ::close(fd);
        return make_error("net_timeout", impl->where + ": deadline passed during connect");
      }
      if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err != 0) {
      last_failure = std::strerror(err);
      ::close(fd);
      continue;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    impl->fd = fd;
  }
  if (impl->fd < 0)
    return make_error("net_connect", impl->where + ": connect failed: " + last_failure);
  if (!options.tls) return std::unique_ptr<StreamConnection>(new StreamConnection(std::move(impl)));

  impl->ctx = SSL_CTX_new(TLS_client_method());
  if (impl->ctx == nullptr) return impl->fail("net_tls", "cannot create a TLS context");
  if (auto s = configure_client_trust(impl->ctx, options.ca_file); !s) return s.error();
  if (auto s = configure_client_certificate(impl->ctx, options.cert_file, options.key_file); !s)
    return s.error();
  SSL_CTX_set_mode(impl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  impl->ssl = SSL_new(impl->ctx);
  BIO* bio = impl->ssl != nullptr ? BIO_new(nosignal_socket_method()) : nullptr;
  if (bio == nullptr) return impl->fail("net_tls", "cannot create a TLS session");
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(impl->fd)));
  SSL_set_bio(impl->ssl, bio, bio);
  configure_peer_check(impl->ssl, host);
  Error error;
  SSL* ssl = impl->ssl;
  if (impl->drive([ssl] { return SSL_connect(ssl); }, deadline, "TLS handshake", error) <= 0)
    return error;
  if (auto accepted = impl->await_acceptance(std::min(deadline, Clock::now() + kAcceptanceWait));
      !accepted)
    return accepted.error();
  return std::unique_ptr<StreamConnection>(new StreamConnection(std::move(impl)));
}

Status StreamConnection::write_all(std::string_view data) {
  Impl& c = *impl_;
  if (c.broken) return make_error("net_io", c.where + ": connection already failed");
  const Clock::time_point deadline = Clock::now() + c.write_timeout;
  while (!data.empty()) {
    if (c.ssl != nullptr) {
      Error error;
      int chunk = static_cast<int>(std::min<size_t>(data.size(), 1 << 20));
      SSL* ssl = c.ssl;
      const char* bytes = data.data();
      int n = c.drive([ssl, bytes, chunk] { return SSL_write(ssl, bytes, chunk); }, deadline,
                      "sending", error);
      if (n <= 0) return error;
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    ssize_t n = ::send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && !would_block(errno))
      return c.fail("net_io", std::string("sending failed: ") + std::strerror(errno));
    int ready = wait_fd(c.fd, POLLOUT, deadline);
    if (ready <= 0)
      return c.fail(ready == 0 ? "net_timeout" : "net_io", "deadline passed during sending");
  }
  return Ok{};
}

bool StreamConnection::alive() {
  Impl& c = *impl_;
  if (c.broken) return false;
  char scratch[4096];
  // The peer sends no application data; whatever arrives (TLS session
  // tickets are consumed inside SSL_read) is read and dropped, a bounded
  // number of times.
  for (int i = 0; i < 16; ++i) {
    if (c.ssl != nullptr) {
      int n = SSL_read(c.ssl, scratch, sizeof scratch);
      if (n > 0) continue;
      int reason = SSL_get_error(c.ssl, n);
      if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return true;
    } else {
      ssize_t n = ::recv(c.fd, scratch, sizeof scratch, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n < 0 && would_block(errno)) return true;
    }
    c.broken = true;
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace ztgate::net
