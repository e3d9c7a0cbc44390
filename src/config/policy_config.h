// The `policies` section of ztgate.yaml and loading what it names:
//
//   policies:
//     schema: policies/ztgate.cedarschema     # optional but recommended: strict validation
//     files: [policies/baseline.cedar, policies/site.cedar]
//     entities: [entities/directory.json]     # optional
//
// load_policy_bundle parses every file, names each policy `<file stem>.<n>`
// (so ids stay unique across files), validates policies strictly against the
// schema when one is given, and parses entities with the schema. Everything
// is checked before anything is used: the gateway swaps a bundle in only
// when all of it loaded (hot reload keeps the old one otherwise).
// Error code: config_invalid (with file and line:column), or the Cedar
// error's own code in the message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"
#include "config/yaml_reader.h"

namespace ztgate::config {

struct PolicySettings {
  std::string schema;                 // "" = no schema (no validation)
  std::vector<std::string> files;     // .cedar files, at least one
  std::vector<std::string> entities;  // Cedar entity JSON files
};

struct PolicyBundle {
  std::shared_ptr<const cedar::Schema> schema;  // null without a schema
  std::shared_ptr<const cedar::PolicySet> policies;
  std::shared_ptr<const cedar::Entities> entities;
  std::vector<std::string> warnings;  // validator warnings, "file:line:col: [id] message"
};

// Reads `policies`; relative paths resolve against config_dir.
std::optional<PolicySettings> read_policy_settings(MapReader& root, const std::string& config_dir);
Result<PolicyBundle> load_policy_bundle(const PolicySettings& settings);

}  // namespace ztgate::config
