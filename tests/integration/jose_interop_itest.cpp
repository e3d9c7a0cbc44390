// Interop with an independent JOSE implementation: npm `jose` (run by
// node/jose_cases.mjs) makes keys for every supported algorithm and mints
// valid, malformed and hostile tokens; ztgate must accept exactly the valid
// ones and refuse each other one with the expected stable error code.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "authn/jwk.h"
#include "authn/jwt.h"
#include "itest_support.h"

namespace ztgate::authn {
namespace {

namespace json = boost::json;

constexpr int64_t kNow = 1'800'000'000;  // passed to the generator: expiry is exact

struct Case {
  std::string name, token, code;
  bool valid = false;
};

struct Generated {
  std::string jwks_text, weak_jwk_text, generator_output;
  std::vector<Case> cases;
};

// Runs the generator once per test binary run.
const Generated& generated() {
  static const Generated g = [] {
    Generated out;
    auto dir = itest::fresh_work_dir("jose_cases");
    auto run = itest::run_process({itest::node_executable(),
                                   std::string(ZTGATE_ITEST_NODE_DIR) + "/jose_cases.mjs",
                                   dir.string(), std::to_string(kNow)},
                                  std::chrono::seconds(120));
    out.generator_output = run.output;
    if (run.exit_code != 0) return out;
    out.jwks_text = itest::read_file(dir / "jwks.json");
    out.weak_jwk_text = itest::read_file(dir / "weak_jwk.json");
    const json::value doc = json::parse(itest::read_file(dir / "cases.json"));
    for (const auto& v : doc.as_array()) {
      const auto& o = v.as_object();
      Case c;
      c.name = json::value_to<std::string>(o.at("name"));
      c.token = json::value_to<std::string>(o.at("token"));
      c.valid = o.at("valid").as_bool();
      if (const auto* code = o.if_contains("code")) c.code = json::value_to<std::string>(*code);
      out.cases.push_back(std::move(c));
    }
    return out;
  }();
  return g;
}

JwtPolicy jwt_policy() {
  JwtPolicy p;
  p.issuers = {"https://issuer.example"};
  p.audience = "ztgate";
  p.clock_skew_s = 60;
  return p;
}

class JoseInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(generated().cases.empty())
        << "node jose_cases.mjs failed:\n" << generated().generator_output;
    auto keys = parse_jwks(generated().jwks_text);
    ASSERT_TRUE(keys.ok()) << keys.error().code << ": " << keys.error().message;
    keys_ = std::move(keys).value();
  }
  std::vector<Jwk> keys_;
};

TEST_F(JoseInterop, JoseJwksLoadsWithOneKeyPerAlgorithm) {
  EXPECT_EQ(keys_.size(), 9u);
  std::set<std::string> algs;
  for (const auto& k : keys_) algs.insert(k.alg);
  EXPECT_EQ(algs, (std::set<std::string>{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                         "ES256", "ES384", "EdDSA"}));
}

TEST_F(JoseInterop, EverySupportedAlgorithmHasAValidToken) {
  std::set<std::string> names;
  for (const auto& c : generated().cases)
    if (c.valid) names.insert(c.name);
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"})
    EXPECT_TRUE(names.count(std::string("valid_") + alg)) << alg;
}

TEST_F(JoseInterop, AcceptsExactlyTheValidTokensWithTheExpectedCodes) {
  int accepted = 0, refused = 0;
  for (const auto& c : generated().cases) {
    SCOPED_TRACE(c.name);
    auto r = verify_jwt(c.token, keys_, JwsPolicy{}, jwt_policy(), kNow);
    if (c.valid) {
      EXPECT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
      if (!r) continue;
      EXPECT_EQ(r->iss, "https://issuer.example");
      EXPECT_FALSE(r->sub.empty());
      ++accepted;
    } else {
      EXPECT_FALSE(r.ok()) << "a hostile token was accepted";
      if (r) continue;
      EXPECT_EQ(r.error().code, c.code) << r.error().message;
      ++refused;
    }
  }
  EXPECT_GE(accepted, 9);
  EXPECT_GE(refused, 50);
}

TEST_F(JoseInterop, ErrorMessagesNeverEchoTheSignature) {
  for (const auto& c : generated().cases) {
    if (c.valid) continue;
    auto r = verify_jwt(c.token, keys_, JwsPolicy{}, jwt_policy(), kNow);
    ASSERT_FALSE(r.ok());
    auto last_dot = c.token.rfind('.');
    if (last_dot == std::string::npos || c.token.size() - last_dot < 16) continue;
    EXPECT_EQ(r.error().message.find(c.token.substr(last_dot + 1)), std::string::npos) << c.name;
  }
}

TEST_F(JoseInterop, UnicodeClaimsSurviveTheRoundTrip) {
  for (const auto& c : generated().cases) {
    if (c.name != "valid_unicode_claims") continue;
    auto r = verify_jwt(c.token, keys_, JwsPolicy{}, jwt_policy(), kNow);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->sub, "agent-\xc3\xa9\xf0\x9f\x98\x80");
    return;
  }
  FAIL() << "valid_unicode_claims missing";
}

TEST_F(JoseInterop, ValidTokensExpireAtExpPlusSkew) {
  // Same tokens, later clock: the generator's exp is now + 600.
  for (const auto& c : generated().cases) {
    if (c.name != "valid_ES256") continue;
    EXPECT_TRUE(verify_jwt(c.token, keys_, {}, jwt_policy(), kNow + 600 + 59).ok());
    auto late = verify_jwt(c.token, keys_, {}, jwt_policy(), kNow + 600 + 60);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, "jwt_expired");
    return;
  }
  FAIL() << "valid_ES256 missing";
}

TEST_F(JoseInterop, Rsa1024KeyFromJoseIsRefused) {
  auto weak = parse_jwk(generated().weak_jwk_text);
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, "jwk_invalid");
  // And a JWKS holding it is refused as a whole, not half-loaded.
  std::string set = generated().jwks_text;
  auto close = set.rfind(']');
  set.insert(close, "," + generated().weak_jwk_text);
  auto jwks = parse_jwks(set);
  ASSERT_FALSE(jwks.ok());
  EXPECT_EQ(jwks.error().code, "jwk_invalid");
}

}  // namespace
}  // namespace ztgate::authn
