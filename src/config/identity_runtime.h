// The identity pillar assembled from configuration: trusted issuers, the
// agent registry, ztgate's delegation signing key, and the grant and
// revocation stores. The CLI uses it today; the gateway will hold one per
// configuration version.
//
// Error codes: those of the parts (jws_*, jwt_*, identity_invalid,
// delegation_*, grant_*, store_*, api_key_*; a token whose `iss` is no
// configured issuer gets jwt_issuer_not_allowed), plus authn_not_an_agent /
// authn_not_a_user (a credential of the wrong kind of principal).
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "authn/api_keys.h"
#include "authn/delegation.h"
#include "authn/grants.h"
#include "authn/revocation.h"
#include "config/identity_config.h"

namespace ztgate::config {

struct ActorCredential {
  std::string api_key;  // an API key whose principal is Agent::"id"
  std::string token;    // or a JWT from a configured issuer mapping to an Agent
};

class IdentityRuntime {
 public:
  // Opens the stores under data_dir (created 0700) and loads or creates the
  // delegation signing key.
  static Result<std::unique_ptr<IdentityRuntime>> open(IdentityConfig config);
  ~IdentityRuntime();

  // A token from a configured issuer, mapped to a principal.
  Result<authn::Identity> authenticate_token(std::string_view token, int64_t now_s);
  // A client certificate chain (PEM, leaf first) checked against
  // identity.mtls: CA chain, SPIFFE ID, mapping rule → Service or Agent.
  Result<authn::Identity> authenticate_certificate(std::string_view chain_pem, int64_t now_s);
  // context.device for a request of `user_subject`: {present: false} when no
  // assertion is given; a presented assertion must verify (issuer keys of
  // identity.posture.issuer, bound to this user) or the result is an error.
  Result<boost::json::object> device_context(std::string_view assertion, std::string_view user_subject,
                                             int64_t now_s);
  // An API key (ztg_…): its principal, scopes and context.authn method "api_key".
  Result<authn::Identity> authenticate_api_key(std::string_view key, int64_t now_s);
  // Whatever a caller put after "Bearer ": an API key, a ztgate delegation
  // token (the principal is then the acting agent), or an issuer's token.
  Result<authn::Identity> authenticate_bearer(std::string_view credential, int64_t now_s);
  // The agent behind a credential (API key or token); must be a registered agent.
  // The API key store is <data_dir>/identity.db (`ztgate keys`).
  Result<std::string> authenticate_agent(const ActorCredential& actor, int64_t now_s);
  // Signature, claims, registry, revocations and grants as of now.
  Result<authn::Delegation> verify_delegation(std::string_view token, int64_t now_s);

  struct Exchange {
    std::string subject_token;  // a user's token, or a delegation token to extend a chain
    ActorCredential actor;
    authn::ScopeSet scopes;
    std::string task;
    int64_t ttl_s = 0;
    bool allow_narrowing = false;
  };
  Result<authn::MintedDelegation> exchange(const Exchange& request, int64_t now_s);

  // ztgate's public delegation keys as a JWKS document.
  std::string jwks_json() const;
  const IdentityConfig& config() const { return config_; }
  const authn::AgentRegistry& agents() const { return agents_; }
  authn::GrantStore& grants() { return *grants_; }
  authn::RevocationStore& revocations() { return *revocations_; }

 private:
  IdentityRuntime(IdentityConfig config, authn::AgentRegistry agents, authn::SigningKey key);
  struct Issuers;
  IdentityConfig config_;
  authn::AgentRegistry agents_;
  authn::SigningKey key_;
  std::unique_ptr<authn::DelegationService> delegation_;
  std::unique_ptr<authn::ApiKeyStore> api_keys_;
  std::unique_ptr<authn::GrantStore> grants_;
  std::unique_ptr<authn::RevocationStore> revocations_;
  std::unique_ptr<Issuers> issuers_;
  std::unique_ptr<authn::X509Verifier> mtls_;  // null without identity.mtls
};

// True when the compact token's header says it is a ztgate delegation token
// (no verification; routing only).
bool looks_like_delegation(std::string_view token);

}  // namespace ztgate::config
