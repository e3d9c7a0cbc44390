#include "posture/model_registry.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <atomic>
#include <fstream>
#include <thread>

#include "posture/model_directory.h"
#include "posture_test_support.h"

namespace ztgate::posture {
namespace {

using testing::TempDir;

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_.write("config.json", "{}");
    weights_.write("model.safetensors", std::string(4096, 'm'));
    auto key = authn::SigningKey::generate();
    ASSERT_TRUE(key.ok());
    auto m = build_manifest(weights_.str(), "acme/llm", "7", "2026-11-24T00:00:00Z");
    ASSERT_TRUE(m.ok());
    etc_.write("manifest.jws", *sign_manifest(*m, *key));
    etc_.write("publisher.pub.jwk", key->public_jwk_json());
    config_ = ModelConfig{"acme/llm", weights_.str(), etc_ / "manifest.jws",
                          etc_ / "publisher.pub.jwk", 24 * 3600, false, "", ""};
  }
  ModelRegistry registry() {
    return ModelRegistry({config_}, [this] { return now_; });
  }
  TempDir weights_, etc_;
  ModelConfig config_;
  int64_t now_ = 1'800'000'000;
};

TEST_F(ModelRegistryTest, UnverifiedModelIsUntrusted) {
  auto r = registry();
  EXPECT_FALSE(r.integrity_verified("acme/llm", now_));
  EXPECT_FALSE(r.integrity_verified("unknown", now_));
  EXPECT_EQ(r.verify("unknown").error().code, "model_unknown");
}

TEST_F(ModelRegistryTest, VerifiedModelStaysTrustedUntilTheReverifyIntervalPasses) {
  auto r = registry();
  EXPECT_EQ(r.verify_all(), 1u);
  EXPECT_TRUE(r.integrity_verified("acme/llm", now_));
  EXPECT_TRUE(r.integrity_verified("acme/llm", now_ + 24 * 3600));
  EXPECT_FALSE(r.integrity_verified("acme/llm", now_ + 24 * 3600 + 1));
  auto attrs = r.entity_attributes("acme/llm", now_ + 10);
  EXPECT_EQ(attrs.at("integrity_verified"), true);
  EXPECT_EQ(attrs.at("manifest_version"), "7");
  EXPECT_EQ(attrs.at("manifest_sha256").as_string().size(), 64u);
  EXPECT_EQ(r.entity_attributes("acme/llm", now_ + 90000).at("integrity_verified"), false);
  // Re-verifying later renews trust.
  now_ += 90000;
  ASSERT_TRUE(r.verify("acme/llm")->verified);
  EXPECT_TRUE(r.integrity_verified("acme/llm", now_));
}

TEST_F(ModelRegistryTest, TamperedWeightsMakeTheModelUntrustedWithTheReason) {
  auto r = registry();
  ASSERT_EQ(r.verify_all(), 1u);
  weights_.write("model.safetensors", std::string(4095, 'm') + "M");
  now_ += 60;
  auto s = r.verify("acme/llm");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->verified);
  EXPECT_EQ(s->failure_code, "manifest_file_changed");
  EXPECT_NE(s->failure.find("model.safetensors"), std::string::npos);
  EXPECT_FALSE(r.integrity_verified("acme/llm", now_));
  EXPECT_EQ(r.entity_attributes("acme/llm", now_).at("integrity_verified"), false);
}

TEST_F(ModelRegistryTest, WrongPublisherKeyMakesTheModelUntrusted) {
  auto other = authn::SigningKey::generate();
  etc_.write("publisher.pub.jwk", other->public_jwk_json());
  auto r = registry();
  EXPECT_EQ(r.verify_all(), 0u);
  EXPECT_EQ(r.status("acme/llm")->failure_code, "manifest_signature");
  EXPECT_FALSE(r.integrity_verified("acme/llm", now_));
}

}  // namespace
}  // namespace ztgate::posture

namespace ztgate::posture {
namespace {

TEST_F(ModelRegistryTest, ReadsRunConcurrentlyWithVerification) {
  auto r = registry();
  std::atomic<bool> stop{false};
  std::atomic<size_t> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      while (!stop) {
        auto attrs = r.entity_attributes("acme/llm", 1'800'000'000);
        // Only ever a complete status: trusted ones carry their manifest digest.
        if (attrs.at("integrity_verified").as_bool()) {
          EXPECT_EQ(attrs.at("manifest_sha256").as_string().size(), 64u);
        }
        ++reads;
      }
    });
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(r.verify("acme/llm")->verified);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_TRUE(r.integrity_verified("acme/llm", now_));
}

}  // namespace
}  // namespace ztgate::posture
