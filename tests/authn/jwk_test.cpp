#include "authn/jwk.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace ztgate::authn {
namespace {

std::string code_of(const Result<Jwk>& r) { return r.ok() ? "ok" : r.error().code; }

TEST(JwkTest, ParsesRsaEcAndOkpPublicKeys) {
  auto rsa = testing::make_rsa();
  auto p256 = testing::make_ec("P-256");
  auto p384 = testing::make_ec("P-384");
  auto ed = testing::make_ed25519();
  auto r = parse_jwk(testing::public_jwk(rsa.get(), "a", R"(,"use":"sig","alg":"RS256")"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kty, "RSA");
  EXPECT_EQ(r->kid, "a");
  EXPECT_EQ(r->alg, "RS256");
  EXPECT_EQ(r->use, "sig");
  EXPECT_EQ(EVP_PKEY_get_bits(r->key.get()), 2048);
  auto e = parse_jwk(testing::public_jwk(p256.get(), "b"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->curve, KeyCurve::kP256);
  auto e384 = parse_jwk(testing::public_jwk(p384.get(), "c"));
  ASSERT_TRUE(e384.ok()) << e384.error().message;
  EXPECT_EQ(e384->curve, KeyCurve::kP384);
  auto o = parse_jwk(testing::public_jwk(ed.get(), "d"));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->curve, KeyCurve::kEd25519);
}

TEST(JwkTest, RejectsJwkWithPrivateMember) {
  auto p256 = testing::make_ec("P-256");
  auto r = parse_jwk(testing::public_jwk(p256.get(), "k", R"(,"d":"AAAA")"));
  EXPECT_EQ(code_of(r), "jwk_invalid");
  EXPECT_NE(r.error().message.find("private"), std::string::npos);
  auto rsa = testing::make_rsa();
  EXPECT_EQ(code_of(parse_jwk(testing::public_jwk(rsa.get(), "k", R"(,"p":"AAAA")"))),
            "jwk_invalid");
}

TEST(JwkTest, RejectsShortRsaModulus) {
  auto rsa = testing::make_rsa(1024);
  auto r = parse_jwk(testing::public_jwk(rsa.get(), "short"));
  EXPECT_EQ(code_of(r), "jwk_invalid");
  EXPECT_NE(r.error().message.find("2048"), std::string::npos);
}

TEST(JwkTest, RejectsOffCurvePoint) {
  auto p256 = testing::make_ec("P-256");
  std::string jwk = testing::public_jwk(p256.get(), "k");
  // Replace y by a different 32-byte value: (x, y+δ) is off the curve.
  size_t y = jwk.find("\"y\":\"") + 5;
  std::string y_bytes = base64url_decode(jwk.substr(y, 43)).value();
  y_bytes[31] = static_cast<char>(y_bytes[31] ^ 1);
  jwk.replace(y, 43, base64url_encode(y_bytes));
  EXPECT_EQ(code_of(parse_jwk(jwk)), "jwk_invalid");
}

TEST(JwkTest, RejectsWrongCoordinateLength) {
  auto p256 = testing::make_ec("P-256");
  std::string jwk = testing::public_jwk(p256.get(), "k");
  size_t x = jwk.find("\"x\":\"") + 5;
  jwk.replace(x, 43, base64url_encode(base64url_decode(jwk.substr(x, 43)).value().substr(1)));
  EXPECT_EQ(code_of(parse_jwk(jwk)), "jwk_invalid");
}

TEST(JwkTest, RejectsMissingOrNonBase64urlMembers) {
  EXPECT_EQ(code_of(parse_jwk(R"({"kty":"RSA","e":"AQAB"})")), "jwk_invalid");
  EXPECT_EQ(code_of(parse_jwk(R"({"kty":"OKP","crv":"Ed25519","x":"a+b/"})")), "jwk_invalid");
  EXPECT_EQ(code_of(parse_jwk(R"({"crv":"Ed25519"})")), "jwk_invalid");
  EXPECT_EQ(code_of(parse_jwk("[]")), "jwk_invalid");
  EXPECT_EQ(code_of(parse_jwk(R"({"kty":"EC","crv":"P-256","kid":7,"x":"AA","y":"AA"})")),
            "jwk_invalid");
}

TEST(JwkTest, UnsupportedKeyTypesAreUnsupportedNotInvalid) {
  EXPECT_EQ(code_of(parse_jwk(R"({"kty":"oct","k":"c2VjcmV0"})")), "jwk_unsupported");
  EXPECT_EQ(code_of(parse_jwk(R"({"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"})")),
            "jwk_unsupported");
}

TEST(JwksTest, SkipsUnsupportedAndEncryptionKeys) {
  auto rsa = testing::make_rsa();
  auto ed = testing::make_ed25519();
  std::string set = R"({"keys":[)" + testing::public_jwk(rsa.get(), "enc-key", R"(,"use":"enc")") +
                    "," + R"({"kty":"oct","k":"c2VjcmV0"},)" +
                    testing::public_jwk(ed.get(), "sig-key") + "]}";
  auto r = parse_jwks(set);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kid, "sig-key");
}

TEST(JwksTest, FailsOnMalformedSupportedKey) {
  auto ed = testing::make_ed25519();
  std::string set =
      R"({"keys":[)" + testing::public_jwk(ed.get(), "ok") + R"(,{"kty":"RSA","n":"AQAB"}]})";
  auto r = parse_jwks(set);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "jwk_invalid");
}

TEST(JwksTest, RequiresKeysArray) {
  EXPECT_FALSE(parse_jwks(R"({"keys":{}})").ok());
  EXPECT_FALSE(parse_jwks(R"({})").ok());
  EXPECT_TRUE(parse_jwks(R"({"keys":[]})").ok());
}

TEST(Base64urlTest, RoundTripsAndRejectsNonCanonicalInput) {
  for (std::string s :
       {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("foob"),
        std::string("fooba"), std::string("foobar"), std::string("\xff\xfe\x00", 3)})
    EXPECT_EQ(base64url_decode(base64url_encode(s)).value(), s);
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  for (std::string bad : {"Zg==", "Z", "Zh", "a+b/", "ab c", "ab\n"})
    EXPECT_FALSE(base64url_decode(bad).ok()) << bad;
}

}  // namespace
}  // namespace ztgate::authn
