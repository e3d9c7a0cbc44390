#include "config/gateway_config.h"

#include <filesystem>

namespace ztgate::config {

Result<GatewayConfig> load_gateway_config(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return doc.error();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::string dir = parent.empty() ? std::string(".") : parent.string();
  YamlErrors errors(path);
  MapReader root(*doc, "", errors);
  GatewayConfig c;
  c.identity = read_identity_config(root, dir, errors);
  // gateway.public_url sits beside gateway.issuer / audience (read there).
  c.public_url = c.identity.public_url.empty() ? c.public_url : c.identity.public_url;
  c.policies = read_policy_settings(root, dir);
  for (auto& l : root.list("listeners", 1)) {
    ListenerSettings ls;
    ls.address = l.string("address", ls.address);
    ls.port = static_cast<int>(l.integer("port", ls.port, 0, 65535));
    l.finish();
    c.listeners.push_back(ls);
  }
  if (c.listeners.empty()) c.listeners.push_back(ListenerSettings{});
  MapReader limits = root.map("limits");
  LimitSettings& lim = c.limits;
  lim.max_header_bytes = limits.integer("max_header_bytes", lim.max_header_bytes, 1024, 1 << 20);
  lim.max_body_bytes = limits.integer("max_body_bytes", lim.max_body_bytes, 1024, 256 << 20);
  lim.request_timeout_s = limits.duration_s("request_timeout", lim.request_timeout_s, 1, 3600);
  lim.idle_timeout_s = limits.duration_s("idle_timeout", lim.idle_timeout_s, 1, 3600);
  lim.drain_timeout_s = limits.duration_s("drain_timeout", lim.drain_timeout_s, 0, 600);
  lim.max_connections = limits.integer("max_connections", lim.max_connections, 1, 1 << 20);
  lim.threads = limits.integer("threads", lim.threads, 1, 256);
  limits.finish();
  MapReader pdp = root.map("pdp");
  c.pdp_requires_authentication = pdp.boolean("require_authentication", true);
  c.pdp_legacy_properties = pdp.boolean("authzen_legacy_properties", false);
  pdp.finish();
  for (const char* later : {"upstreams", "routes", "inspection", "audit"}) (void)root.map(later);
  root.finish();
  if (!errors.empty()) return errors.to_error();
  return c;
}

}  // namespace ztgate::config
