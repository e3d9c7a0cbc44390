#include "posture/model_manifest.h"

#include <gtest/gtest.h>

#include "../authn/test_keys.h"
#include "authn/base64url.h"

namespace ztgate::posture {
namespace {

const std::string kHexA(64, 'a');
const std::string kHexB(64, 'b');

ModelManifest sample() {
  return ModelManifest{"acme/llm-8b",
                       "3",
                       "2026-11-24T02:50:00Z",
                       {{"config.json", 10, kHexA}, {"weights/model-00001.safetensors", 1 << 20, kHexB}}};
}

TEST(ModelManifest, CanonicalFormRoundTrips) {
  std::string text = serialize_manifest(sample());
  EXPECT_EQ(text,
            R"({"format":"ztgate-model-manifest/1","model":"acme/llm-8b","version":"3",)"
            R"("created_at":"2026-11-24T02:50:00Z","files":[{"path":"config.json","size":10,"sha256":")" +
                kHexA + R"("},{"path":"weights/model-00001.safetensors","size":1048576,"sha256":")" + kHexB +
                R"("}]})");
  auto back = parse_manifest(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, sample());
}

TEST(ModelManifest, UnsafePathsAreRefused) {
  for (const char* p : {"../etc/passwd", "a/../../b", "/abs", "a//b", "./a", "a/.", "", "a\\b", "a\nb"})
    EXPECT_EQ(check_manifest_path(p).error().code, "manifest_path_unsafe") << p;
  EXPECT_TRUE(check_manifest_path("weights/shard-1.bin").ok());
  EXPECT_TRUE(check_manifest_path("..hidden/x..y").ok());
}

TEST(ModelManifest, HandEditedDotDotPathIsRefusedOnParse) {
  std::string text = serialize_manifest(sample());
  text.replace(text.find("config.json"), 11, "../config.j");
  EXPECT_EQ(parse_manifest(text).error().code, "manifest_path_unsafe");
}

TEST(ModelManifest, DuplicateOrUnsortedFilesAreRefused) {
  ModelManifest m = sample();
  m.files[1].path = m.files[0].path;
  EXPECT_EQ(parse_manifest(serialize_manifest(m)).error().code, "manifest_invalid");
  EXPECT_EQ(normalize_manifest(m).error().code, "manifest_invalid");
  m = sample();
  std::swap(m.files[0], m.files[1]);
  EXPECT_EQ(parse_manifest(serialize_manifest(m)).error().code, "manifest_invalid");
  ASSERT_TRUE(normalize_manifest(m).ok());
  EXPECT_EQ(m, sample());
}

TEST(ModelManifest, StrictShape) {
  EXPECT_EQ(parse_manifest("[]").error().code, "manifest_invalid");
  EXPECT_EQ(parse_manifest("{").error().code, "manifest_invalid");
  std::string text = serialize_manifest(sample());
  std::string extra = text;
  extra.insert(1, R"("extra":1,)");
  EXPECT_EQ(parse_manifest(extra).error().code, "manifest_invalid");
  std::string upper = text;
  upper.replace(upper.find(kHexA), 64, std::string(64, 'A'));
  EXPECT_EQ(parse_manifest(upper).error().code, "manifest_invalid");
  std::string negative = text;
  negative.replace(negative.find("\"size\":10"), 9, "\"size\":-1");
  EXPECT_EQ(parse_manifest(negative).error().code, "manifest_invalid");
  std::string repeated = text;
  repeated.insert(repeated.find("\"size\":10"), R"("path":"../escape",)");
  EXPECT_EQ(parse_manifest(repeated).error().code, "manifest_invalid");
  std::string wrong_format = text;
  wrong_format.replace(wrong_format.find("/1"), 2, "/2");
  EXPECT_EQ(parse_manifest(wrong_format).error().code, "manifest_invalid");
}

class ManifestSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = authn::SigningKey::generate();
    ASSERT_TRUE(k.ok());
    key_ = std::make_unique<authn::SigningKey>(std::move(*k));
    auto pub = parse_publisher_key(key_->public_jwk_json());
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    publisher_ = std::move(*pub);
  }
  std::unique_ptr<authn::SigningKey> key_;
  authn::Jwk publisher_;
};

TEST_F(ManifestSignatureTest, SignedManifestVerifiesWithThePublisherKey) {
  auto jws = sign_manifest(sample(), *key_);
  ASSERT_TRUE(jws.ok());
  auto v = verify_manifest_signature(*jws, publisher_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->manifest, sample());
  EXPECT_EQ(v->kid, key_->kid());
  EXPECT_EQ(v->sha256.size(), 64u);
}

TEST_F(ManifestSignatureTest, PemPublisherKeyHasTheSameKid) {
  auto pem = parse_publisher_key(authn::testing::public_pem(publisher_.key.get()));
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_EQ(pem->kid, key_->kid());
  auto jws = sign_manifest(sample(), *key_);
  EXPECT_TRUE(verify_manifest_signature(*jws, *pem).ok());
}

TEST_F(ManifestSignatureTest, SignatureByAnotherKeyIsRefused) {
  auto other = authn::SigningKey::generate();
  auto jws = sign_manifest(sample(), *other);
  auto v = verify_manifest_signature(*jws, publisher_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "manifest_signature");
  // Same forgery without a kid to give it away: the signature check catches it.
  auto ed = authn::testing::make_ed25519();
  std::string forged = authn::testing::sign_compact(
      ed.get(), "EdDSA", R"({"alg":"EdDSA","typ":"ztgate-model-manifest+jws"})", serialize_manifest(sample()));
  EXPECT_EQ(verify_manifest_signature(forged, publisher_).error().code, "manifest_signature");
}

TEST_F(ManifestSignatureTest, TamperedPayloadOrWrongHeaderIsRefused) {
  auto jws = *sign_manifest(sample(), *key_);
  size_t d1 = jws.find('.'), d2 = jws.rfind('.');
  ModelManifest changed = sample();
  changed.files[0].size = 11;
  std::string swapped = jws.substr(0, d1 + 1) + authn::base64url_encode(serialize_manifest(changed)) + jws.substr(d2);
  EXPECT_EQ(verify_manifest_signature(swapped, publisher_).error().code, "manifest_signature");
  // A genuine signature over a non-canonical payload is still refused.
  auto ed = authn::testing::make_ed25519();
  auto pub = parse_publisher_key(authn::testing::public_jwk(ed.get(), "p"));
  ASSERT_TRUE(pub.ok());
  std::string spaced = serialize_manifest(sample());
  spaced.insert(1, " ");
  std::string noncanon = authn::testing::sign_compact(
      ed.get(), "EdDSA", R"({"alg":"EdDSA","typ":"ztgate-model-manifest+jws","kid":"p"})", spaced);
  auto r = verify_manifest_signature(noncanon, *pub);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("canonical"), std::string::npos);
  std::string wrong_typ = authn::testing::sign_compact(
      ed.get(), "EdDSA", R"({"alg":"EdDSA","typ":"JWT","kid":"p"})", serialize_manifest(sample()));
  EXPECT_EQ(verify_manifest_signature(wrong_typ, *pub).error().code, "manifest_signature");
  EXPECT_EQ(verify_manifest_signature("a.b", *pub).error().code, "manifest_signature");
}

TEST(PublisherKey, OnlyEd25519IsAccepted) {
  auto ec = authn::testing::make_ec("P-256");
  EXPECT_EQ(parse_publisher_key(authn::testing::public_jwk(ec.get(), "e")).error().code, "manifest_key_invalid");
  EXPECT_EQ(parse_publisher_key(authn::testing::public_pem(ec.get())).error().code, "manifest_key_invalid");
  EXPECT_EQ(parse_publisher_key("garbage").error().code, "manifest_key_invalid");
}

}  // namespace
}  // namespace ztgate::posture
