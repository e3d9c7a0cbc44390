#include "posture/file_digest.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "posture_test_support.h"

namespace ztgate::posture {
namespace {

using testing::TempDir;

TEST(FileDigest, MatchesKnownSha256Vectors) {
  TempDir dir;
  dir.write("empty", "");
  dir.write("abc", "abc");
  auto empty = digest_file(dir / "empty");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(empty->size, 0u);
  auto abc = digest_file(dir / "abc");
  ASSERT_TRUE(abc.ok());
  EXPECT_EQ(abc->hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abc"), abc->hex());
}

TEST(FileDigest, StreamsFilesLargerThanOneChunkIdenticallyToInMemoryHash) {
  TempDir dir;
  std::string big(3 * (1 << 20) + 12345, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  dir.write("big.bin", big);
  auto d = digest_file(dir / "big.bin");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size, big.size());
  EXPECT_EQ(d->hex(), sha256_hex(big));
}

TEST(FileDigest, RefusesFilesOverTheBound) {
  TempDir dir;
  dir.write("f", std::string(100, 'x'));
  EXPECT_EQ(digest_file(dir / "f", 99).error().code, "digest_too_large");
  EXPECT_TRUE(digest_file(dir / "f", 100).ok());
}

TEST(FileDigest, RefusesSymlinksDirectoriesAndFifosWithoutBlocking) {
  TempDir dir;
  dir.write("real", "data");
  std::filesystem::create_symlink(dir / "real", dir / "link");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(digest_file(dir / "link").error().code, "digest_not_regular");
  EXPECT_EQ(digest_file(dir.str()).error().code, "digest_not_regular");
  EXPECT_EQ(digest_file(dir / "fifo").error().code, "digest_not_regular");
  EXPECT_EQ(digest_file(dir / "absent").error().code, "digest_io_error");
}

}  // namespace
}  // namespace ztgate::posture
