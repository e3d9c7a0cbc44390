#include "authn/x509_identity.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace ztgate::authn {
namespace {

struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

Error chain_error(std::string message) { return make_error("x509_chain_invalid", std::move(message)); }
Error config_error(std::string message) { return make_error("x509_config_invalid", std::move(message)); }

// Refuses encrypted PEM blocks instead of prompting on a terminal.
int no_password(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

int64_t to_epoch_seconds(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Result<std::vector<X509Ptr>> parse_pem_certificates(std::string_view pem, size_t max_certificates) {
  if (pem.size() > kMaxPemBytes)
    return chain_error("PEM text is larger than " + std::to_string(kMaxPemBytes) + " bytes");
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return chain_error("out of memory");
  std::vector<X509Ptr> certs;
  ERR_clear_error();
  for (;;) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr);
    if (cert == nullptr) break;
    certs.emplace_back(cert);
    if (certs.size() > max_certificates)
      return chain_error("more than " + std::to_string(max_certificates) + " certificates");
  }
  // The loop ends at the end of input (PEM_R_NO_START_LINE) or at a bad block.
  unsigned long err = ERR_peek_last_error();
  bool clean_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (!clean_end) return chain_error("malformed PEM certificate");
  if (certs.empty()) return chain_error("no PEM certificate found");
  return certs;
}

Result<SpiffeId> spiffe_id_of(X509* cert) {
  if (cert == nullptr) return chain_error("no certificate");
  int crit = 0;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  ERR_clear_error();
  if (!names) {
    if (crit == -2)
      return make_error("x509_multiple_uri_sans", "the certificate has more than one subjectAltName extension");
    if (crit == -1) return make_error("x509_no_spiffe_id", "the certificate has no subjectAltName (no SPIFFE ID)");
    return chain_error("the certificate's subjectAltName extension is malformed");
  }
  const ASN1_IA5STRING* uri = nullptr;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    if (uri != nullptr)
      return make_error("x509_multiple_uri_sans", "an X.509-SVID has exactly one URI SAN; this certificate has more");
    uri = name->d.uniformResourceIdentifier;
  }
  if (uri == nullptr) return make_error("x509_no_spiffe_id", "the certificate has no URI SAN (no SPIFFE ID)");
  std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                        static_cast<size_t>(ASN1_STRING_length(uri)));
  return parse_spiffe_id(text);
}

Result<EntityRef> map_spiffe_id(const SpiffeId& id, const std::vector<SpiffeMappingRule>& rules) {
  for (const auto& rule : rules) {
    if (rule.trust_domain != id.trust_domain) continue;
    // Whole segments only: prefix "/sa" does not match "/sax/billing".
    std::string head = rule.path_prefix + "/";
    if (id.path.size() <= head.size() || id.path.compare(0, head.size(), head) != 0) continue;
    return EntityRef{rule.principal_type, id.path.substr(head.size())};
  }
  return make_error("x509_unmapped", "no mapping rule for SPIFFE ID " + id.to_string());
}

Result<X509Verifier> X509Verifier::create(const std::vector<std::string>& ca_bundles,
                                          X509IdentityPolicy policy) {
  if (policy.max_depth < 0 || policy.max_depth > kMaxChainDepth)
    return config_error("max_depth must be 0.." + std::to_string(kMaxChainDepth));
  if (policy.rules.empty()) return config_error("no SPIFFE ID mapping rules: every client would be refused");
  for (const auto& rule : policy.rules) {
    if (auto st = validate_trust_domain(rule.trust_domain); !st)
      return config_error("mapping rule trust domain: " + st.error().message);
    if (auto st = validate_spiffe_path(rule.path_prefix); !st)
      return config_error("mapping rule path prefix: " + st.error().message);
    if (rule.principal_type != "Service" && rule.principal_type != "Agent")
      return config_error("mapping rule principal type must be Service or Agent");
  }
  if (ca_bundles.empty()) return config_error("no CA bundle configured");
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (!store) return config_error("out of memory");
  size_t total = 0;
  for (const auto& bundle : ca_bundles) {
    auto certs = parse_pem_certificates(bundle, kMaxCaCertificates);
    if (!certs) return config_error("CA bundle: " + certs.error().message);
    total += certs->size();
    if (total > kMaxCaCertificates)
      return config_error("more than " + std::to_string(kMaxCaCertificates) + " CA certificates");
    for (auto& cert : *certs) {
      if (X509_check_ca(cert.get()) == 0) return config_error("CA bundle holds a certificate that is not a CA");
      if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
        ERR_clear_error();
        return config_error("cannot add a CA certificate");
      }
    }
  }
  return X509Verifier(std::move(store), std::move(policy));
}

Result<X509Identity> X509Verifier::verify(X509* leaf, STACK_OF(X509)* intermediates, int64_t now_s) const {
  if (leaf == nullptr) return chain_error("no client certificate");
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf, intermediates) != 1) {
    ERR_clear_error();
    return chain_error("cannot set up certificate verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now_s));
  X509_VERIFY_PARAM_set_depth(param, policy_.max_depth);  // intermediates allowed
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  ERR_clear_error();
  if (ok != 1)
    return chain_error(std::string("client certificate chain rejected: ") + X509_verify_cert_error_string(err) +
                       " (at depth " + std::to_string(depth) + ")");
  if (X509_check_ca(leaf) != 0) return chain_error("the client certificate is a CA certificate");
  auto id = spiffe_id_of(leaf);
  if (!id) return id.error();
  auto principal = map_spiffe_id(*id, policy_.rules);
  if (!principal) return principal.error();
  return X509Identity{std::move(*id), std::move(*principal), to_epoch_seconds(X509_get0_notAfter(leaf))};
}

Result<X509Identity> X509Verifier::verify_pem(std::string_view chain_pem, int64_t now_s) const {
  auto certs = parse_pem_certificates(chain_pem, kMaxPemCertificates);
  if (!certs) return certs.error();
  STACK_OF(X509)* rest = sk_X509_new_null();
  if (rest == nullptr) return chain_error("out of memory");
  for (size_t i = 1; i < certs->size(); ++i) sk_X509_push(rest, (*certs)[i].get());  // borrowed
  auto result = verify((*certs)[0].get(), rest, now_s);
  sk_X509_free(rest);
  return result;
}

}  // namespace ztgate::authn
