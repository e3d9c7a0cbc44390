// OpenID Connect Discovery 1.0 (§4): the provider metadata document at
// `{issuer}/.well-known/openid-configuration`, reduced to what key retrieval
// needs. Pure parsing; fetching is JwksSource's job.
//
// Error codes (stable):
//   jwks_discovery_invalid  not a JSON object, a member name repeated, larger
//                           than 64 KiB, nested deeper than 16, or `issuer` /
//                           `jwks_uri` missing or not a string
//   jwks_issuer_mismatch    `issuer` differs from the configured issuer (exact
//                           byte comparison: §4.3 forbids any normalization)
//   jwks_insecure_uri       `jwks_uri` is not an https URL we accept
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::authn {

inline constexpr size_t kMaxDiscoveryBytes = 64 * 1024;

struct OidcDiscovery {
  std::string issuer;
  std::string jwks_uri;
};

// The discovery URL for an issuer: a terminating "/" is removed before the
// well-known suffix is appended (§4).
std::string discovery_url(std::string_view issuer);

Result<OidcDiscovery> parse_oidc_discovery(std::string_view json, std::string_view expected_issuer);

}  // namespace ztgate::authn
