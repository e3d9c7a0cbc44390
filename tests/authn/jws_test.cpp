#include "authn/jws.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace ztgate::authn {
namespace {

using testing::sign_compact;

constexpr const char* kPayload = R"({"sub":"alice","iss":"https://idp.example"})";

// Keys are generated once per suite: RSA generation dominates the run time.
class JwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = testing::make_rsa().release();
    p256_ = testing::make_ec("P-256").release();
    p384_ = testing::make_ec("P-384").release();
    ed_ = testing::make_ed25519().release();
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY* k : {rsa_, p256_, p384_, ed_}) EVP_PKEY_free(k);
  }

  static std::vector<Jwk> keys(std::initializer_list<std::pair<EVP_PKEY*, std::string>> list) {
    std::vector<Jwk> out;
    for (const auto& [pkey, kid] : list) {
      auto jwk = parse_jwk(testing::public_jwk(pkey, kid));
      EXPECT_TRUE(jwk.ok()) << jwk.error().message;
      out.push_back(std::move(jwk).value());
    }
    return out;
  }
  static std::vector<Jwk> all_keys() {
    return keys({{rsa_, "rsa"}, {p256_, "p256"}, {p384_, "p384"}, {ed_, "ed"}});
  }

  static void expect_verifies(EVP_PKEY* pkey, const std::string& alg, const std::string& kid) {
    auto token =
        sign_compact(pkey, alg, R"({"alg":")" + alg + R"(","kid":")" + kid + R"("})", kPayload);
    auto r = verify_jws(token, all_keys(), {});
    ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
    EXPECT_EQ(r->payload, kPayload);
    EXPECT_EQ(r->header.alg, alg);
    EXPECT_EQ(r->kid, kid);
  }

  static std::string error_code(const Result<VerifiedJws>& r) {
    return r.ok() ? "ok" : r.error().code;
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* p256_ = nullptr;
  static inline EVP_PKEY* p384_ = nullptr;
  static inline EVP_PKEY* ed_ = nullptr;
};

TEST_F(JwsTest, VerifiesRs256) { expect_verifies(rsa_, "RS256", "rsa"); }
TEST_F(JwsTest, VerifiesRs384AndRs512) {
  expect_verifies(rsa_, "RS384", "rsa");
  expect_verifies(rsa_, "RS512", "rsa");
}
TEST_F(JwsTest, VerifiesPs256) { expect_verifies(rsa_, "PS256", "rsa"); }
TEST_F(JwsTest, VerifiesPs384AndPs512) {
  expect_verifies(rsa_, "PS384", "rsa");
  expect_verifies(rsa_, "PS512", "rsa");
}
TEST_F(JwsTest, VerifiesEs256) { expect_verifies(p256_, "ES256", "p256"); }
TEST_F(JwsTest, VerifiesEs384) { expect_verifies(p384_, "ES384", "p384"); }
TEST_F(JwsTest, VerifiesEdDsa) { expect_verifies(ed_, "EdDSA", "ed"); }

TEST_F(JwsTest, WithoutKidTriesEveryCompatibleKey) {
  auto token = sign_compact(p256_, "ES256", R"({"alg":"ES256"})", kPayload);
  auto r = verify_jws(token, all_keys(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kid, "p256");
}

TEST_F(JwsTest, RejectsAlgNone) {
  for (std::string alg : {"none", "None", "NONE", "nOnE"}) {
    std::string token =
        base64url_encode(R"({"alg":")" + alg + R"("})") + "." + base64url_encode(kPayload) + ".";
    EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_alg_none") << alg;
  }
}

TEST_F(JwsTest, RejectsHs256EvenWithRsaKeyMaterialAsSecret) {
  // The classic confusion: a verifier that feeds "the key" to HMAC would
  // accept a MAC keyed with the (public) RSA PEM.
  auto token =
      testing::hs256_compact(testing::public_pem(rsa_), R"({"alg":"HS256","kid":"rsa"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_alg_not_allowed");
  JwsPolicy permissive;
  permissive.allowed_algs.push_back("HS256");
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), permissive)), "jws_alg_not_allowed");
}

TEST_F(JwsTest, RejectsAlgNotAllowed) {
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa"})", kPayload);
  JwsPolicy only_es;
  only_es.allowed_algs = {"ES256"};
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), only_es)), "jws_alg_not_allowed");
}

TEST_F(JwsTest, RejectsKeyTypeMismatch) {
  // ES256 header naming the RSA key.
  auto token = sign_compact(p256_, "ES256", R"({"alg":"ES256","kid":"rsa"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_alg_key_mismatch");
}

TEST_F(JwsTest, RejectsWhenJwkAlgDiffersFromHeaderAlg) {
  auto jwk = parse_jwk(testing::public_jwk(rsa_, "rsa", R"(,"alg":"PS256")"));
  ASSERT_TRUE(jwk.ok());
  std::vector<Jwk> ks;
  ks.push_back(std::move(jwk).value());
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(token, ks, {})), "jws_alg_key_mismatch");
}

TEST_F(JwsTest, UnknownKidIsDistinctError) {
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rotated-away"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_unknown_kid");
}

TEST_F(JwsTest, RejectsUnknownCrit) {
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa","crit":["exp"],"exp":1})",
                            kPayload);
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_crit_unsupported");
}

TEST_F(JwsTest, RejectsEmptyOrNonStringCrit) {
  for (std::string crit : {"[]", "[1]", "\"exp\""}) {
    auto token =
        sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa","crit":)" + crit + "}", kPayload);
    EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_crit_unsupported") << crit;
  }
}

TEST_F(JwsTest, AcceptsCritTheCallerUnderstands) {
  auto token = sign_compact(rsa_, "RS256",
                            R"({"alg":"RS256","kid":"rsa","crit":["x-ext"],"x-ext":1})", kPayload);
  JwsPolicy policy;
  policy.understood_crit = {"x-ext"};
  auto r = verify_jws(token, all_keys(), policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->header.crit, std::vector<std::string>{"x-ext"});
}

TEST_F(JwsTest, RejectsTamperedPayload) {
  auto token = sign_compact(p256_, "ES256", R"({"alg":"ES256","kid":"p256"})", kPayload);
  size_t dot1 = token.find('.');
  size_t dot2 = token.find('.', dot1 + 1);
  std::string tampered =
      token.substr(0, dot1 + 1) + base64url_encode(R"({"sub":"mallory"})") + token.substr(dot2);
  EXPECT_EQ(error_code(verify_jws(tampered, all_keys(), {})), "jws_bad_signature");
}

TEST_F(JwsTest, RejectsSignatureFromAnotherKeyOfTheSameType) {
  auto other = testing::make_ec("P-256");
  auto token = sign_compact(other.get(), "ES256", R"({"alg":"ES256","kid":"p256"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_bad_signature");
}

TEST_F(JwsTest, RejectsWrongSignatureLength) {
  std::string input =
      base64url_encode(R"({"alg":"ES256","kid":"p256"})") + "." + base64url_encode(kPayload);
  std::string sig = testing::sign_raw(p256_, "ES256", input);
  for (std::string bad : {sig.substr(0, 63), sig + '\0', std::string(), sig + sig}) {
    EXPECT_EQ(error_code(verify_jws(input + "." + base64url_encode(bad), all_keys(), {})),
              "jws_bad_signature");
  }
}

TEST_F(JwsTest, RejectsNonBase64urlCharacters) {
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa"})", kPayload);
  size_t dot1 = token.find('.');
  for (char c : {'+', '/', '=', ' ', '\n'}) {
    std::string bad = token;
    bad[dot1 + 3] = c;
    EXPECT_EQ(error_code(verify_jws(bad, all_keys(), {})), "jws_malformed") << c;
  }
  EXPECT_EQ(error_code(verify_jws(token + "=", all_keys(), {})), "jws_malformed");
}

TEST_F(JwsTest, RejectsWrongSegmentCount) {
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(token + ".x", all_keys(), {})), "jws_malformed");
  EXPECT_EQ(error_code(verify_jws(token.substr(0, token.rfind('.')), all_keys(), {})),
            "jws_malformed");
}

TEST_F(JwsTest, RejectsHeaderThatIsNotAnObjectWithStringAlg) {
  for (std::string header : {R"(["RS256"])", R"({"alg":256})", R"({"kid":"rsa"})", "not json",
                             R"({"alg":"RS256","x":[[[[[[1]]]]]]})"}) {
    std::string token = base64url_encode(header) + "." + base64url_encode(kPayload) + ".AAAA";
    EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_malformed") << header;
  }
}

TEST_F(JwsTest, RejectsOversizedToken) {
  std::string payload(kMaxJwsBytes, 'a');
  auto token = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa"})", payload);
  EXPECT_EQ(error_code(verify_jws(token, all_keys(), {})), "jws_malformed");
}

TEST_F(JwsTest, TypMismatchRejectedWhenRequired) {
  JwsPolicy policy;
  policy.required_typ = "at+jwt";
  auto jwt = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa","typ":"JWT"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(jwt, all_keys(), policy)), "jws_typ_mismatch");
  auto untyped = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(untyped, all_keys(), policy)), "jws_typ_mismatch");
  auto at = sign_compact(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa","typ":"AT+JWT"})", kPayload);
  EXPECT_EQ(error_code(verify_jws(at, all_keys(), policy)), "ok");
}

}  // namespace
}  // namespace ztgate::authn
