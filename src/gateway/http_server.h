// The gateway's HTTP/1.1 server (Boost.Beast on Asio, C++20 coroutines).
// Plain structs in, plain structs out: Beast stays inside http_server.cpp.
//
// Every connection is bounded: header bytes, body bytes, a deadline for
// reading each request (request_timeout) and for an idle keep-alive
// connection (idle_timeout), a cap on open connections (over it, new ones get
// 503 and are closed). Malformed requests get a JSON error and the connection
// is closed; the handler never sees them. stop() drains: it stops accepting,
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

  // The first header of that (lowercase) name, or "".
  std::string header(std::string_view name) const;
  std::string path() const;  // target without the query
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port)
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{10'000};
  size_t max_connections = 1024;
  int threads = 2;
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
