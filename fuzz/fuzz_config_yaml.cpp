// Fuzz target: the strict YAML configuration reader (src/config) on the
// whole of ztgate.yaml: the identity sections and the gateway's (listeners,
// TLS, limits, upstreams, models, routes, audit, decision cache, reload).
//
// Properties checked, for any input:
//   1. parse_identity_config returns a value or an error; it never crashes,
//      throws out of the module, hangs or overflows the stack (flow nesting is
//      bounded before yaml-cpp sees the text).
//   2. A configuration that loads is self-consistent: agent ids are unique
//      and every delegate_to names a registered agent; TTLs are in range;
//      there is a listener; upstreams have a host and a port in 1..65535 and
//      unique ids; every proxied model names a known upstream; route paths
//      start with '/'.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "authn/agent_registry.h"
#include "config/gateway_config.h"
#include "config/identity_config.h"
#include "property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using ztgate::fuzz::require;
  if (auto gw = ztgate::config::parse_gateway_config(text, "fuzz.yaml", "/nonexistent")) {
    require(!gw->listeners.empty(), "a listener");
    std::set<std::string> ids;
    for (const auto& u : gw->upstreams) {
      require(!u.host.empty() && u.port >= 1 && u.port <= 65535, "upstream address", u.id);
      require(ids.insert(u.id).second, "unique upstream ids", u.id);
    }
    for (const auto& m : gw->identity.models)
      require(m.upstream.empty() || ids.count(m.upstream), "models name known upstreams", m.id);
    for (const auto& r : gw->routes) require(!r.path.empty() && r.path.front() == '/', "route paths", r.path);
  } else {
    require(gw.error().code == "config_invalid", "errors carry config_invalid", gw.error().code);
  }
  auto config = ztgate::config::parse_identity_config(text, "fuzz.yaml", "/nonexistent");
  if (!config) {
    ztgate::fuzz::require(config.error().code == "config_invalid", "errors carry config_invalid",
                          config.error().code);
    return 0;
  }
  auto registry = ztgate::authn::AgentRegistry::create(config->agents);
  ztgate::fuzz::require(registry.ok(), "a loaded configuration has a valid agent registry");
  ztgate::fuzz::require(config->delegation.max_ttl_s >= 1 && config->delegation.max_ttl_s <= 86400,
                        "max_ttl in range");
  return 0;
}
