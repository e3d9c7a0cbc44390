// The gateway as an HTTP handler: routes every request to its adapter, runs
// the exchange through the verification pipeline, answers or forwards, and
// records it. One instance per process; the configuration inside it is a
// snapshot that reload() replaces atomically. handle() is thread-safe.
//
//   GET  /healthz                            liveness: {"status":"ok"}
//   GET  /readyz                             {"status":"ready","config_version":N,"policies":N}
//   GET  /metrics                            Prometheus text format
//   GET  /.well-known/authzen-configuration  AuthZEN PDP metadata
//   POST /access/v1/evaluation(s)            AuthZEN (pdp_adapters.cpp)
//   POST /cedar/v1/is_authorized             Cedar-native PDP (pdp_adapters.cpp)
//   POST /v1/chat/completions                OpenAI-compatible proxy (openai_adapter.cpp)
//   POST /v1/embeddings
//   GET  /v1/models
//   GET  /admin/v1/audit                     search the audit trail (admin_adapter.cpp)
//   (egress.listener)                        the forward proxy, its own listener (egress_proxy.h)
//
// Every error is {"error":{"code","message","request_id"}} with a stable
// code; every exchange (allowed, denied, malformed) ends with one audit
// record. Upstream failures: 502 upstream_unavailable / upstream_error /
// upstream_auth_failed / upstream_invalid / upstream_tls_error, 504
// upstream_timeout.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/gateway_config.h"
#include "gateway/egress_guard.h"
#include "gateway/http_server.h"

namespace ztgate::gateway {

class GatewayService {
 public:
  // Loads everything the configuration names; fails when anything does not load.
  static Result<std::unique_ptr<GatewayService>> create(config::GatewayConfig config);
  ~GatewayService();

  HttpResponse handle(const HttpRequest& request);
  // Records a request the server answered itself (ServerOptions::on_rejected:
  // malformed, too large, too slow, over the connection limit).
  void record_rejected(const HttpRequest& seen, int status, std::string_view code);

  // Re-reads the configuration file and everything it names. On success the
  // new snapshot serves every request that starts from now on and the
  // version bumps; on failure the running one stays and the error says why.
  // Serialized: concurrent calls wait.
  Result<uint64_t> reload();
  uint64_t version() const;
  // The files whose change should trigger reload() (config, policies,
  // schema, entities).
  std::vector<std::string> watched_files() const;

  // Egress decisions: the forward proxy's (egress_proxy.h), and the
  // gateway's own outbound connections (EgressGuard::check).
  EgressGuard& egress();

 private:
  struct Impl;
  explicit GatewayService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::gateway
