// The policy decision point served over HTTP: routes, caller
// authentication, the AuthZEN endpoints, health and metrics. One instance per
// loaded configuration; handle() is thread-safe.
//
//   GET  /healthz                            liveness: {"status":"ok"}
//   GET  /readyz                             ready once policies are loaded
//   GET  /metrics                            Prometheus text format
//   GET  /.well-known/authzen-configuration  AuthZEN PDP metadata
//   POST /access/v1/evaluation               one AuthZEN evaluation
//   POST /access/v1/evaluations              a batch
//
// Callers of the PDP authenticate (pdp.require_authentication, default on)
// with `Authorization: Bearer <token>`: an API key (ztg_…), a token from a
// configured issuer, or a ztgate delegation token. Every error is
// {"error":{"code","message","request_id"}} with a stable code.
#pragma once

#include <memory>
#include <string>

#include "config/gateway_config.h"
#include "gateway/http_server.h"

namespace ztgate::gateway {

class PdpService {
 public:
  // Loads policies, entities and the identity pillar; fails when anything
  // named by the configuration does not load.
  static Result<std::unique_ptr<PdpService>> create(config::GatewayConfig config);
  ~PdpService();

  HttpResponse handle(const HttpRequest& request);

 private:
  struct Impl;
  explicit PdpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::gateway
