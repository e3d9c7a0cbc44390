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
  c.policies = read_policy_settings(root, dir);
  for (const char* later : {"listeners", "upstreams", "routes", "inspection", "audit"}) (void)root.map(later);
  root.finish();
  if (!errors.empty()) return errors.to_error();
  return c;
}

}  // namespace ztgate::config
