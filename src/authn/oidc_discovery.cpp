#include "authn/oidc_discovery.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/json_keys.h"
#include "net/https_client.h"

namespace ztgate::authn {
namespace {

constexpr int kMaxDiscoveryDepth = 16;

Error invalid(std::string message) {
  return make_error("jwks_discovery_invalid", std::move(message));
}

}  // namespace

std::string discovery_url(std::string_view issuer) {
  if (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

Result<OidcDiscovery> parse_oidc_discovery(std::string_view json,
                                           std::string_view expected_issuer) {
  if (json.size() > kMaxDiscoveryBytes) return invalid("discovery document larger than 64 KiB");
  boost::json::parse_options opts;
  opts.max_depth = kMaxDiscoveryDepth;
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec, {}, opts);
  if (ec) return invalid("discovery document is not valid JSON (or nests deeper than 16)");
  auto dup = reject_duplicate_keys(json, kMaxDiscoveryDepth, "jwks_discovery_invalid");
  if (!dup) return dup.error();
  const auto* obj = doc.if_object();
  if (!obj) return invalid("discovery document is not a JSON object");

  const auto* issuer = obj->if_contains("issuer");
  if (!issuer || !issuer->is_string()) return invalid("discovery document has no string `issuer`");
  const auto* jwks_uri = obj->if_contains("jwks_uri");
  if (!jwks_uri || !jwks_uri->is_string())
    return invalid("discovery document has no string `jwks_uri`");

  OidcDiscovery out{std::string(issuer->get_string()), std::string(jwks_uri->get_string())};
  // Only the configured value goes into the message: the document's is untrusted text.
  if (out.issuer != expected_issuer)
    return make_error(
        "jwks_issuer_mismatch",
        "discovery document `issuer` is not the configured issuer " + std::string(expected_issuer));
  if (!net::parse_https_url(out.jwks_uri))
    return make_error("jwks_insecure_uri",
                      "discovery `jwks_uri` is not an https URL we accept (issuer " +
                          std::string(expected_issuer) + ")");
  return out;
}

}  // namespace ztgate::authn
