// Benchmarks of token verification (src/authn), each beside its baseline in
// the same run:
//   raw_verify/<alg>   EVP_DigestVerifyInit_ex + EVP_DigestVerify on a prepared
//                      signature: what OpenSSL alone costs per verification
//   verify_jws/<alg>   our compact-JWS verification with the key already
//                      parsed (the "cached key" case); ratio to raw_verify is
//                      our overhead (base64url, header JSON, alg/key checks)
//   verify_jwt/<alg>   verify_jws + claim validation (payload JSON parse)
//   parse_jwks/5keys   loading a JWKS (RSA, EC P-256/P-384, Ed25519 keys)
//   token_cache_hit/1KiB  a repeated ~1 KiB token found in TokenCache
//   token_hash/1KiB    the cache's 64-bit hash alone
//
//   build/bench/authn_bench [--benchmark_format=json ...]
//
// Build Release (-DCMAKE_BUILD_TYPE=Release) for figures worth quoting.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "../tests/authn/test_keys.h"
#include "authn/jwk.h"
#include "authn/jws.h"
#include "authn/jwt.h"
#include "authn/token_cache.h"

namespace {

using namespace ztgate::authn;
namespace t = ztgate::authn::testing;

constexpr int64_t kNow = 1'800'000'000;

EvpPkeyPtr key_for(const std::string& alg) {
  if (alg.starts_with("RS") || alg.starts_with("PS")) return t::make_rsa(2048);
  if (alg == "ES256") return t::make_ec("P-256");
  if (alg == "ES384") return t::make_ec("P-384");
  return t::make_ed25519();
}

std::string claims_json(size_t pad = 0) {
  return R"({"iss":"https://idp.example","aud":"ztgate","sub":"agent-7","iat":1799999990,"exp":1800000600,"scope":"tools:read tools:write")" +
         (pad ? R"(,"pad":")" + std::string(pad, 'p') + "\"" : std::string()) + "}";
}

JwtPolicy jwt_policy() {
  JwtPolicy p;
  p.issuers = {"https://idp.example"};
  p.audience = "ztgate";
  return p;
}

// One issuer key, its parsed public JWK and a token it signed.
struct Fixture {
  std::string alg;
  EvpPkeyPtr private_key;
  std::vector<Jwk> keys;
  std::string token;
  std::string signing_input, signature;  // signature in the form OpenSSL verifies (DER for ECDSA)

  explicit Fixture(std::string a) : alg(std::move(a)), private_key(key_for(alg)) {
    keys.push_back(std::move(parse_jwk(t::public_jwk(private_key.get(), "k1"))).value());
    token = t::sign_compact(private_key.get(), alg, R"({"alg":")" + alg + R"(","kid":"k1","typ":"JWT"})",
                            claims_json());
    signing_input = token.substr(0, token.rfind('.'));
    // The token carries ECDSA as R||S; OpenSSL verifies DER, so sign again.
    signature = raw_openssl_signature();
  }

  std::string raw_openssl_signature() const {
    const char* md = alg == "EdDSA" ? nullptr : alg.ends_with("256") ? "SHA256" : alg.ends_with("384") ? "SHA384" : "SHA512";
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, private_key.get(), nullptr);
    if (alg.starts_with("PS")) {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, nullptr);
    }
    size_t len = 0;
    auto in = reinterpret_cast<const unsigned char*>(signing_input.data());
    EVP_DigestSign(ctx, nullptr, &len, in, signing_input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, signing_input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
  }
};

const std::vector<std::string> kAlgs = {"RS256", "PS256", "ES256", "ES384", "EdDSA"};

void raw_verify(benchmark::State& state, const Fixture* f) {
  const char* md = f->alg == "EdDSA" ? nullptr : f->alg.ends_with("256") ? "SHA256" : "SHA384";
  EVP_PKEY* pub = f->keys[0].key.get();
  auto in = reinterpret_cast<const unsigned char*>(f->signing_input.data());
  auto sig = reinterpret_cast<const unsigned char*>(f->signature.data());
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestVerifyInit_ex(ctx, &pctx, md, nullptr, nullptr, pub, nullptr);
    if (f->alg.starts_with("PS")) {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, nullptr);
    }
    int ok = EVP_DigestVerify(ctx, sig, f->signature.size(), in, f->signing_input.size());
    EVP_MD_CTX_free(ctx);
    if (ok != 1) state.SkipWithError("raw verification failed");
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

void verify_jws_bench(benchmark::State& state, const Fixture* f) {
  for (auto _ : state) {
    auto r = verify_jws(f->token, f->keys);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void verify_jwt_bench(benchmark::State& state, const Fixture* f) {
  const JwsPolicy jws_policy;
  const JwtPolicy policy = jwt_policy();
  for (auto _ : state) {
    auto r = verify_jwt(f->token, f->keys, jws_policy, policy, kNow);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

std::string jwks_text() {
  std::string out = R"({"keys":[)";
  for (size_t i = 0; i < kAlgs.size(); ++i) {
    auto key = key_for(kAlgs[i]);
    std::string kid = "k";
    kid += std::to_string(i);
    if (i > 0) out += ',';
    out += t::public_jwk(key.get(), kid, R"(,"alg":")" + kAlgs[i] + "\"");
  }
  return out + "]}";
}

void parse_jwks_bench(benchmark::State& state) {
  const std::string text = jwks_text();
  for (auto _ : state) {
    auto r = parse_jwks(text);
    if (!r || r->size() != kAlgs.size()) state.SkipWithError("parse_jwks failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// A ~1 KiB ES256 token (claims padded), cached after one verification.
struct CacheFixture {
  Fixture issuer{"ES256"};
  std::string token;
  TokenCache<JwtClaims> cache;
  CacheFixture() {
    token = t::sign_compact(issuer.private_key.get(), "ES256", R"({"alg":"ES256","kid":"k1"})",
                            claims_json(620));
    auto claims = verify_jwt(token, issuer.keys, {}, jwt_policy(), kNow);
    if (!claims) std::abort();
    int64_t exp = claims->exp;
    cache.insert(token, std::make_shared<const JwtClaims>(std::move(claims).value()), exp, kNow);
    for (int i = 0; i < 1000; ++i)  // a realistic table, not a single entry
      cache.insert(token + std::to_string(i), std::make_shared<const JwtClaims>(), exp, kNow);
  }
};

CacheFixture& cache_fixture() {
  static CacheFixture f;
  return f;
}

void token_cache_hit(benchmark::State& state) {
  auto& f = cache_fixture();
  state.SetLabel(std::to_string(f.token.size()) + " B token");
  for (auto _ : state) {
    auto hit = f.cache.find(f.token, kNow);
    if (!hit) state.SkipWithError("cache miss");
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(state.iterations());
}

void token_hash_bench(benchmark::State& state) {
  auto& f = cache_fixture();
  for (auto _ : state) benchmark::DoNotOptimize(token_hash(f.token));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.token.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<Fixture>> fixtures;
  for (const auto& alg : kAlgs) fixtures.push_back(std::make_unique<Fixture>(alg));
  for (const auto& f : fixtures) benchmark::RegisterBenchmark(("raw_verify/" + f->alg).c_str(), raw_verify, f.get());
  for (const auto& f : fixtures) benchmark::RegisterBenchmark(("verify_jws/" + f->alg).c_str(), verify_jws_bench, f.get());
  for (const auto& f : fixtures) benchmark::RegisterBenchmark(("verify_jwt/" + f->alg).c_str(), verify_jwt_bench, f.get());
  benchmark::RegisterBenchmark("parse_jwks/5keys", parse_jwks_bench);
  benchmark::RegisterBenchmark("token_cache_hit/1KiB", token_cache_hit);
  benchmark::RegisterBenchmark("token_cache_hit/1KiB", token_cache_hit)->Threads(2);
  benchmark::RegisterBenchmark("token_hash/1KiB", token_hash_bench);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
