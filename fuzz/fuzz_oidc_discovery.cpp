// Fuzz target: the OIDC discovery-document parser (src/authn/oidc_discovery.h)
// and the Cache-Control parser (src/net/cache_control.h), both fed untrusted
// bytes from the network by JwksSource.
//
// Properties checked, for any input:
//   1. Neither parser crashes, hangs, leaks or hits undefined behavior.
//   2. parse_oidc_discovery succeeds only when `issuer` equals the expected
//      issuer byte for byte and `jwks_uri` is an https URL parse_https_url
//      accepts (no plain http, no userinfo, no fragment).
//   3. parse_cache_control yields a max-age within [0, kMaxAgeCap], and none
//      for text longer than kMaxCacheControlBytes.
//
// Input: a discovery document or a Cache-Control value (seeds in
// fuzz/corpus/fuzz_oidc_discovery/). Both interpretations run on every input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "authn/oidc_discovery.h"
#include "net/cache_control.h"
#include "net/https_client.h"
#include "property.h"

namespace {

using ztgate::fuzz::require;

constexpr std::string_view kIssuer = "https://idp.example";

void check_discovery(std::string_view text) {
  auto doc = ztgate::authn::parse_oidc_discovery(text, kIssuer);
  if (!doc) {
    const auto& code = doc.error().code;
    require(code == "jwks_discovery_invalid" || code == "jwks_issuer_mismatch" ||
                code == "jwks_insecure_uri",
            "parse_oidc_discovery returned an undocumented error code");
    return;
  }
  require(doc->issuer == kIssuer, "accepted a discovery document for another issuer");
  // parse_https_url accepts only https:// URLs without userinfo or fragment.
  require(ztgate::net::parse_https_url(doc->jwks_uri).ok(),
          "accepted a jwks_uri that is not https");
}

void check_cache_control(std::string_view text) {
  auto directives = ztgate::net::parse_cache_control(text);
  if (directives.max_age) {
    require(*directives.max_age >= 0 && *directives.max_age <= ztgate::net::kMaxAgeCap,
            "max-age outside [0, kMaxAgeCap]");
    require(text.size() <= ztgate::net::kMaxCacheControlBytes,
            "max-age read from an oversized header");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_discovery(text);
  check_cache_control(text);
  return 0;
}
