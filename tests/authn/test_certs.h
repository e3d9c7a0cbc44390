// Test-only certificate authority: mints CA, intermediate and leaf
// certificates at run time with the OpenSSL C API, so the X.509 verifier is
// tested against real signatures and real extensions, not fixtures.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "authn/jwk.h"
#include "authn/x509_identity.h"

namespace ztgate::authn::testing {

struct CertSpec {
  std::string common_name = "test";
  bool is_ca = false;
  int64_t not_before = 0, not_after = 0;  // seconds since the epoch
  std::vector<std::string> uri_sans;      // raw bytes, hostile ones included
  std::vector<std::string> dns_sans;
  std::string eku = "clientAuth";          // leaf only; "" for none
  std::string key_usage;                   // "" for the default of a CA / a leaf
};

struct MintedCert {
  X509Ptr cert;
  EvpPkeyPtr key;

  std::string pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), cert.get());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  }
};

inline void add_conf_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error(std::string("bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

inline void add_sans(X509* cert, const CertSpec& spec) {
  if (spec.uri_sans.empty() && spec.dns_sans.empty()) return;
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  auto push = [&](int type, const std::string& value) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()));
    GENERAL_NAME_set0_value(name, type, text);
    sk_GENERAL_NAME_push(names, name);
  };
  for (const auto& uri : spec.uri_sans) push(GEN_URI, uri);
  for (const auto& dns : spec.dns_sans) push(GEN_DNS, dns);
  X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(names);
}

// Signs with `issuer` (nullptr: self-signed). P-256 keys: fast and strict-mode clean.
inline MintedCert mint_cert(const CertSpec& spec, const MintedCert* issuer) {
  static long serial = 1000;
  MintedCert out{X509Ptr(X509_new()), EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"))};
  X509* cert = out.cert.get();
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer->cert.get()) : name);
  ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(spec.not_after));
  X509_set_pubkey(cert, out.key.get());

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->cert.get() : cert, cert, nullptr, nullptr, 0);
  add_conf_ext(cert, &ctx, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  std::string key_usage = !spec.key_usage.empty() ? spec.key_usage
                          : spec.is_ca             ? "critical,keyCertSign,cRLSign"
                                                   : "critical,digitalSignature,keyAgreement";
  add_conf_ext(cert, &ctx, NID_key_usage, key_usage.c_str());
  add_conf_ext(cert, &ctx, NID_subject_key_identifier, "hash");
  add_conf_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
  if (!spec.is_ca && !spec.eku.empty()) add_conf_ext(cert, &ctx, NID_ext_key_usage, spec.eku.c_str());
  add_sans(cert, spec);
  X509_sign(cert, issuer != nullptr ? issuer->key.get() : out.key.get(), EVP_sha256());
  return out;
}

}  // namespace ztgate::authn::testing
