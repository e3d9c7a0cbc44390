#include "posture/device_posture.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "../authn/test_keys.h"

namespace ztgate::posture {
namespace {

using namespace ztgate::authn::testing;
constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kIssuer = "https://mdm.example";

class DevicePostureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mdm_ = make_ec("P-256");
    auto jwk = authn::parse_jwk(public_jwk(mdm_.get(), "mdm-1"));
    ASSERT_TRUE(jwk.ok());
    keys_.push_back(std::move(*jwk));
    policy_.issuer = kIssuer;
    policy_.audience = "ztgate";
  }

  boost::json::object claims(int64_t iat = kNow - 120) const {
    return boost::json::object{{"iss", kIssuer},      {"aud", "ztgate"},
                               {"sub", "laptop-42"},   {"uid", "alice"},
                               {"iat", iat},           {"exp", iat + 7200},
                               {"managed", true},      {"disk_encrypted", true},
                               {"edr_running", false}, {"os_patch_age_days", 12},
                               {"os", "macOS 15.1"},   {"platform", "darwin"}};
  }
  std::string sign(const boost::json::object& c, EVP_PKEY* key = nullptr) const {
    return sign_compact(key ? key : mdm_.get(), "ES256", R"({"alg":"ES256","kid":"mdm-1"})",
                        boost::json::serialize(c));
  }
  Result<DevicePosture> verify(const std::string& token, std::string_view user = "alice",
                               std::optional<std::string_view> device = std::nullopt,
                               int64_t now = kNow) const {
    return verify_device_posture(token, keys_, policy_, user, device, now);
  }

  authn::EvpPkeyPtr mdm_;
  std::vector<authn::Jwk> keys_;
  DevicePosturePolicy policy_;
};

TEST_F(DevicePostureTest, ValidAssertionBecomesTheDeviceContext) {
  auto p = verify(sign(claims()), "alice", "laptop-42");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->device_id, "laptop-42");
  EXPECT_TRUE(p->managed);
  EXPECT_FALSE(p->edr_running);
  EXPECT_EQ(p->age_s, 120);
  auto ctx = device_context(&*p);
  EXPECT_EQ(boost::json::serialize(ctx),
            R"({"present":true,"device_id":"laptop-42","managed":true,"disk_encrypted":true,)"
            R"("edr_running":false,"os_patch_age_days":12,"age_s":120})");
  EXPECT_EQ(p->os, "macOS 15.1");
  EXPECT_EQ(p->platform, "darwin");
}

TEST_F(DevicePostureTest, MissingPostureIsAFactNotAnError) {
  EXPECT_EQ(boost::json::serialize(device_context(nullptr)), R"({"present":false})");
}

TEST_F(DevicePostureTest, AssertionForAnotherUserIsRefused) {
  EXPECT_EQ(verify(sign(claims()), "mallory").error().code, "posture_user_mismatch");
  auto c = claims();
  c.erase("uid");
  EXPECT_EQ(verify(sign(c)).error().code, "posture_invalid");
}

TEST_F(DevicePostureTest, AssertionForAnotherDeviceIsRefused) {
  auto r = verify(sign(claims()), "alice", "phone-7");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "posture_device_mismatch");
  EXPECT_NE(r.error().message.find("laptop-42"), std::string::npos);
}

TEST_F(DevicePostureTest, PostureOlderThanMaxAgeIsStale) {
  // max_age 3600 + skew 60: 3660 s old is the last accepted second.
  EXPECT_TRUE(verify(sign(claims(kNow - 3660))).ok());
  EXPECT_EQ(verify(sign(claims(kNow - 3661))).error().code, "posture_stale");
  // Expired is stale too.
  auto c = claims();
  c["exp"] = kNow - 61;
  EXPECT_EQ(verify(sign(c)).error().code, "posture_stale");
  // No iat: cannot tell the age, so not accepted.
  c = claims();
  c.erase("iat");
  EXPECT_EQ(verify(sign(c)).error().code, "posture_invalid");
}

TEST_F(DevicePostureTest, BadSignatureIsInvalidAndNamesTheJwsCode) {
  std::string token = sign(claims());
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  auto r = verify(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "posture_invalid");
  EXPECT_NE(r.error().message.find("jws_bad_signature"), std::string::npos) << r.error().message;
}

TEST_F(DevicePostureTest, AssertionFromAnUntrustedIssuerIsRefused) {
  // Signed by a key the MDM does not hold.
  auto rogue = make_ec("P-256");
  auto r = verify(sign(claims(), rogue.get()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "posture_invalid");
  // Signed by the MDM key but claiming another issuer.
  auto c = claims();
  c["iss"] = "https://other-mdm.example";
  r = verify(sign(c));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("jwt_issuer_not_allowed"), std::string::npos);
}

TEST_F(DevicePostureTest, PostureClaimsMustHaveTheirTypes) {
  for (const char* name : {"managed", "disk_encrypted", "edr_running", "os_patch_age_days"}) {
    auto c = claims();
    c[name] = "yes";
    EXPECT_EQ(verify(sign(c)).error().code, "posture_invalid") << name;
    c.erase(name);
    EXPECT_EQ(verify(sign(c)).error().code, "posture_invalid") << name;
  }
  auto c = claims();
  c["os_patch_age_days"] = -1;
  EXPECT_EQ(verify(sign(c)).error().code, "posture_invalid");
}

}  // namespace
}  // namespace ztgate::posture
