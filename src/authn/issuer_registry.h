// Several token issuers at once, each with its own keys and policies.
//
// verify() reads the unverified `iss` of the payload only to pick the issuer
// (exact byte match against IssuerConfig::issuer); it then verifies the
// signature with that issuer's keys and that issuer's policies only, and
// validates the claims with `iss` required to equal that issuer. So a token of
// issuer A never verifies with B's keys, even when their kids collide. On
// jws_unknown_kid it asks the issuer's JwksSource for a (rate-limited)
// refresh and retries once.
//
// Error codes: those of verify_jws and validate_jwt_claims (jws.h, jwt.h),
// jwks_unavailable (jwks_source.h), and:
//   jwt_issuer_not_allowed    `iss` missing, not a string, or not configured
//   jws_malformed / jwt_malformed  token or payload unreadable before `iss`
//                             could be found (same meaning as in jws.h/jwt.h)
//   issuer_config_invalid     create(): empty or repeated id or issuer, no
//                             issuers, more than kMaxIssuers, bad clock skew
//                             (plus jwks_config_invalid from the key sources)
// Thread-safe: verify() may run concurrently (see JwksSource).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authn/jwks_source.h"
#include "authn/jwt.h"

namespace ztgate::authn {

inline constexpr size_t kMaxIssuers = 64;

struct IssuerConfig {
  std::string id;      // our name for it, e.g. "corp-okta"
  std::string issuer;  // the exact `iss` value
  JwksSourceConfig keys;
  std::string audience;                   // empty: "aud" not checked
  std::vector<std::string> allowed_algs;  // empty: JwsPolicy's default list
  std::string required_typ;               // empty: not checked
  int64_t clock_skew_s = 60;              // 0..300
  int64_t max_age_s = 0;                  // > 0: "iat" required, at most this old
};

struct VerifiedToken {
  std::string issuer_id;
  JwsHeader header;
  JwtClaims claims;
};

class IssuerRegistry {
 public:
  // fetcher / clock are handed to every JwksSource (empty: the defaults).
  static Result<IssuerRegistry> create(std::vector<IssuerConfig> issuers,
                                       JwksSource::Fetcher fetcher = {},
                                       JwksSource::Clock clock = {});

  Result<VerifiedToken> verify(std::string_view token, int64_t now_s) const;

  // The key source of issuer `id`, or null.
  std::shared_ptr<JwksSource> source(std::string_view id) const;

 private:
  struct Entry {
    IssuerConfig config;
    std::shared_ptr<JwksSource> source;
    JwsPolicy jws;
    JwtPolicy jwt;
  };
  const Entry* find_by_issuer(std::string_view iss) const;

  std::vector<Entry> entries_;
};

// The `iss` of a compact JWT's payload, without verifying anything. For
// routing only: never trust the value before verification.
Result<std::string> unverified_issuer(std::string_view compact);

}  // namespace ztgate::authn
