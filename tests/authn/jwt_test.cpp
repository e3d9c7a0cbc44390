#include "authn/jwt.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace ztgate::authn {
namespace {

constexpr int64_t kNow = 1'800'000'000;

JwtPolicy policy() {
  JwtPolicy p;
  p.issuers = {"https://idp.example"};
  p.audience = "ztgate";
  p.clock_skew_s = 60;
  return p;
}

std::string code_of(std::string_view payload, const JwtPolicy& p = policy(), int64_t now = kNow) {
  auto r = validate_jwt_claims(payload, p, now);
  return r ? "ok" : r.error().code;
}

TEST(JwtClaims, AcceptsAValidTokenAndExposesItsClaims) {
  auto r = validate_jwt_claims(
      R"({"iss":"https://idp.example","sub":"alice","aud":["other","ztgate"],"exp":1800000300,"iat":1799999990,"groups":["eng"]})",
      policy(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sub, "alice");
  EXPECT_EQ(r->aud, (std::vector<std::string>{"other", "ztgate"}));
  EXPECT_TRUE(r->all.contains("groups"));
}

TEST(JwtClaims, RejectsUntrustedOrMissingIssuer) {
  EXPECT_EQ(code_of(R"({"iss":"https://evil.example","aud":"ztgate","exp":1800000300})"), "jwt_issuer_not_allowed");
  EXPECT_EQ(code_of(R"({"aud":"ztgate","exp":1800000300})"), "jwt_issuer_not_allowed");
}

TEST(JwtClaims, RejectsTokensForAnotherAudience) {
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"billing","exp":1800000300})"), "jwt_audience_mismatch");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","exp":1800000300})"), "jwt_audience_mismatch");
}

// Found by fuzz_jwt_claims: exp = INT64_MAX overflowed `exp + skew`.
TEST(JwtClaims, NumericDatesOutsideYears1970To9999AreMalformed) {
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":9223372036854775807})"), "jwt_malformed");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":253402300800})"), "jwt_malformed");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":-1})"), "jwt_malformed");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":253402300799})"), "ok");
}

TEST(JwtClaims, ExpiryHonoursClockSkewExactly) {
  // Valid until exp + skew (exclusive).
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1799999941})"), "ok");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1799999940})"), "jwt_expired");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate"})"), "jwt_expired");
}

TEST(JwtClaims, NotBeforeAndIssuedAtInTheFutureAreRejected) {
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300,"nbf":1800000061})"), "jwt_not_yet_valid");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300,"nbf":1800000060})"), "ok");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300,"iat":1800000061})"), "jwt_issued_in_future");
}

TEST(JwtClaims, MaxAgeNeedsARecentIssuedAt) {
  JwtPolicy p = policy();
  p.max_age_s = 600;
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300,"iat":1799999340})", p), "ok");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300,"iat":1799999339})", p), "jwt_too_old");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300})", p), "jwt_too_old");
}

TEST(JwtClaims, WrongClaimTypesAreMalformed) {
  EXPECT_EQ(code_of(R"({"iss":42,"aud":"ztgate","exp":1800000300})"), "jwt_malformed");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":[1],"exp":1800000300})"), "jwt_malformed");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":"tomorrow"})"), "jwt_malformed");
  EXPECT_EQ(code_of(R"(["not","an","object"])"), "jwt_malformed");
}

TEST(JwtClaims, FractionalNumericDatesAreFloored) {
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1799999940.9})"), "jwt_expired");
  EXPECT_EQ(code_of(R"({"iss":"https://idp.example","aud":"ztgate","exp":1799999941.2})"), "ok");
}

TEST(VerifyJwt, ChecksTheSignatureThenTheClaims) {
  auto key = testing::make_ed25519();
  auto jwk = parse_jwk(testing::public_jwk(key.get(), "k1"));
  ASSERT_TRUE(jwk.ok());
  std::vector<Jwk> keys;
  keys.push_back(std::move(*jwk));
  std::string header = R"({"alg":"EdDSA","kid":"k1","typ":"JWT"})";
  std::string good = testing::sign_compact(
      key.get(), "EdDSA", header, R"({"iss":"https://idp.example","sub":"alice","aud":"ztgate","exp":1800000300})");
  auto ok = verify_jwt(good, keys, JwsPolicy{}, policy(), kNow);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->sub, "alice");
  // A correctly signed token for another audience is still refused.
  std::string other = testing::sign_compact(
      key.get(), "EdDSA", header, R"({"iss":"https://idp.example","sub":"alice","aud":"billing","exp":1800000300})");
  auto bad = verify_jwt(other, keys, JwsPolicy{}, policy(), kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "jwt_audience_mismatch");
  // A tampered token fails on the signature before any claim is read.
  std::string tampered = good;
  tampered[tampered.find('.') + 2] ^= 1;
  auto forged = verify_jwt(tampered, keys, JwsPolicy{}, policy(), kNow);
  ASSERT_FALSE(forged.ok());
  EXPECT_NE(forged.error().code.rfind("jws_", 0), std::string::npos);
}

}  // namespace
}  // namespace ztgate::authn
