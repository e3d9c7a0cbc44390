#include "authn/jwt.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/json_keys.h"

namespace ztgate::authn {
namespace {

namespace json = boost::json;

Error jwt_error(std::string code, std::string message) {
  return make_error(std::move(code), std::move(message));
}

// NumericDates beyond the year 9999 (or before 1970) are refused: no real
// token needs them, and bounding them keeps `exp + skew` and `now - iat`
// far from int64 overflow.
constexpr int64_t kMaxNumericDate = 253402300799;  // 9999-12-31T23:59:59Z

// A NumericDate: a JSON number of seconds, possibly fractional (floored).
Result<int64_t> numeric_date(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (!v) return int64_t{0};
  int64_t t = -1;
  if (v->is_int64()) t = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(kMaxNumericDate))
    t = static_cast<int64_t>(v->get_uint64());
  else if (v->is_double() && std::isfinite(v->get_double()) && std::fabs(v->get_double()) < 9.0e15)
    t = static_cast<int64_t>(std::floor(v->get_double()));
  else
    return jwt_error("jwt_malformed", "claim `" + std::string(name) + "` must be a number of seconds");
  if (t < 0 || t > kMaxNumericDate)
    return jwt_error("jwt_malformed", "claim `" + std::string(name) + "` is outside 1970..9999");
  return t;
}

Result<std::string> string_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (!v) return std::string();
  if (!v->is_string()) return jwt_error("jwt_malformed", "claim `" + std::string(name) + "` must be a string");
  return std::string(v->get_string());
}

}  // namespace

Result<JwtClaims> validate_jwt_claims(std::string_view payload_json, const JwtPolicy& policy,
                                      int64_t now_s) {
  constexpr int kMaxPayloadDepth = 32;
  json::parse_options opt;
  opt.max_depth = kMaxPayloadDepth;
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(payload_json.data(), payload_json.size()), ec, {}, opt);
  if (ec || !doc.is_object()) return jwt_error("jwt_malformed", "the JWT payload is not a JSON object");
  // Two `sub` (or `role`) claims would mean whichever one a parser keeps.
  if (auto dup = find_duplicate_key(payload_json, kMaxPayloadDepth))
    return jwt_error("jwt_malformed", "the JWT payload repeats member `" + printable_key(*dup) + "`");
  JwtClaims c;
  c.all = std::move(doc.get_object());
  for (auto [name, field] : {std::pair{"iss", &c.iss}, {"sub", &c.sub}, {"jti", &c.jti}}) {
    auto s = string_claim(c.all, name);
    if (!s) return s.error();
    *field = std::move(*s);
  }
  for (auto [name, field] : {std::pair{"exp", &c.exp}, {"nbf", &c.nbf}, {"iat", &c.iat}}) {
    auto t = numeric_date(c.all, name);
    if (!t) return t.error();
    *field = *t;
  }
  if (const json::value* aud = c.all.if_contains("aud")) {
    if (aud->is_string()) {
      c.aud.emplace_back(aud->get_string());
    } else if (aud->is_array()) {
      for (const auto& a : aud->get_array()) {
        if (!a.is_string()) return jwt_error("jwt_malformed", "claim `aud` must hold strings");
        c.aud.emplace_back(a.get_string());
      }
    } else {
      return jwt_error("jwt_malformed", "claim `aud` must be a string or an array of strings");
    }
  }

  if (c.iss.empty() || std::find(policy.issuers.begin(), policy.issuers.end(), c.iss) == policy.issuers.end())
    return jwt_error("jwt_issuer_not_allowed", "issuer `" + c.iss + "` is not trusted");
  if (!policy.audience.empty() &&
      std::find(c.aud.begin(), c.aud.end(), policy.audience) == c.aud.end())
    return jwt_error("jwt_audience_mismatch", "the token is not meant for audience `" + policy.audience + "`");
  const int64_t skew = policy.clock_skew_s;
  bool has_exp = c.all.contains("exp");
  if (policy.require_exp && !has_exp) return jwt_error("jwt_expired", "the token has no expiry (`exp`)");
  if (has_exp && now_s >= c.exp + skew) return jwt_error("jwt_expired", "the token has expired");
  if (c.all.contains("nbf") && now_s + skew < c.nbf)
    return jwt_error("jwt_not_yet_valid", "the token is not valid yet (`nbf`)");
  bool has_iat = c.all.contains("iat");
  if (has_iat && now_s + skew < c.iat)
    return jwt_error("jwt_issued_in_future", "the token was issued in the future (`iat`)");
  if (policy.max_age_s > 0 && (!has_iat || now_s - c.iat > policy.max_age_s + skew))
    return jwt_error("jwt_too_old", "the token is older than the allowed maximum age");
  return c;
}

Result<JwtClaims> verify_jwt(std::string_view compact, const std::vector<Jwk>& keys,
                             const JwsPolicy& jws_policy, const JwtPolicy& jwt_policy,
                             int64_t now_s) {
  auto jws = verify_jws(compact, keys, jws_policy);
  if (!jws) return jws.error();
  return validate_jwt_claims(jws->payload, jwt_policy, now_s);
}

}  // namespace ztgate::authn
