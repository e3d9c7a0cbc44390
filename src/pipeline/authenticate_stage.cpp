#include <boost/json.hpp>

#include "authn/base64url.h"
#include "authn/delegation.h"
#include "pipeline/snapshot.h"
#include "pipeline/stages.h"
#include "common/clock.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

Ending unauthenticated(std::string code, std::string message, std::string challenge) {
  return Ending{401, std::move(code), std::move(message), {{"www-authenticate", std::move(challenge)}}, ""};
}

// A bearer that is a JWT must carry one of `audiences` in "aud" (string or
// array). Read before verification on purpose: a token for someone else is
// refused without spending a signature check on it; a forged "aud" still
// fails verification after. API keys (not JWTs) are the gateway's own
// secrets, bound to it by construction.
bool bound_to_us(std::string_view bearer, const std::vector<std::string>& audiences) {
  size_t dot1 = bearer.find('.');
  if (dot1 == std::string_view::npos) return true;
  size_t dot2 = bearer.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return true;
  auto payload = authn::base64url_decode(bearer.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return false;
  boost::system::error_code ec;
  json::value claims = json::parse(*payload, ec);
  if (ec || !claims.is_object()) return false;
  const json::value* aud = claims.as_object().if_contains("aud");
  if (aud == nullptr) return false;
  auto named = [&](const json::value& v) {
    if (!v.is_string()) return false;
    for (const auto& a : audiences)
      if (v.as_string() == a) return true;
    return false;
  };
  if (aud->is_array()) {
    for (const auto& v : aud->as_array())
      if (named(v)) return true;
    return false;
  }
  return named(*aud);
}

class AuthenticateStage final : public Stage {
 public:
  const char* name() const override { return "authenticate"; }

  Flow on_request(Exchange& x) override {
    const Snapshot& s = *x.snapshot;
    if (x.pdp_query && !s.config.pdp_requires_authentication) return Flow::kContinue;
    if (x.identity) return Flow::kContinue;  // vouched for by an internal caller (exchange.h)
    const Credentials& c = x.credentials;
    int64_t now = now_s();
    if (c.bearer.empty() && c.client_cert_pem.empty()) {
      x.ending = unauthenticated("unauthenticated", "send Authorization: Bearer <API key or token>", "Bearer");
      return Flow::kStop;
    }
    if (!x.audiences.empty() && !c.bearer.empty() && !bound_to_us(c.bearer, x.audiences)) {
      x.ending = unauthenticated("invalid_token", "the token was not issued for this resource (its audience does not name it)",
                                 "Bearer error=\"invalid_token\"");
      return Flow::kStop;
    }
    if (!c.bearer.empty() && config::looks_like_delegation(c.bearer)) return delegated(x, now);
    auto id = c.bearer.empty() ? s.identity->authenticate_certificate(c.client_cert_pem, now)
                               : s.identity->authenticate_bearer(c.bearer, now);
    if (!id) return refuse(x, id.error());
    // PDP queries too: their caller is authorized (query_pdp) with these.
    x.request_entities.push_back(authn::principal_entity(*id));
    for (auto& g : authn::group_entities(*id)) x.request_entities.push_back(std::move(g));
    x.context["authn"] = authn::authn_context(id->authn, now);
    x.identity = std::move(*id);
    return Flow::kContinue;
  }

 private:
  // An agent acting for a user: the whole chain is verified now (signature,
  // registry, revocations, grants), not when the token was minted.
  Flow delegated(Exchange& x, int64_t now) {
    const Snapshot& s = *x.snapshot;
    auto d = s.identity->verify_delegation(x.credentials.bearer, now);
    if (!d) return refuse(x, d.error());
    authn::Identity id = authn::delegation_identity(*d);
    x.chain.push_back(d->user);
    // d->chain lists the current actor first; the record reads user -> ... -> actor.
    for (auto it = d->chain.rbegin(); it != d->chain.rend(); ++it)
      x.chain.push_back(authn::EntityRef{"Agent", *it});
    for (auto& e : authn::delegation_entities(*d, s.identity->agents())) x.request_entities.push_back(std::move(e));
    x.context["delegation"] = authn::delegation_context(*d);
    x.context["authn"] = authn::delegation_authn_context(*d, now);
    x.identity = std::move(id);
    return Flow::kContinue;
  }

  static Flow refuse(Exchange& x, const Error& e) {
    // The verifier's reason (expired, bad signature, revoked...) helps the
    // caller; it never contains the credential itself.
    x.ending = unauthenticated(e.code, e.message, "Bearer error=\"invalid_token\"");
    return Flow::kStop;
  }
};

}  // namespace

std::unique_ptr<Stage> make_authenticate_stage() { return std::make_unique<AuthenticateStage>(); }

}  // namespace ztgate::pipeline
