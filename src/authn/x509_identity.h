// mTLS client identity: verify a client certificate chain against configured
// CAs, then read its SPIFFE ID (an X.509-SVID) and map it to a Cedar
// principal (`Service::"..."` or `Agent::"..."`).
//
// Verification uses OpenSSL's X509_STORE_CTX with purpose "TLS client"
// (a leaf EKU, when present, must allow clientAuth), X509_V_FLAG_X509_STRICT,
// no partial chains (the chain must end at a configured CA), the caller's
// time and a bounded depth. The leaf must not be a CA (X.509-SVID §4.1).
// Identity: the leaf has exactly one URI SAN and it is a SPIFFE ID (§2);
// DNS, e-mail and IP SANs are ignored. Mapping rules are tried in order; the
// first whose trust domain matches and whose path prefix is a whole-segment
// prefix of the path gives the principal, whose id is the rest of the path
// (after the prefix and its '/'). No rule matches: refused.
//
// Error codes (stable):
//   x509_chain_invalid      not PEM certificates, chain verification failed
//                           (message has OpenSSL's reason), the leaf is a CA,
//                           or its subjectAltName extension does not decode
//   x509_no_spiffe_id       the leaf has no URI SAN
//   x509_multiple_uri_sans  more than one URI SAN (or subjectAltName extension)
//   spiffe_invalid          the URI SAN is not a valid SPIFFE ID
//   x509_unmapped           no mapping rule matches the SPIFFE ID
//   x509_config_invalid     bad CA bundle or mapping rule
//
// Bounds: PEM input at most kMaxPemBytes and kMaxPemCertificates
// certificates (kMaxCaCertificates for a CA bundle); chain depth at most
// kMaxChainDepth (intermediates between leaf and CA).
//
// Thread safety: X509Verifier is immutable after create(); verify() may run
// on many threads at once.
#pragma once

#include <openssl/types.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authn/identity.h"
#include "authn/spiffe_id.h"

namespace ztgate::authn {

inline constexpr size_t kMaxPemBytes = 1 << 20;
inline constexpr size_t kMaxPemCertificates = 16;
inline constexpr size_t kMaxCaCertificates = 1024;
inline constexpr int kMaxChainDepth = 8;

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// The CERTIFICATE blocks of a PEM text, in order (leaf first for a chain);
// other blocks are skipped, encrypted blocks refused, never a password prompt.
Result<std::vector<X509Ptr>> parse_pem_certificates(std::string_view pem, size_t max_certificates);

// The SPIFFE ID in the certificate's single URI SAN (no chain checks).
Result<SpiffeId> spiffe_id_of(X509* cert);

struct SpiffeMappingRule {
  std::string trust_domain;    // "example.org"
  std::string path_prefix;     // "" or a SPIFFE path, e.g. "/ns/prod/sa"
  std::string principal_type;  // "Service" or "Agent"
};

struct X509IdentityPolicy {
  std::vector<SpiffeMappingRule> rules;  // tried in order
  int max_depth = 4;                     // intermediates allowed, 0..kMaxChainDepth
};

struct X509Identity {
  SpiffeId spiffe_id;
  EntityRef principal;
  int64_t not_after = 0;  // the leaf's expiry, seconds since the epoch
};

// Pure mapping step, for tests and for other transports that carry SPIFFE IDs.
Result<EntityRef> map_spiffe_id(const SpiffeId& id, const std::vector<SpiffeMappingRule>& rules);

class X509Verifier {
 public:
  // ca_bundles: PEM texts, each one or more CA certificates.
  static Result<X509Verifier> create(const std::vector<std::string>& ca_bundles,
                                     X509IdentityPolicy policy);

  // As a TLS stack hands it over: the peer's leaf and the other certificates
  // it sent (may be null or hold the leaf too). Nothing is taken over.
  Result<X509Identity> verify(X509* leaf, STACK_OF(X509)* intermediates, int64_t now_s) const;
  // Leaf first, then intermediates, in PEM.
  Result<X509Identity> verify_pem(std::string_view chain_pem, int64_t now_s) const;

 private:
  X509Verifier(std::shared_ptr<X509_STORE> store, X509IdentityPolicy policy)
      : store_(std::move(store)), policy_(std::move(policy)) {}
  std::shared_ptr<X509_STORE> store_;
  X509IdentityPolicy policy_;
};

}  // namespace ztgate::authn
