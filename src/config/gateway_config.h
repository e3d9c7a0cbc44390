// ztgate.yaml as a whole, as far as it is defined today: the identity
// sections (identity_config.h), models and posture (posture_config.h) and
// policies (policy_config.h). `ztgate config check` loads it all — the YAML
// strictly, then every file it names (policies validated against the
// schema, entities, JWKS files, CA bundles, signing key) — without starting
// anything. Sections the gateway adds later (listeners, upstreams, routes,
// inspection, audit) are accepted and not yet read.
#pragma once

#include <optional>
#include <string>

#include "config/identity_config.h"
#include "config/policy_config.h"

namespace ztgate::config {

// listeners: [ {address, port} ] and limits: {...}. One listener for now.
struct ListenerSettings {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: any free port, printed at start
};

struct LimitSettings {
  int64_t max_header_bytes = 16 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t request_timeout_s = 30;
  int64_t idle_timeout_s = 60;
  int64_t drain_timeout_s = 10;
  int64_t max_connections = 1024;
  int64_t threads = 2;
};

struct GatewayConfig {
  IdentityConfig identity;
  std::optional<PolicySettings> policies;
  std::vector<ListenerSettings> listeners;
  LimitSettings limits;
  std::string public_url = "https://localhost:8443";  // gateway.public_url: how clients reach us
  bool pdp_requires_authentication = true;            // pdp.require_authentication
  // pdp.authzen_legacy_properties: read entity members beside type/id as
  // properties, as the AuthZEN interop todo decision files do.
  bool pdp_legacy_properties = false;
};

Result<GatewayConfig> load_gateway_config(const std::string& path);

}  // namespace ztgate::config
