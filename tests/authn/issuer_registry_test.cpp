// IssuerRegistry: several issuers at once, each verified with its own keys
// and policies only; unknown kids refresh (rate-limited) and retry once.
#include "authn/issuer_registry.h"

#include <gtest/gtest.h>

#include <string>

#include "jwks_fake_idp.h"
#include "test_keys.h"

namespace ztgate::authn {
namespace {

using namespace std::chrono_literals;
using testing::FakeIdp;
using testing::ManualClock;

constexpr int64_t kNow = 1'800'000'000;
const std::string kIssA = "https://a.example";
const std::string kIssB = "https://b.example";
const std::string kJwksA = "https://a.example/jwks";
const std::string kJwksB = "https://b.example/jwks";

std::string claims(const std::string& iss, const std::string& aud = "api",
                   int64_t exp = kNow + 600) {
  return R"({"iss":")" + iss + R"(","sub":"alice","aud":")" + aud + R"(","iat":)" +
         std::to_string(kNow) + R"(,"exp":)" + std::to_string(exp) + "}";
}

std::string token(EVP_PKEY* key, const std::string& kid, const std::string& payload,
                  const std::string& alg = "EdDSA") {
  return testing::sign_compact(key, alg, R"({"alg":")" + alg + R"(","kid":")" + kid + "\"}",
                               payload);
}

std::string jwks(EVP_PKEY* key, const std::string& kid) {
  return "{\"keys\":[" + testing::public_jwk(key, kid) + "]}";
}

IssuerConfig issuer(const std::string& id, const std::string& iss, const std::string& url) {
  IssuerConfig c;
  c.id = id;
  c.issuer = iss;
  c.keys = {JwksSourceKind::kUrl, url, {}, {}};
  c.audience = "api";
  return c;
}

struct IssuerRegistryTest : ::testing::Test {
  EvpPkeyPtr key_a = testing::make_ed25519();
  EvpPkeyPtr key_b = testing::make_ed25519();
  FakeIdp idp;
  ManualClock clock;

  void SetUp() override {
    idp.serve(kJwksA, jwks(key_a.get(), "k1"), "max-age=3600");
    idp.serve(kJwksB, jwks(key_b.get(), "k1"), "max-age=3600");  // same kid on purpose
  }
  IssuerRegistry registry(std::vector<IssuerConfig> issuers = {}) {
    if (issuers.empty()) issuers = {issuer("a", kIssA, kJwksA), issuer("b", kIssB, kJwksB)};
    auto r = IssuerRegistry::create(std::move(issuers), idp.fn(), clock.fn());
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(*r);
  }
};

TEST_F(IssuerRegistryTest, EachIssuersTokensVerifyWithItsOwnKeys) {
  auto reg = registry();
  auto a = reg.verify(token(key_a.get(), "k1", claims(kIssA)), kNow);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->issuer_id, "a");
  EXPECT_EQ(a->claims.sub, "alice");
  EXPECT_EQ(a->header.kid, "k1");
  auto b = reg.verify(token(key_b.get(), "k1", claims(kIssB)), kNow);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->issuer_id, "b");
}

TEST_F(IssuerRegistryTest, TokenClaimingIssuerANeverVerifiesWithBsKeysEvenWithTheSameKid) {
  auto reg = registry();
  auto forged = reg.verify(token(key_b.get(), "k1", claims(kIssA)), kNow);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, "jws_bad_signature");
}

TEST_F(IssuerRegistryTest, UnknownOrMissingIssuerIsRefusedWithoutFetching) {
  auto reg = registry();
  auto unknown = reg.verify(token(key_a.get(), "k1", claims("https://evil.example")), kNow);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "jwt_issuer_not_allowed");
  auto missing = reg.verify(token(key_a.get(), "k1", R"({"sub":"x"})"), kNow);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "jwt_issuer_not_allowed");
  // Issuer match is exact: no trailing-slash or case folding.
  EXPECT_EQ(reg.verify(token(key_a.get(), "k1", claims(kIssA + "/")), kNow).error().code,
            "jwt_issuer_not_allowed");
  EXPECT_EQ(idp.hits(kJwksA) + idp.hits(kJwksB), 0);
}

TEST_F(IssuerRegistryTest, GarbageIsMalformed) {
  auto reg = registry();
  EXPECT_EQ(reg.verify("abc", kNow).error().code, "jws_malformed");
  EXPECT_EQ(reg.verify("a.!!!.c", kNow).error().code, "jws_malformed");
  EXPECT_EQ(reg.verify("a.bm90IGpzb24.c", kNow).error().code, "jwt_malformed");
  EXPECT_EQ(reg.verify(std::string(kMaxJwsBytes + 1, 'a'), kNow).error().code, "jws_malformed");
}

TEST_F(IssuerRegistryTest, RotatedKeyIsPickedUpOnUnknownKid) {
  auto reg = registry();
  ASSERT_TRUE(reg.verify(token(key_a.get(), "k1", claims(kIssA)), kNow).ok());
  auto rotated = testing::make_ec("P-256");
  idp.serve(kJwksA,
            "{\"keys\":[" + testing::public_jwk(key_a.get(), "k1") + "," +
                testing::public_jwk(rotated.get(), "k2") + "]}",
            "max-age=3600");
  clock.advance(31s);
  auto t = token(rotated.get(), "k2", claims(kIssA), "ES256");
  auto v = reg.verify(t, kNow);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(idp.hits(kJwksA), 2);
  ASSERT_TRUE(reg.verify(t, kNow).ok());
  EXPECT_EQ(idp.hits(kJwksA), 2);  // now cached
}

TEST_F(IssuerRegistryTest, RandomKidFloodCostsTheIdpOneRequestPerInterval) {
  auto reg = registry();
  ASSERT_TRUE(reg.verify(token(key_a.get(), "k1", claims(kIssA)), kNow).ok());
  clock.advance(31s);
  for (int i = 0; i < 500; ++i) {
    auto v = reg.verify(token(key_a.get(), "random-" + std::to_string(i), claims(kIssA)), kNow);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, "jws_unknown_kid");
  }
  EXPECT_EQ(idp.hits(kJwksA), 2);
  EXPECT_EQ(idp.hits(kJwksB), 0);
}

TEST_F(IssuerRegistryTest, PoliciesArePerIssuer) {
  auto a = issuer("a", kIssA, kJwksA);
  a.allowed_algs = {"ES256"};
  auto b = issuer("b", kIssB, kJwksB);
  b.audience = "";
  b.required_typ = "JWT";
  auto reg = registry({a, b});
  EXPECT_EQ(reg.verify(token(key_a.get(), "k1", claims(kIssA)), kNow).error().code,
            "jws_alg_not_allowed");
  EXPECT_EQ(reg.verify(token(key_b.get(), "k1", claims(kIssB, "other")), kNow).error().code,
            "jws_typ_mismatch");
  auto typed = testing::sign_compact(
      key_b.get(), "EdDSA", R"({"alg":"EdDSA","kid":"k1","typ":"JWT"})", claims(kIssB, "other"));
  EXPECT_TRUE(reg.verify(typed, kNow).ok());  // b checks no audience
}

TEST_F(IssuerRegistryTest, ClaimsAreValidated) {
  auto reg = registry();
  EXPECT_EQ(
      reg.verify(token(key_a.get(), "k1", claims(kIssA, "api", kNow - 120)), kNow).error().code,
      "jwt_expired");
  EXPECT_EQ(reg.verify(token(key_a.get(), "k1", claims(kIssA, "web")), kNow).error().code,
            "jwt_audience_mismatch");
}

TEST_F(IssuerRegistryTest, UnavailableKeysFailClosed) {
  idp.fail(kJwksA);
  auto reg = registry();
  auto v = reg.verify(token(key_a.get(), "k1", claims(kIssA)), kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "jwks_unavailable");
}

TEST_F(IssuerRegistryTest, ConfigurationIsChecked) {
  auto code = [](std::vector<IssuerConfig> issuers) {
    auto r = IssuerRegistry::create(std::move(issuers));
    return r.ok() ? std::string("ok") : r.error().code;
  };
  EXPECT_EQ(code({}), "issuer_config_invalid");
  EXPECT_EQ(code({issuer("a", kIssA, kJwksA), issuer("a", kIssB, kJwksB)}),
            "issuer_config_invalid");
  EXPECT_EQ(code({issuer("a", kIssA, kJwksA), issuer("b", kIssA, kJwksB)}),
            "issuer_config_invalid");
  auto skew = issuer("a", kIssA, kJwksA);
  skew.clock_skew_s = 3600;
  EXPECT_EQ(code({skew}), "issuer_config_invalid");
  EXPECT_EQ(code({issuer("a", kIssA, "http://a.example/jwks")}), "jwks_config_invalid");
  EXPECT_EQ(code({issuer("a", kIssA, kJwksA)}), "ok");
}

}  // namespace
}  // namespace ztgate::authn
