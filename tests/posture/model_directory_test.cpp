#include "posture/model_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "posture_test_support.h"

namespace ztgate::posture {
namespace {

using testing::TempDir;

class ModelDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("config.json", R"({"hidden_size":4096})");
    dir_.write("tokenizer.json", R"({"vocab":{"a":1}})");
    dir_.write("weights/model-00001.safetensors", std::string(300000, 'w'));
    dir_.write("weights/model-00002.safetensors", std::string(200000, 'v'));
    auto m = build_manifest(dir_.str(), "acme/llm-8b", "3", "2026-11-24T02:50:00Z");
    ASSERT_TRUE(m.ok()) << m.error().message;
    manifest_ = *m;
  }
  std::vector<std::string> codes_and_paths() {
    auto r = check_directory(dir_.str(), manifest_);
    EXPECT_TRUE(r.ok());
    std::vector<std::string> out;
    for (const auto& p : r->problems) out.push_back(p.code + " " + p.path);
    return out;
  }
  TempDir dir_;
  ModelManifest manifest_;
};

TEST_F(ModelDirectoryTest, ManifestListsEveryFileSortedWithDigests) {
  ASSERT_EQ(manifest_.files.size(), 4u);
  EXPECT_EQ(manifest_.files[0].path, "config.json");
  EXPECT_EQ(manifest_.files[3].path, "weights/model-00002.safetensors");
  EXPECT_EQ(manifest_.files[3].size, 200000u);
  EXPECT_EQ(manifest_.files[3].sha256, sha256_hex(std::string(200000, 'v')));
  auto r = check_directory(dir_.str(), manifest_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->bytes_hashed, 500000u + 20 + 17);
}

TEST_F(ModelDirectoryTest, OneFlippedByteIsReportedAsChangedWithTheFileName) {
  {
    std::fstream f(dir_ / "weights/model-00001.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(123456);
    f.put('x');
  }
  auto r = check_directory(dir_.str(), manifest_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].code, "manifest_file_changed");
  EXPECT_EQ(r->problems[0].path, "weights/model-00001.safetensors");
  EXPECT_NE(r->problems[0].message.find("SHA-256"), std::string::npos);
}

TEST_F(ModelDirectoryTest, ExtraFileFailsUnlessAllowed) {
  dir_.write("tokenizer.json.orig", "swapped");
  EXPECT_EQ(codes_and_paths(), std::vector<std::string>{"manifest_file_extra tokenizer.json.orig"});
  DirectoryOptions allow;
  allow.allow_extra = true;
  EXPECT_TRUE(check_directory(dir_.str(), manifest_, allow)->ok());
}

TEST_F(ModelDirectoryTest, MissingAndResizedFilesAreEachReported) {
  std::filesystem::remove(dir_ / "tokenizer.json");
  dir_.write("config.json", "{}");
  EXPECT_EQ(codes_and_paths(), (std::vector<std::string>{"manifest_file_changed config.json",
                                                          "manifest_file_missing tokenizer.json"}));
}

TEST_F(ModelDirectoryTest, SymlinksAreRefusedNeverFollowed) {
  // A listed file replaced by a symlink to identical content is still refused.
  TempDir outside;
  outside.write("tok", R"({"vocab":{"a":1}})");
  std::filesystem::remove(dir_ / "tokenizer.json");
  std::filesystem::create_symlink(outside / "tok", dir_ / "tokenizer.json");
  // A symlinked directory is not entered.
  std::filesystem::create_directory_symlink(outside.str(), dir_ / "more");
  EXPECT_EQ(codes_and_paths(), (std::vector<std::string>{"manifest_symlink more",
                                                          "manifest_symlink tokenizer.json"}));
  auto build = build_manifest(dir_.str(), "m", "", "");
  ASSERT_FALSE(build.ok());
  EXPECT_EQ(build.error().code, "manifest_symlink");
}

TEST_F(ModelDirectoryTest, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ / "weights/pipe").c_str(), 0600), 0);
  EXPECT_EQ(codes_and_paths(), std::vector<std::string>{"manifest_file_special weights/pipe"});
}

TEST_F(ModelDirectoryTest, IgnoredPathsAreSkipped) {
  dir_.write("manifest.jws", "x");
  DirectoryOptions o;
  o.ignore = {"manifest.jws"};
  EXPECT_TRUE(check_directory(dir_.str(), manifest_, o)->ok());
  auto m = build_manifest(dir_.str(), "acme/llm-8b", "3", "2026-11-24T02:50:00Z", o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, manifest_);
}

TEST_F(ModelDirectoryTest, VerifyModelChecksSignatureThenFiles) {
  auto key = authn::SigningKey::generate();
  auto pub = parse_publisher_key(key->public_jwk_json());
  auto jws = sign_manifest(manifest_, *key);
  auto v = verify_model(dir_.str(), *jws, *pub);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->ok());
  auto other = authn::SigningKey::generate();
  auto forged = sign_manifest(manifest_, *other);
  EXPECT_EQ(verify_model(dir_.str(), *forged, *pub).error().code, "manifest_signature");
}

TEST(ModelDirectory, UnreadableOrEmptyDirectoryIsAnError) {
  TempDir dir;
  EXPECT_EQ(build_manifest(dir.str(), "m", "", "").error().code, "manifest_invalid");
  EXPECT_EQ(build_manifest(dir / "absent", "m", "", "").error().code, "manifest_io_error");
}

}  // namespace
}  // namespace ztgate::posture
