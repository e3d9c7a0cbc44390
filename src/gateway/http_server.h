// The gateway's HTTP/1.1 server (Boost.Beast on Asio, C++20 coroutines).
// Plain structs in, plain structs out: Beast stays inside http_server.cpp.
//
// Every connection is bounded: header bytes, body bytes, a deadline for
// reading each request (request_timeout) and for an idle keep-alive
// connection (idle_timeout), a cap on open connections (over it, new ones get
// 503 and are closed). Malformed, oversized and too slow requests get a JSON
// error (400, 413, 431, 408) and the connection is closed; the handler never
// sees them, on_rejected does. stop() drains: it stops accepting,
// closes idle keep-alive connections, lets requests in flight finish (up to
// drain_timeout), then stops.
//
// The handler runs on the server's threads; it must be thread-safe and
// should not block for long (the AuthZEN handler is microseconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ztgate::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string request_id;  // assigned by the server (or the caller's x-request-id if sane)
  std::string remote;      // "ip:port"
  std::string client_cert_pem;  // TLS listeners: the client's verified chain, leaf first ("" = none)

  // The first header of that (lowercase) name, or "".
  std::string header(std::string_view name) const;
  std::string path() const;  // target without the query
};

struct Forward;
class ReadyGate;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set: the server forwards this request upstream and streams the answer
  // back instead of sending the fields above.
  std::shared_ptr<Forward> forward;
  // Set: the server waits for the gate before answering or forwarding.
  std::shared_ptr<ReadyGate> gate;
};

// Something that must hold before a response leaves or a forward starts
// (a sync route's audit record becoming durable). The server waits without
// blocking its thread; when the gate says no, or says nothing within
// timeout(), the client gets refusal() instead (fail closed).
class ReadyGate {
 public:
  virtual ~ReadyGate() = default;
  // Calls `done` once, from any thread: true = go on.
  virtual void when_ready(std::function<void(bool)> done) = 0;
  virtual std::chrono::milliseconds timeout() const = 0;
  // Called once when the gate did not open; the answer to send instead.
  virtual HttpResponse refusal() = 0;
  // Called once after the gate opened: an answer that replaces the response
  // the gate was on (an answer computed off the server's threads, e.g. an
  // MCP tool call), or nullopt to send that response. A replacement may
  // carry a gate of its own; the server waits for that one too.
  virtual std::optional<HttpResponse> answer() { return std::nullopt; }
};

// --- Forwarding (the proxy adapters) ---------------------------------------
// The handler decides; the server moves the bytes. The upstream answer is
// relayed chunk by chunk as it arrives (never buffered whole): same status,
// the observer's choice of headers, Content-Length when the upstream gave
// one, else chunked. Upstream connections are kept alive and pooled per
// host:port. A reused connection that turns out to be closed is retried
// once on a fresh one.
struct ForwardRequest {
  std::string host;  // upstream address (name or IP): the Host header and the TLS name
  uint16_t port = 80;
  // Set: connect to one of these IP addresses, in order, and never resolve
  // `host` (the egress guard's checked addresses: forward_request_for() in
  // egress_guard.h). Pooled connections are kept apart per list.
  std::vector<std::string> connect_to;
  bool tls = false;     // https: SNI, chain verified, name checked (TLS 1.2+)
  std::string ca_file;  // trusted CAs for the upstream ("" = the system's)
  std::string method = "POST";
  std::string target;  // path and query on the upstream
  std::vector<std::pair<std::string, std::string>> headers;  // exactly these (plus Host, Content-Length)
  std::string body;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{60'000};  // for the head, and between body chunks
  size_t max_response_bytes = size_t{64} << 20;
};

// Rewrites an answer's body on its way to the client (output redaction).
// The server relays what feed() and finish() return instead of the
// upstream's bytes, always chunked (the length changes). Once ended() turns
// true (a blocked stream) the server stops reading the upstream, sends what
// finish() returns and closes the answer.
class BodyFilter {
 public:
  virtual ~BodyFilter() = default;
  // The bytes to send now for this chunk of the upstream's body (maybe none).
  virtual std::string feed(std::string_view chunk) = 0;
  // The upstream's body is complete (or ended() turned true): the rest.
  virtual std::string finish() = 0;
  virtual bool ended() const = 0;
  // Non-zero: the status to answer with instead of the upstream's. Read
  // before the first bytes go out (the head leaves with them), so a filter
  // that holds the whole body back can still refuse it properly.
  virtual int status() const { return 0; }
};

// The pipeline's side of a forward. Calls come from the server's threads, in
// order, for one forward at a time.
class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // The upstream's status and headers (names lowercased). Return nullopt to
  // relay it (with `relay_headers` as the response headers, besides
  // Content-Type which is always relayed), or a response to send instead
  // (the upstream connection is then dropped).
  virtual std::optional<HttpResponse> on_head(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                                              std::vector<std::pair<std::string, std::string>>& relay_headers) = 0;
  // After on_head let the answer through: a filter for its body, or nullptr
  // to relay the upstream's bytes as they are.
  virtual BodyFilter* body_filter() { return nullptr; }
  // Each body chunk, before it is written to the client: exactly the bytes
  // the client gets (a filter's output when there is one).
  virtual void on_chunk(std::string_view chunk) = 0;
  // The forward failed before anything was sent to the client. Codes:
  // upstream_unavailable (connect/DNS/reset), upstream_timeout,
  // upstream_tls_error (handshake: untrusted certificate, wrong name; or the
  // CA file does not load). Returns the answer to send.
  virtual HttpResponse on_failure(std::string_view code, std::string_view message) = 0;
  // Exactly once, last: the status the client got, and whether the body was
  // relayed completely (false: upstream or client broke off mid-stream).
  virtual void on_done(int status, bool complete, std::string_view error_code) = 0;
};

struct Forward {
  ForwardRequest request;
  std::shared_ptr<ForwardObserver> observer;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// TLS on the listener (TLS 1.2+). With client_ca_file the server asks for a
// client certificate and verifies it against those CAs (the identity
// pillar maps it to a principal); require_client_cert refuses handshakes
// without one.
struct TlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool require_client_cert = false;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::optional<TlsOptions> tls;  // error code "tls_config" when it does not load
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port)
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{10'000};
  size_t max_connections = 1024;
  int threads = 2;
  // Called (on a server thread) for every request the handler never sees:
  // malformed (400), headers or body too large (431, 413), too slow (408),
  // over the connection limit (503). `seen` holds what was read of it
  // (method and target once the header was complete), the request id and
  // the remote address; status and code are those of the JSON error sent.
  // Must not block.
  std::function<void(const HttpRequest& seen, int status, std::string_view code)> on_rejected;
};

// {"error":{"code","message","request_id"}} with that status.
HttpResponse json_error(int status, std::string_view code, std::string_view message, std::string_view request_id);

class HttpServer {
 public:
  // Binds and starts serving on background threads. Error code
  // "server_bind" when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(ServerOptions options, HttpHandler handler);
  ~HttpServer();  // stop()s

  uint16_t port() const;
  // Graceful: see the header comment. Idempotent; blocks until stopped.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::gateway
