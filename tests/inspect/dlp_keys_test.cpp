#include "inspect/dlp_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ztgate::inspect {
namespace {

std::filesystem::path fresh(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("ztgate-dlp-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p;
}

TEST(DlpKeys, MadeOnFirstStartPrivateAndTheSameAfter) {
  auto path = fresh("dlp.key");
  auto first = load_or_create_dlp_keys(path.string());
  ASSERT_TRUE(first.ok()) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = load_or_create_dlp_keys(path.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->canary_key, first->canary_key);
  EXPECT_EQ(again->redact.hash_key, first->redact.hash_key);
  // The three keys differ: none can stand in for another.
  EXPECT_NE(first->canary_key, first->redact.hash_key);
  EXPECT_NE(first->redact.pseudonym_key, first->redact.hash_key);
  EXPECT_EQ(first->canary_key.size(), 32u);
}

TEST(DlpKeys, RefusesAKeyOthersCanReadOrThatIsNotHex) {
  auto path = fresh("open.key");
  ASSERT_TRUE(load_or_create_dlp_keys(path.string()).ok());
  ::chmod(path.c_str(), 0644);
  auto open = load_or_create_dlp_keys(path.string());
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code, "dlp_key_invalid");
  auto bad = fresh("bad.key");
  { std::ofstream(bad) << "not a key\n"; }
  ::chmod(bad.c_str(), 0600);
  EXPECT_FALSE(load_or_create_dlp_keys(bad.string()).ok());
}

TEST(DlpKeys, DerivationIsFixedPerSecret) {
  auto a = derive_dlp_keys(std::string(64, 'a'));
  auto b = derive_dlp_keys(std::string(64, 'a'));
  auto c = derive_dlp_keys(std::string(64, 'b'));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->canary_key, b->canary_key);  // every replica sharing the file agrees
  EXPECT_NE(a->canary_key, c->canary_key);
}

}  // namespace
}  // namespace ztgate::inspect
