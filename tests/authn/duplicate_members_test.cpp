// Duplicate member names in JOSE JSON are refused (RFC 7515 §4, RFC 7519 §4):
// a JSON parser that keeps the last duplicate and one that keeps the first
// would read the same token differently.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "authn/jwk.h"
#include "authn/jws.h"
#include "authn/jwt.h"
#include "common/json_keys.h"
#include "test_keys.h"

namespace ztgate::authn {
namespace {

using testing::make_ed25519;
using testing::public_jwk;
using testing::sign_compact;

constexpr int64_t kNow = 1'800'000'000;

JwtPolicy jwt_policy() {
  JwtPolicy p;
  p.issuers = {"https://idp.example"};
  p.audience = "ztgate";
  return p;
}

struct Issuer {
  EvpPkeyPtr key = make_ed25519();
  std::vector<Jwk> keys() const {
    std::vector<Jwk> out;
    out.push_back(std::move(parse_jwk(public_jwk(key.get(), "k1"))).value());
    return out;
  }
  std::string sign(const std::string& header, const std::string& payload) const {
    return sign_compact(key.get(), "EdDSA", header, payload);
  }
};

constexpr const char* kPayload =
    R"({"iss":"https://idp.example","aud":"ztgate","sub":"alice","exp":1800000300})";

TEST(FindDuplicateKey, FindsTheFirstRepeatAtAnyDepth) {
  EXPECT_EQ(find_duplicate_key(R"({"a":1,"b":2})", 8), std::nullopt);
  EXPECT_EQ(find_duplicate_key(R"({"a":1,"a":2})", 8), "a");
  EXPECT_EQ(find_duplicate_key(R"({"x":[{"k":1},{"k":2,"k":3}]})", 8), "k");
  // Sibling objects may reuse a name; only one object's own members count.
  EXPECT_EQ(find_duplicate_key(R"({"x":{"k":1},"y":{"k":2}})", 8), std::nullopt);
}

TEST(FindDuplicateKey, ComparesDecodedNamesIncludingTheEmptyName) {
  EXPECT_EQ(find_duplicate_key(R"({"alg":1,"\u0061lg":2})", 8), "alg");
  EXPECT_EQ(find_duplicate_key(R"({"":1,"":2})", 8), "");
}

TEST(FindDuplicateKey, LargeObjectsAreCheckedToo) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_EQ(find_duplicate_key(text + "\"last\":0}", 8), std::nullopt);
  EXPECT_EQ(find_duplicate_key(text + "\"k999\":0}", 8), "k999");
  EXPECT_EQ(find_duplicate_key(text + "\"k3\":0}", 8), "k3");
  // An object's names are forgotten when it closes, also inside a big one.
  EXPECT_EQ(find_duplicate_key(R"({"a":{"b":1,"c":2},"b":{"a":1,"c":{"c":3}},"c":0})", 8), std::nullopt);
}

TEST(ParseJsonCheckingKeys, BuildsTheValueAndReportsTheFirstRepeat) {
  boost::system::error_code ec;
  std::optional<std::string> dup;
  auto v = parse_json_checking_keys(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"n":-1,"x":1.5,"b":true,"z":null})", 8, ec, dup);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(dup);
  EXPECT_EQ(v, boost::json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"n":-1,"x":1.5,"b":true,"z":null})"));
  v = parse_json_checking_keys(R"({"a":{"k":1,"k":2},"b":1,"b":2})", 8, ec, dup);
  ASSERT_FALSE(ec);
  EXPECT_EQ(dup, "k");
  dup.reset();
  parse_json_checking_keys(R"({"\u0061lg":1,"alg":2})", 8, ec, dup);
  EXPECT_EQ(dup, "alg");
}

TEST(ParseJsonCheckingKeys, SyntaxErrorsAndDepthWinOverRepeats) {
  boost::system::error_code ec;
  std::optional<std::string> dup;
  auto v = parse_json_checking_keys(R"({"a":1,"a":2)", 8, ec, dup);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(v.is_null());
  ec = {};
  parse_json_checking_keys(R"({"a":1} x)", 8, ec, dup);
  EXPECT_TRUE(ec);
  ec = {};
  parse_json_checking_keys(R"([[[[1]]]])", 3, ec, dup);
  EXPECT_TRUE(ec);
  ec = {};
  parse_json_checking_keys(R"([[[1]]])", 3, ec, dup);
  EXPECT_FALSE(ec);
}

TEST(ParseJsonCheckingKeys, NumbersBeyondADoubleAreRefused) {
  // 1e400 would come back out as `Infinity`, which no JSON parser reads.
  boost::system::error_code ec;
  std::optional<std::string> dup;
  for (const char* text : {R"({"x":1e400})", R"([-1e400])", R"(1E999)"}) {
    ec = {};
    auto v = parse_json_checking_keys(text, 8, ec, dup);
    EXPECT_TRUE(ec) << text;
    EXPECT_TRUE(v.is_null()) << text;
  }
  ec = {};
  auto v = parse_json_checking_keys(R"([1e308,-1e-400,0.5])", 8, ec, dup);
  EXPECT_FALSE(ec);
  EXPECT_EQ(boost::json::serialize(v).find("Infinity"), std::string::npos);
}

TEST(FindDuplicateKey, PrintableKeyEscapesControlBytesAndBoundsLength) {
  EXPECT_EQ(printable_key("a\nb`"), "a\\x0ab\\x60");
  EXPECT_EQ(printable_key(std::string(100, 'k')), std::string(64, 'k') + "...");
}

TEST(DuplicateMembers, JwsHeaderWithTwoAlgIsMalformedEvenWhenSigned) {
  Issuer issuer;
  // Signed correctly: the refusal is about the header, not the signature.
  auto token = issuer.sign(R"({"alg":"EdDSA","kid":"k1","alg":"none"})", kPayload);
  auto r = verify_jws(token, issuer.keys());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "jws_malformed");
  EXPECT_NE(r.error().message.find("`alg`"), std::string::npos) << r.error().message;
}

TEST(DuplicateMembers, JwsHeaderWithTwoKidIsMalformed) {
  Issuer issuer;
  auto token = issuer.sign(R"({"alg":"EdDSA","kid":"k1","kid":"k2"})", kPayload);
  auto r = verify_jws(token, issuer.keys());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "jws_malformed");
  EXPECT_NE(r.error().message.find("`kid`"), std::string::npos) << r.error().message;
}

TEST(DuplicateMembers, JwtWithTwoSubClaimsIsMalformed) {
  Issuer issuer;
  auto token = issuer.sign(
      R"({"alg":"EdDSA","kid":"k1"})",
      R"({"iss":"https://idp.example","aud":"ztgate","sub":"alice","sub":"admin","exp":1800000300})");
  auto r = verify_jwt(token, issuer.keys(), {}, jwt_policy(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "jwt_malformed");
  EXPECT_NE(r.error().message.find("`sub`"), std::string::npos) << r.error().message;
}

TEST(DuplicateMembers, JwtWithARepeatInsideANestedClaimIsMalformed) {
  auto r = validate_jwt_claims(
      R"({"iss":"https://idp.example","aud":"ztgate","exp":1800000300,"ctx":{"role":"user","role":"admin"}})",
      jwt_policy(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "jwt_malformed");
  EXPECT_NE(r.error().message.find("`role`"), std::string::npos) << r.error().message;
}

TEST(DuplicateMembers, TheSameTokenWithoutRepeatsVerifies) {
  Issuer issuer;
  auto token = issuer.sign(R"({"alg":"EdDSA","kid":"k1"})", kPayload);
  auto r = verify_jwt(token, issuer.keys(), {}, jwt_policy(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sub, "alice");
}

TEST(DuplicateMembers, JwkWithTwoKeyValuesIsInvalid) {
  auto key = make_ed25519();
  std::string jwk = public_jwk(key.get(), "k1");
  // A second "x" after the first: which key would this JWK be?
  std::string twice = jwk.substr(0, jwk.size() - 1) + R"(,"x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})";
  auto r = parse_jwk(twice);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "jwk_invalid");
  EXPECT_NE(r.error().message.find("`x`"), std::string::npos) << r.error().message;
  EXPECT_TRUE(parse_jwk(jwk).ok());
}

TEST(DuplicateMembers, JwksWithTwoKeysArraysOrARepeatInsideAKeyIsInvalid) {
  auto key = make_ed25519();
  std::string jwk = public_jwk(key.get(), "k1");
  auto two_arrays = parse_jwks(R"({"keys":[],"keys":[)" + jwk + "]}");
  ASSERT_FALSE(two_arrays.ok());
  EXPECT_EQ(two_arrays.error().code, "jwk_invalid");
  EXPECT_NE(two_arrays.error().message.find("`keys`"), std::string::npos);

  std::string two_kids = jwk.substr(0, jwk.size() - 1) + R"(,"kid":"k2"})";
  auto inner = parse_jwks(R"({"keys":[)" + two_kids + "]}");
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().code, "jwk_invalid");
  EXPECT_NE(inner.error().message.find("`kid`"), std::string::npos);
}

}  // namespace
}  // namespace ztgate::authn
