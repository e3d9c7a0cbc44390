#include "authn/jws.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <memory>
#include <optional>

#include "authn/base64url.h"
#include "common/json_keys.h"

namespace ztgate::authn {
namespace {

namespace json = boost::json;

Error fail(const char* code, std::string message) {
  return make_error(code, std::move(message));
}

enum class Family { kRsaPkcs1, kRsaPss, kEcdsa, kEdDsa };

struct AlgSpec {
  std::string_view name;
  Family family;
  const char* digest;  // nullptr for EdDSA (the algorithm hashes internally)
  KeyCurve curve;      // required curve for EC / OKP
  size_t sig_len;      // fixed signature length; 0 = RSA modulus length
};

constexpr std::array<AlgSpec, 9> kAlgs = {{
    {"RS256", Family::kRsaPkcs1, "SHA256", KeyCurve::kNone, 0},
    {"RS384", Family::kRsaPkcs1, "SHA384", KeyCurve::kNone, 0},
    {"RS512", Family::kRsaPkcs1, "SHA512", KeyCurve::kNone, 0},
    {"PS256", Family::kRsaPss, "SHA256", KeyCurve::kNone, 0},
    {"PS384", Family::kRsaPss, "SHA384", KeyCurve::kNone, 0},
    {"PS512", Family::kRsaPss, "SHA512", KeyCurve::kNone, 0},
    {"ES256", Family::kEcdsa, "SHA256", KeyCurve::kP256, 64},
    {"ES384", Family::kEcdsa, "SHA384", KeyCurve::kP384, 96},
    {"EdDSA", Family::kEdDsa, nullptr, KeyCurve::kEd25519, 64},
}};

const AlgSpec* find_alg(std::string_view name) {
  for (const auto& spec : kAlgs)
    if (spec.name == name) return &spec;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

bool key_fits(const Jwk& key, const AlgSpec& spec) {
  if (!key.alg.empty() && key.alg != spec.name) return false;
  switch (spec.family) {
    case Family::kRsaPkcs1:
    case Family::kRsaPss:
      return key.kty == "RSA";
    case Family::kEcdsa:
      return key.kty == "EC" && key.curve == spec.curve;
    case Family::kEdDsa:
      return key.kty == "OKP" && key.curve == spec.curve;
  }
  return false;
}

struct Segments {
  std::string_view header_b64, payload_b64;
  std::string header, payload, signature;
};

Result<Segments> split_compact(std::string_view compact, size_t max_bytes) {
  if (compact.size() > max_bytes)
    return fail("jws_malformed", "JWS is larger than " + std::to_string(max_bytes) + " bytes");
  if (std::count(compact.begin(), compact.end(), '.') != 2)
    return fail("jws_malformed", "JWS compact serialization must have exactly three segments");
  size_t dot1 = compact.find('.');
  size_t dot2 = compact.find('.', dot1 + 1);
  Segments s;
  s.header_b64 = compact.substr(0, dot1);
  s.payload_b64 = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig_b64 = compact.substr(dot2 + 1);
  const std::pair<std::string_view, std::string*> parts[] = {
      {s.header_b64, &s.header}, {s.payload_b64, &s.payload}, {sig_b64, &s.signature}};
  for (const auto& [text, out] : parts) {
    auto bytes = base64url_decode(text);
    if (!bytes)
      return fail("jws_malformed", "JWS segment is not strict base64url: " + bytes.error().message);
    *out = std::move(bytes).value();
  }
  if (s.header.empty()) return fail("jws_malformed", "JWS header is empty");
  return s;
}

Result<std::string> optional_header_string(const json::object& obj, std::string_view name) {
  const auto* v = obj.if_contains(name);
  if (v == nullptr) return std::string{};
  if (!v->is_string())
    return fail("jws_malformed", "JWS header \"" + std::string(name) + "\" must be a string");
  return std::string(v->get_string());
}

// RFC 7515 §4.1.11: crit, when present, is a non-empty array of strings, each
// naming an extension the recipient understands; otherwise the JWS is invalid.
Result<std::vector<std::string>> parse_crit(const json::object& obj, const JwsPolicy& policy) {
  const auto* v = obj.if_contains("crit");
  if (v == nullptr) return std::vector<std::string>{};
  if (!v->is_array() || v->get_array().empty())
    return fail("jws_crit_unsupported", "JWS \"crit\" must be a non-empty array of strings");
  std::vector<std::string> names;
  for (const auto& item : v->get_array()) {
    if (!item.is_string())
      return fail("jws_crit_unsupported", "JWS \"crit\" must be a non-empty array of strings");
    std::string name(item.get_string());
    if (std::find(policy.understood_crit.begin(), policy.understood_crit.end(), name) ==
        policy.understood_crit.end())
      return fail("jws_crit_unsupported",
                  "JWS marks header parameter \"" + name + "\" critical and it is not supported");
    if (!obj.contains(name))
      return fail("jws_crit_unsupported",
                  "JWS \"crit\" names \"" + name + "\" which is absent from the header");
    names.push_back(std::move(name));
  }
  return names;
}

Result<JwsHeader> parse_header(std::string_view text, const JwsPolicy& policy) {
  constexpr int kMaxHeaderDepth = 4;
  json::parse_options opts;
  opts.max_depth = kMaxHeaderDepth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec) return fail("jws_malformed", "JWS header is not valid JSON: " + ec.message());
  // RFC 7515 §4: a recipient may reject duplicate parameter names, and must
  // here: {"alg":"RS256","alg":"none"} means different things to different parsers.
  if (auto dup = find_duplicate_key(text, kMaxHeaderDepth))
    return fail("jws_malformed", "JWS header repeats parameter `" + printable_key(*dup) + "`");
  if (!v.is_object()) return fail("jws_malformed", "JWS header must be a JSON object");
  const auto& obj = v.get_object();
  const auto* alg = obj.if_contains("alg");
  if (alg == nullptr || !alg->is_string())
    return fail("jws_malformed", "JWS header must have a string \"alg\"");
  JwsHeader h;
  h.alg = std::string(alg->get_string());
  auto kid = optional_header_string(obj, "kid");
  if (!kid) return kid.error();
  h.kid = std::move(kid).value();
  auto typ = optional_header_string(obj, "typ");
  if (!typ) return typ.error();
  h.typ = std::move(typ).value();
  auto crit = parse_crit(obj, policy);
  if (!crit) return crit.error();
  h.crit = std::move(crit).value();
  return h;
}

Result<const AlgSpec*> check_alg(std::string_view alg, const JwsPolicy& policy) {
  if (iequals(alg, "none")) return fail("jws_alg_none", "JWS \"alg\":\"none\" is never accepted");
  if (alg.size() >= 2 && iequals(alg.substr(0, 2), "HS"))
    return fail("jws_alg_not_allowed",
                "JWS HMAC algorithm \"" + std::string(alg) +
                    "\" is refused: only public-key signatures are verified");
  const AlgSpec* spec = find_alg(alg);
  bool allowed = std::find(policy.allowed_algs.begin(), policy.allowed_algs.end(), alg) !=
                 policy.allowed_algs.end();
  if (spec == nullptr || !allowed)
    return fail("jws_alg_not_allowed",
                "JWS algorithm \"" + std::string(alg) + "\" is not in the allowed list");
  return spec;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

// JWS carries ECDSA signatures as fixed-width R||S (RFC 7518 §3.4); OpenSSL
// verifies DER. Returns nullopt if the conversion fails.
std::optional<std::string> raw_ecdsa_to_der(std::string_view raw) {
  size_t half = raw.size() / 2;
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half),
                        nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half),
                        static_cast<int>(half), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verify_with(const Jwk& key, const AlgSpec& spec, std::string_view signing_input,
                 std::string_view sig) {
  std::string der;
  if (spec.family == Family::kEcdsa) {
    auto converted = raw_ecdsa_to_der(sig);
    if (!converted) return false;
    der = std::move(*converted);
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, spec.digest, nullptr, nullptr,
                                      key.key.get(), nullptr) != 1)
    return false;
  if (spec.family == Family::kRsaPss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt length equal to the hash length.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, spec.digest, nullptr) <= 0)
      return false;
  } else if (spec.family == Family::kRsaPkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

size_t expected_sig_len(const Jwk& key, const AlgSpec& spec) {
  if (spec.sig_len != 0) return spec.sig_len;
  int size = EVP_PKEY_get_size(key.key.get());
  return size > 0 ? static_cast<size_t>(size) : 0;
}

// Keys to try: those with the header's kid (if any), then those fitting alg.
Result<std::vector<const Jwk*>> candidate_keys(const std::vector<Jwk>& keys, const JwsHeader& h,
                                               const AlgSpec& spec) {
  std::vector<const Jwk*> by_kid;
  for (const auto& key : keys)
    if (h.kid.empty() || key.kid == h.kid) by_kid.push_back(&key);
  if (!h.kid.empty() && by_kid.empty())
    return fail("jws_unknown_kid",
                "JWS kid \"" + h.kid + "\" matches no known key; refresh the JWKS");
  std::vector<const Jwk*> fits;
  for (const Jwk* key : by_kid)
    if (key->key && key_fits(*key, spec)) fits.push_back(key);
  if (fits.empty())
    return fail("jws_alg_key_mismatch",
                "no key of a type suitable for JWS algorithm \"" + h.alg + "\"");
  return fits;
}

}  // namespace

Result<VerifiedJws> verify_jws(std::string_view compact, const std::vector<Jwk>& keys,
                               const JwsPolicy& policy) {
  auto seg = split_compact(compact, policy.max_bytes);
  if (!seg) return seg.error();
  auto header = parse_header(seg->header, policy);
  if (!header) return header.error();
  auto spec = check_alg(header->alg, policy);
  if (!spec) return spec.error();
  if (!policy.required_typ.empty() && !iequals(header->typ, policy.required_typ))
    return fail("jws_typ_mismatch", "JWS typ \"" + header->typ + "\" is not the required \"" +
                                        policy.required_typ + "\"");
  auto candidates = candidate_keys(keys, *header, **spec);
  if (!candidates) return candidates.error();

  std::string signing_input;
  signing_input.reserve(seg->header_b64.size() + 1 + seg->payload_b64.size());
  signing_input.append(seg->header_b64).append(".").append(seg->payload_b64);
  bool length_ok = false;
  for (const Jwk* key : *candidates) {
    if (seg->signature.size() != expected_sig_len(*key, **spec)) continue;
    length_ok = true;
    if (verify_with(*key, **spec, signing_input, seg->signature))
      return VerifiedJws{std::move(header).value(), std::move(seg->payload), key->kid};
  }
  if (!length_ok)
    return fail("jws_bad_signature", "JWS signature has the wrong length for " + header->alg);
  return fail("jws_bad_signature", "JWS signature does not verify with any candidate key");
}

}  // namespace ztgate::authn
