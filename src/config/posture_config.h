// The device and model sections of ztgate.yaml (docs/IDENTITY.md):
//
//   identity:
//     posture:
//       issuer: mdm            # id of an identity.issuers entry (its keys verify assertions)
//       audience: ztgate
//       max_age: 1h
//   models:
//     - id: llama-3-8b         # the Cedar Model entity id
//       upstream: vllm         # an upstreams id: where the proxy sends it (optional)
//       upstream_model: meta-llama/Meta-Llama-3-8B   # its name there (default: id)
//       weights_dir: /models/llama-3-8b   # integrity: these three, or none of them
//       manifest: /models/llama-3-8b.manifest.jws
//       publisher_key: keys/acme-models.pub.jwk
//       reverify_interval: 24h
//       allow_extra_files: false
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/yaml_reader.h"
#include "posture/device_posture.h"
#include "posture/model_registry.h"

namespace ztgate::config {

struct PostureSettings {
  std::string issuer_id;  // an identity.issuers id
  posture::DevicePosturePolicy policy;
};

// identity.posture; nullopt when the section is absent.
std::optional<PostureSettings> read_posture(MapReader& identity);
// models: [...]; relative paths are resolved against config_dir.
std::vector<posture::ModelConfig> read_models(MapReader& root, const std::string& config_dir);
Result<std::vector<posture::ModelConfig>> load_models(const std::string& path);

}  // namespace ztgate::config
