// Test-only JOSE producer: generates keys at run time, exports their public
// half as a JWK, and signs compact JWS. Mirrors what an issuer does, so the
// verifier is tested against real OpenSSL signatures, not fixtures.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "authn/base64url.h"
#include "authn/jwk.h"

namespace ztgate::authn::testing {

inline EvpPkeyPtr make_rsa(unsigned bits = 2048) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}
inline EvpPkeyPtr make_ec(const char* curve) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}
inline EvpPkeyPtr make_ed25519() {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

inline std::string bn_param(EVP_PKEY* pkey, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) throw std::runtime_error("missing param");
  int len = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(len), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
  BN_free(bn);
  return base64url_encode(out);
}

// The public half as JWK JSON; `extra` is spliced in as more members.
inline std::string public_jwk(EVP_PKEY* pkey, const std::string& kid,
                              const std::string& extra = "") {
  std::string members = "\"kid\":\"" + kid + "\"" + extra;
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    return "{\"kty\":\"RSA\"," + members + ",\"n\":\"" + bn_param(pkey, OSSL_PKEY_PARAM_RSA_N) +
           "\",\"e\":\"" + bn_param(pkey, OSSL_PKEY_PARAM_RSA_E) + "\"}";
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    int bits = EVP_PKEY_get_bits(pkey);
    int coord = (bits + 7) / 8;
    std::string crv = bits == 256 ? "P-256" : "P-384";
    return "{\"kty\":\"EC\",\"crv\":\"" + crv + "\"," + members + ",\"x\":\"" +
           bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, coord) + "\",\"y\":\"" +
           bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, coord) + "\"}";
  }
  std::string raw(32, '\0');
  size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len);
  return "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"," + members + ",\"x\":\"" + base64url_encode(raw) +
         "\"}";
}

inline std::string public_pem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pkey);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// DER ECDSA signature → fixed-width R||S as JWS requires.
inline std::string der_to_raw(const std::string& der, int coord) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  std::string out(static_cast<size_t>(2 * coord), '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), coord);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data()) + coord, coord);
  ECDSA_SIG_free(sig);
  return out;
}

inline std::string sign_raw(EVP_PKEY* pkey, const std::string& alg, const std::string& input) {
  const char* md = nullptr;
  if (alg != "EdDSA")
    md = alg.ends_with("256") ? "SHA256" : alg.ends_with("384") ? "SHA384" : "SHA512";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, pkey, nullptr);
  if (alg.starts_with("PS")) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, nullptr);
  }
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx, nullptr, &len, in, input.size());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) !=
      1)
    throw std::runtime_error("sign failed");
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg.starts_with("ES")) sig = der_to_raw(sig, alg == "ES256" ? 32 : 48);
  return sig;
}

inline std::string encode_header(const std::string& header_json) {
  return base64url_encode(header_json);
}

// A compact JWS over `payload` with `header_json` as the protected header.
inline std::string sign_compact(EVP_PKEY* pkey, const std::string& alg,
                                const std::string& header_json, const std::string& payload) {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload);
  return input + "." + base64url_encode(sign_raw(pkey, alg, input));
}

inline std::string hs256_compact(const std::string& secret, const std::string& header_json,
                                 const std::string& payload) {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace ztgate::authn::testing
