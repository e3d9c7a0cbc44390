#include "authn/issuer_registry.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "authn/base64url.h"

namespace ztgate::authn {
namespace {

Error config_error(std::string message) {
  return make_error("issuer_config_invalid", std::move(message));
}

Status check_issuers(const std::vector<IssuerConfig>& issuers) {
  if (issuers.empty()) return config_error("no token issuers configured");
  if (issuers.size() > kMaxIssuers)
    return config_error("more than " + std::to_string(kMaxIssuers) + " token issuers");
  for (size_t i = 0; i < issuers.size(); ++i) {
    const auto& a = issuers[i];
    if (a.id.empty() || a.issuer.empty())
      return config_error("a token issuer has an empty id or issuer");
    if (a.clock_skew_s < 0 || a.clock_skew_s > 300)
      return config_error("issuer " + a.id + ": clock skew must be within 0..300 s");
    if (a.max_age_s < 0) return config_error("issuer " + a.id + ": max age must be >= 0");
    for (size_t j = 0; j < i; ++j) {
      if (issuers[j].id == a.id) return config_error("token issuer id repeated: " + a.id);
      if (issuers[j].issuer == a.issuer) return config_error("token issuer repeated: " + a.issuer);
    }
  }
  return Ok{};
}

}  // namespace

Result<std::string> unverified_issuer(std::string_view compact) {
  if (compact.size() > kMaxJwsBytes) return make_error("jws_malformed", "token larger than 16 KiB");
  size_t first = compact.find('.');
  size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos)
    return make_error("jws_malformed", "token is not three dot-separated segments");
  auto payload = base64url_decode(compact.substr(first + 1, second - first - 1));
  if (!payload) return make_error("jws_malformed", "token payload is not base64url");
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(*payload, ec, {}, opts);
  if (ec || !doc.is_object())
    return make_error("jwt_malformed", "token payload is not a JSON object");
  const auto* iss = doc.get_object().if_contains("iss");
  if (!iss || !iss->is_string())
    return make_error("jwt_issuer_not_allowed", "token has no string `iss` claim");
  return std::string(iss->get_string());
}

Result<IssuerRegistry> IssuerRegistry::create(std::vector<IssuerConfig> issuers,
                                              JwksSource::Fetcher fetcher,
                                              JwksSource::Clock clock) {
  if (auto ok = check_issuers(issuers); !ok) return ok.error();
  IssuerRegistry registry;
  for (auto& config : issuers) {
    auto source = JwksSource::create(config.keys, fetcher, clock);
    if (!source) return source.error();
    Entry entry{std::move(config), std::move(*source), {}, {}};
    if (!entry.config.allowed_algs.empty()) entry.jws.allowed_algs = entry.config.allowed_algs;
    entry.jws.required_typ = entry.config.required_typ;
    entry.jwt.issuers = {entry.config.issuer};
    entry.jwt.audience = entry.config.audience;
    entry.jwt.clock_skew_s = entry.config.clock_skew_s;
    entry.jwt.max_age_s = entry.config.max_age_s;
    registry.entries_.push_back(std::move(entry));
  }
  return registry;
}

const IssuerRegistry::Entry* IssuerRegistry::find_by_issuer(std::string_view iss) const {
  for (const auto& e : entries_)
    if (e.config.issuer == iss) return &e;
  return nullptr;
}

std::shared_ptr<JwksSource> IssuerRegistry::source(std::string_view id) const {
  for (const auto& e : entries_)
    if (e.config.id == id) return e.source;
  return nullptr;
}

Result<VerifiedToken> IssuerRegistry::verify(std::string_view token, int64_t now_s) const {
  auto iss = unverified_issuer(token);
  if (!iss) return iss.error();
  const Entry* entry = find_by_issuer(*iss);
  // The untrusted `iss` value stays out of the message (log injection).
  if (!entry) return make_error("jwt_issuer_not_allowed", "token issuer is not configured");

  auto keys = entry->source->keys();
  if (!keys) return keys.error();
  auto jws = verify_jws(token, **keys, entry->jws);
  if (!jws && jws.error().code == "jws_unknown_kid") {
    keys = entry->source->refresh_after_unknown_kid();
    if (!keys) return keys.error();
    jws = verify_jws(token, **keys, entry->jws);
  }
  if (!jws) return jws.error();
  auto claims = validate_jwt_claims(jws->payload, entry->jwt, now_s);
  if (!claims) return claims.error();
  return VerifiedToken{entry->config.id, std::move(jws->header), std::move(*claims)};
}

}  // namespace ztgate::authn
