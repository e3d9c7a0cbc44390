// Fuzz target: JWT claim validation (validate_jwt_claims, src/authn/jwt.h) on
// arbitrary payload text, with a fixed policy and a fixed clock.
//
// Properties checked, for any input:
//   1. It returns claims or an error with a documented jwt_* code; it never
//      crashes, hangs, leaks or hits undefined behavior.
//   2. Accepted claims satisfy the policy: "iss" is the one allowed issuer,
//      "aud" holds the audience, now < exp + skew (exp is required), and any
//      nbf / iat is not beyond now + skew.
//   3. What is accepted is unambiguous: the text has no duplicate member name
//      (two "sub" or two "exp" would let parsers disagree on the identity).
//   4. The typed fields agree with the raw claim object (`all`).
//
// Seeds: fuzz/corpus/fuzz_jwt_claims/ (one JSON payload per file).
#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "authn/jwt.h"
#include "common/json_keys.h"
#include "property.h"

namespace {

using namespace ztgate::authn;
using ztgate::fuzz::require;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kSkew = 60;
const char* const kIssuer = "https://idp.example";
const char* const kAudience = "ztgate";

const JwtPolicy& policy() {
  static const JwtPolicy p = [] {
    JwtPolicy out;
    out.issuers = {kIssuer};
    out.audience = kAudience;
    out.clock_skew_s = kSkew;
    out.require_exp = true;
    return out;
  }();
  return p;
}

const std::set<std::string, std::less<>> kCodes = {
    "jwt_malformed",     "jwt_issuer_not_allowed", "jwt_audience_mismatch", "jwt_expired",
    "jwt_not_yet_valid", "jwt_issued_in_future",   "jwt_too_old"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // verify_jws caps tokens at 16 KiB anyway
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto r = validate_jwt_claims(input, policy(), kNow);
  if (!r) {
    require(kCodes.count(r.error().code) == 1, "every refusal has a documented jwt_* code",
            r.error().code);
    return 0;
  }
  const JwtClaims& c = *r;
  std::string text(input);
  require(c.iss == kIssuer, "an accepted payload has the allowed issuer", text);
  require(std::find(c.aud.begin(), c.aud.end(), kAudience) != c.aud.end(),
          "an accepted payload names the audience", text);
  require(c.all.contains("exp"), "exp is required", text);
  require(kNow < c.exp + kSkew, "an accepted payload is not expired (exp > now - skew)", text);
  if (c.all.contains("nbf")) require(c.nbf <= kNow + kSkew, "nbf is not in the future", text);
  if (c.all.contains("iat")) require(c.iat <= kNow + kSkew, "iat is not in the future", text);
  require(!ztgate::find_duplicate_key(input, 64), "an accepted payload has no duplicate member",
          text);
  const auto* iss = c.all.if_contains("iss");
  require(iss != nullptr && iss->is_string() && iss->get_string() == kIssuer,
          "typed iss agrees with the raw claims", text);
  if (const auto* sub = c.all.if_contains("sub"))
    require(sub->is_string() && sub->get_string() == c.sub, "typed sub agrees with the raw claims",
            text);
  return 0;
}
