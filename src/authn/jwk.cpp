#include "authn/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <array>
#include <boost/json.hpp>
#include <memory>

#include "authn/base64url.h"
#include "common/json_keys.h"

namespace ztgate::authn {
namespace {

namespace json = boost::json;

constexpr size_t kMaxJwksBytes = 1 << 20;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;

struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

Error invalid(std::string message) { return make_error("jwk_invalid", std::move(message)); }
Error unsupported(std::string message) {
  return make_error("jwk_unsupported", std::move(message));
}

// An optional string member: "" when absent, error when present but not a string.
Result<std::string> optional_string(const json::object& obj, std::string_view name) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::string{};
  if (!it->value().is_string())
    return invalid("JWK member \"" + std::string(name) + "\" must be a string");
  return std::string(it->value().get_string());
}

// A required base64url member, decoded.
Result<std::string> required_b64(const json::object& obj, std::string_view name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->value().is_string())
    return invalid("JWK is missing string member \"" + std::string(name) + "\"");
  auto bytes = base64url_decode(it->value().get_string());
  if (!bytes) return invalid("JWK member \"" + std::string(name) + "\" is not valid base64url");
  if (bytes->empty()) return invalid("JWK member \"" + std::string(name) + "\" is empty");
  return std::move(bytes).value();
}

// Builds a public EVP_PKEY of `type` ("RSA", "EC", "ED25519") from params.
Result<EvpPkeyPtr> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0)
    return invalid("could not prepare OpenSSL key import");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || raw == nullptr)
    return invalid("OpenSSL refused the key material (e.g. point not on the curve)");
  return EvpPkeyPtr(raw);
}

Status check_public(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) <= 0)
    return invalid("public key check failed (e.g. point not on the curve)");
  return Ok{};
}

Result<EvpPkeyPtr> rsa_key(const json::object& obj) {
  auto n = required_b64(obj, "n");
  if (!n) return n.error();
  auto e = required_b64(obj, "e");
  if (!e) return e.error();
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                       static_cast<int>(n->size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                       static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return invalid("could not read RSA parameters");
  if (BN_num_bits(bn_n.get()) < kMinRsaBits)
    return invalid("RSA modulus has " + std::to_string(BN_num_bits(bn_n.get())) +
                   " bits; at least 2048 are required");
  if (BN_num_bits(bn_n.get()) > kMaxRsaBits)
    return invalid("RSA modulus is larger than 16384 bits");
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) || BN_num_bits(bn_e.get()) > 64)
    return invalid("RSA public exponent must be odd, greater than 1 and at most 64 bits");
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return invalid("could not build RSA parameters");
  return pkey_from_params("RSA", bld.get());
}

Result<EvpPkeyPtr> ec_key(const json::object& obj, KeyCurve& curve) {
  auto crv = optional_string(obj, "crv");
  if (!crv) return crv.error();
  size_t coord = 0;
  const char* group = nullptr;
  if (*crv == "P-256") {
    curve = KeyCurve::kP256, coord = 32, group = "prime256v1";
  } else if (*crv == "P-384") {
    curve = KeyCurve::kP384, coord = 48, group = "secp384r1";
  } else {
    return unsupported("EC curve \"" + *crv + "\" is not supported (P-256, P-384)");
  }
  auto x = required_b64(obj, "x");
  if (!x) return x.error();
  auto y = required_b64(obj, "y");
  if (!y) return y.error();
  // RFC 7518 §6.2.1.2: coordinates are full-length, leading zeros kept.
  if (x->size() != coord || y->size() != coord)
    return invalid("EC coordinates for " + *crv + " must be " + std::to_string(coord) + " bytes");
  std::string point = "\x04" + *x + *y;  // SEC1 uncompressed point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()))
    return invalid("could not build EC parameters");
  auto pkey = pkey_from_params("EC", bld.get());
  if (!pkey) return pkey.error();
  // Import already rejects off-curve points; the explicit check keeps that
  // promise independent of provider behavior.
  if (auto st = check_public(pkey->get()); !st) return st.error();
  return pkey;
}

Result<EvpPkeyPtr> okp_key(const json::object& obj, KeyCurve& curve) {
  auto crv = optional_string(obj, "crv");
  if (!crv) return crv.error();
  if (*crv != "Ed25519")
    return unsupported("OKP curve \"" + *crv + "\" is not supported (Ed25519)");
  curve = KeyCurve::kEd25519;
  auto x = required_b64(obj, "x");
  if (!x) return x.error();
  if (x->size() != 32) return invalid("Ed25519 public key must be 32 bytes");
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(), x->size()))
    return invalid("could not build Ed25519 parameters");
  return pkey_from_params("ED25519", bld.get());
}

// Private members per RFC 7518 §6.2.2 and §6.3.2 (and RFC 8037 §2).
constexpr std::array<std::string_view, 7> kPrivateMembers = {"d",  "p",  "q",  "dp",
                                                             "dq", "qi", "oth"};

Result<Jwk> jwk_from_object(const json::object& obj) {
  Jwk jwk;
  auto kty = optional_string(obj, "kty");
  if (!kty) return kty.error();
  if (kty->empty()) return invalid("JWK is missing \"kty\"");
  jwk.kty = std::move(kty).value();
  for (auto [name, out] : {std::pair<std::string_view, std::string*>{"kid", &jwk.kid},
                           {"alg", &jwk.alg},
                           {"use", &jwk.use}}) {
    auto v = optional_string(obj, name);
    if (!v) return v.error();
    *out = std::move(v).value();
  }
  if (!jwk.use.empty() && jwk.use != "sig")
    return unsupported("JWK use \"" + jwk.use + "\" is not for signatures");
  if (jwk.kty != "RSA" && jwk.kty != "EC" && jwk.kty != "OKP")
    return unsupported("JWK kty \"" + jwk.kty + "\" is not supported (RSA, EC, OKP)");
  for (auto name : kPrivateMembers)
    if (obj.contains(name))
      return invalid("JWK carries private member \"" + std::string(name) +
                     "\"; publish public keys only");
  Result<EvpPkeyPtr> key = jwk.kty == "RSA"  ? rsa_key(obj)
                           : jwk.kty == "EC" ? ec_key(obj, jwk.curve)
                                             : okp_key(obj, jwk.curve);
  if (!key) return key.error();
  jwk.key = std::move(key).value();
  return jwk;
}

Result<json::value> parse_json(std::string_view text) {
  if (text.size() > kMaxJwksBytes) return invalid("JWK document is larger than 1 MiB");
  constexpr int kMaxJwkDepth = 8;
  json::parse_options opts;
  opts.max_depth = kMaxJwkDepth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec) return invalid("JWK document is not valid JSON: " + ec.message());
  // Two "n" (or "keys") members would mean whichever one a parser keeps.
  if (auto dup = find_duplicate_key(text, kMaxJwkDepth))
    return invalid("JWK document repeats member `" + printable_key(*dup) + "`");
  if (!v.is_object()) return invalid("JWK document must be a JSON object");
  return v;
}

}  // namespace

Result<Jwk> parse_jwk(std::string_view text) {
  auto v = parse_json(text);
  if (!v) return v.error();
  return jwk_from_object(v->get_object());
}

Result<std::vector<Jwk>> parse_jwks(std::string_view text) {
  auto v = parse_json(text);
  if (!v) return v.error();
  const auto* keys = v->get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return invalid("JWKS must have a \"keys\" array");
  std::vector<Jwk> out;
  size_t index = 0;
  for (const auto& entry : keys->get_array()) {
    if (!entry.is_object())
      return invalid("JWKS entry " + std::to_string(index) + " is not an object");
    auto jwk = jwk_from_object(entry.get_object());
    if (jwk) {
      out.push_back(std::move(jwk).value());
    } else if (jwk.error().code != "jwk_unsupported") {
      return invalid("JWKS entry " + std::to_string(index) + ": " + jwk.error().message);
    }
    ++index;
  }
  return out;
}

std::string ed25519_thumbprint(std::string_view x_b64url) {
  // Required members in lexicographic order, no whitespace (RFC 7638 §3.2).
  std::string input = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + std::string(x_b64url) + "\"}";
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  return base64url_encode(std::string_view(reinterpret_cast<char*>(digest), len));
}

}  // namespace ztgate::authn
