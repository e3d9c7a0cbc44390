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

struct GatewayConfig {
  IdentityConfig identity;
  std::optional<PolicySettings> policies;
};

Result<GatewayConfig> load_gateway_config(const std::string& path);

}  // namespace ztgate::config
