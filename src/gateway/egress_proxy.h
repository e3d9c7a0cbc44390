// The egress forward proxy: the listener tool servers and AI components are
// pointed at (HTTPS_PROXY / HTTP_PROXY). Beast stays in egress_proxy.cpp.
//
//   CONNECT host:port          a tunnel: once allowed and connected, the
//                              client gets "200 Connection established" and
//                              the bytes pass untouched both ways (TLS end
//                              to end: the proxy sees no plaintext).
//   GET http://host/path ...   absolute-form plain HTTP: forwarded in
//                              origin-form to the checked address with the
//                              client's headers minus hop-by-hop and
//                              Proxy-* ones, Host set from the URL; the
//                              answer relayed as it arrives, redirects
//                              included (never followed: the client's next
//                              request is a new decision).
// Every request is decided by the EgressGuard (egress_guard.h: 407, 403,
// 400, 502, 504 with ztgate's JSON error body) and recorded with what went
// through (bytes each way, duration, how it ended).
//
// Bounds: header bytes, body bytes (plain HTTP requests are read whole
// before forwarding), open connections (beyond: 503 and close), open tunnels
// (beyond: 503 too_many_tunnels), request_timeout to receive a request,
// idle_timeout for a keep-alive client or a tunnel with no bytes either
// way, tunnel_max for a tunnel's whole life, response_timeout for the
// upstream's head and between its body bytes, the connect timeout (per
// decision). One upstream connection per client connection, reused for the
// next request only when that one is allowed to the same checked address.
// stop() closes everything open (tunnels end as "stopping") and waits up
// to drain_timeout for the records.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "gateway/egress_guard.h"
#include "gateway/http_server.h"

namespace ztgate::gateway {

struct EgressProxyOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 3128;  // 0: any free port (see port())
  std::optional<TlsOptions> tls;  // an HTTPS proxy; with client_ca_file, mTLS identities
  size_t max_connections = 1024;
  size_t max_tunnels = 256;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 10 << 20;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds response_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::seconds tunnel_max{86'400};
  std::chrono::milliseconds drain_timeout{10'000};
  int threads = 2;
};

class EgressProxy {
 public:
  // Binds and serves on background threads. Errors: server_bind, tls_config.
  // `guard` must outlive the proxy.
  static Result<std::unique_ptr<EgressProxy>> start(EgressProxyOptions options, EgressGuard& guard);
  ~EgressProxy();  // stop()s

  uint16_t port() const;
  void stop();  // idempotent; blocks until stopped

  struct Impl;

 private:
  explicit EgressProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::gateway
