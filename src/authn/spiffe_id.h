// SPIFFE IDs (SPIFFE-ID standard §2): `spiffe://<trust domain><path>`.
//
// The parser is strict, as the standard asks of anything that makes an
// authorization decision from an ID:
//   - the scheme is `spiffe` in lowercase, followed by `://`;
//   - the trust domain is 1..kMaxTrustDomainBytes of [a-z0-9.-_] (no
//     uppercase, no userinfo `@`, no port `:`);
//   - the path is empty or `/segment(/segment)*`, each segment 1+ bytes of
//     [a-zA-Z0-9.-_] and neither `.` nor `..` (so no `//`, no trailing `/`, no
//     percent-encoding, no query `?` and no fragment `#`);
//   - the whole ID is at most kMaxSpiffeIdBytes.
// Every accepted ID re-serializes to the identical text (to_string), so two
// IDs are equal exactly when their texts are.
//
// Error code (stable): spiffe_invalid, with the reason in the message.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::authn {

inline constexpr size_t kMaxSpiffeIdBytes = 2048;
inline constexpr size_t kMaxTrustDomainBytes = 255;

struct SpiffeId {
  std::string trust_domain;  // "example.org"
  std::string path;          // "" or "/ns/prod/sa/billing"

  std::string to_string() const { return "spiffe://" + trust_domain + path; }
  bool operator==(const SpiffeId&) const = default;
};

Result<SpiffeId> parse_spiffe_id(std::string_view text);

// The checks parse_spiffe_id applies to each part, for configuration
// (mapping rules name a trust domain and a path prefix).
Status validate_trust_domain(std::string_view trust_domain);
Status validate_spiffe_path(std::string_view path);  // "" is valid

}  // namespace ztgate::authn
