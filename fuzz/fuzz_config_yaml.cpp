// Fuzz target: the strict YAML configuration reader (src/config) on the
// identity sections of ztgate.yaml.
//
// Properties checked, for any input:
//   1. parse_identity_config returns a value or an error; it never crashes,
//      throws out of the module, hangs or overflows the stack (flow nesting is
//      bounded before yaml-cpp sees the text).
//   2. A configuration that loads is self-consistent: agent ids are unique
//      and every delegate_to names a registered agent; TTLs are in range.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "authn/agent_registry.h"
#include "config/identity_config.h"
#include "property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
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
