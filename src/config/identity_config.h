// The identity sections of ztgate.yaml (see docs/IDENTITY.md for the full
// reference and docs/CONFIGURATION.md for the file as a whole):
//
//   data_dir: ./ztgate-data            # relative paths are relative to this file
//   gateway: { issuer: urn:ztgate:dev, audience: ztgate }
//   identity:
//     issuers:   [ {id, issuer, audience, jwks_file | jwks_uri | discovery, claims: {...}} ]
//     delegation: { signing_key, max_ttl, max_chain_depth, clock_skew }
//     agents:    [ {id, description, max_scopes, groups, delegate_to, max_ttl, enabled} ]
//     jit:       { approver_groups, max_duration, grantable }
//     mtls:      { ca_files, max_depth, rules: [ {trust_domain, path_prefix, type} ] }
//     posture:   { issuer, audience, max_age }   (config/posture_config.h)
//   models:      [ {id, weights_dir, manifest, publisher_key, reverify_interval} ]
//
// Error code: config_invalid, with file:line:column for each problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "authn/agent_registry.h"
#include "authn/delegation.h"
#include "authn/grants.h"
#include "authn/identity.h"
#include "authn/x509_identity.h"
#include "config/posture_config.h"
#include "config/yaml_reader.h"

namespace ztgate::config {

// One trusted token issuer (an OIDC provider, an MDM, a workload IdP).
struct IssuerSettings {
  std::string id;        // short name used in logs and context.authn.issuer
  std::string issuer;    // exact "iss"
  std::string audience;  // required "aud" ("" = not checked; refused for user issuers)
  std::string jwks_file;
  std::string jwks_uri;
  bool discovery = false;  // OIDC discovery from {issuer}/.well-known/openid-configuration
  std::string ca_file;     // trust anchors for HTTPS fetches ("" = system store)
  std::vector<std::string> algorithms;
  std::string typ;
  int64_t clock_skew_s = 60;
  int64_t max_age_s = 0;
  int64_t min_ttl_s = 300, max_ttl_s = 86400, default_ttl_s = 3600;
  int64_t refresh_min_interval_s = 30, stale_if_error_s = 86400;
  authn::ClaimMapping claims;
};

struct IdentityConfig {
  std::string file;      // the YAML file it came from
  std::string data_dir;  // absolute or relative to the working directory
  std::vector<IssuerSettings> issuers;
  authn::DelegationConfig delegation;
  std::string signing_key_path;  // default <data_dir>/delegation-key.pem
  std::vector<authn::AgentRecord> agents;
  authn::GrantRules jit;
  std::optional<PostureSettings> posture;  // identity.posture
  std::vector<std::string> mtls_ca_files;  // identity.mtls.ca_files (PEM bundles)
  authn::X509IdentityPolicy mtls;          // identity.mtls.{max_depth, rules}
  std::vector<posture::ModelConfig> models;  // models

  std::string public_url;  // gateway.public_url ("" when not set)
  bool explain_denials = false;  // gateway.explain_denials (the gateway's; read with its section)

  std::string identity_db() const { return data_dir + "/identity.db"; }
};

// Reads the identity part of an already loaded document. Records problems in
// `errors` and reads the keys it knows from `root` (the caller finishes root).
IdentityConfig read_identity_config(MapReader& root, const std::string& config_dir, YamlErrors& errors);

// Loads ztgate.yaml for the identity commands (token, grants, revoke). The
// sections other modules own (listeners, routes, models, ...) are skipped,
// any other unknown top-level key is an error.
Result<IdentityConfig> load_identity_config(const std::string& path);
Result<IdentityConfig> parse_identity_config(std::string_view text, const std::string& label,
                                             const std::string& config_dir);
Result<IdentityConfig> identity_config_from(const YAML::Node& doc, const std::string& label,
                                            const std::string& config_dir);

}  // namespace ztgate::config
