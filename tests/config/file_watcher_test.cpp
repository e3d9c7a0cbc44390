// FileWatcher (file_watcher.h): rewrite in place, rename over, delete,
// create; one report per change; reset() to another set.
#include "config/file_watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace ztgate::config {
namespace {

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-watch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void write(const std::string& file, const std::string& text) { std::ofstream(file) << text; }
  // Moves the mtime by a whole second: same-size rewrites on coarse clocks
  // must still be seen.
  static void bump_mtime(const std::string& file, long seconds) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    times[1].tv_sec += seconds;
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  }
  std::filesystem::path dir_;
};

TEST_F(FileWatcherTest, NothingChangedInitially) {
  write(path("a"), "one");
  FileWatcher w({path("a"), path("missing")});
  EXPECT_FALSE(w.changed());
  EXPECT_FALSE(w.changed());
}

TEST_F(FileWatcherTest, RewriteWithSameSizeIsSeenOnceThroughMtime) {
  write(path("a"), "aaaa");
  FileWatcher w({path("a")});
  write(path("a"), "bbbb");
  bump_mtime(path("a"), 1);
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());  // reported once
}

TEST_F(FileWatcherTest, RewriteWithAnotherSizeIsSeen) {
  write(path("a"), "short");
  FileWatcher w({path("a")});
  write(path("a"), "a longer content");
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
}

TEST_F(FileWatcherTest, RenameOverIsSeenThroughTheNewInode) {
  write(path("a"), "same");
  FileWatcher w({path("a")});
  write(path("a.tmp"), "same");
  // Same size and the same mtime as the original: only the inode differs.
  struct stat st {};
  ASSERT_EQ(::stat(path("a").c_str(), &st), 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path("a.tmp").c_str(), times, 0), 0);
  ASSERT_EQ(std::rename(path("a.tmp").c_str(), path("a").c_str()), 0);
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
}

TEST_F(FileWatcherTest, DeleteAndCreateAreSeen) {
  write(path("a"), "x");
  FileWatcher w({path("a"), path("b")});
  std::filesystem::remove(path("a"));
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
  write(path("b"), "new");
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
}

TEST_F(FileWatcherTest, SymlinksAreFollowed) {
  write(path("v1"), "one");
  write(path("v2"), "two!");
  std::filesystem::create_symlink(path("v1"), path("link"));
  FileWatcher w({path("link")});
  std::filesystem::remove(path("link"));
  std::filesystem::create_symlink(path("v2"), path("link"));
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
}

TEST_F(FileWatcherTest, ResetWatchesTheNewSetFromNow) {
  write(path("a"), "a");
  write(path("b"), "b");
  FileWatcher w({path("a")});
  write(path("b"), "b changed");
  w.reset({path("b")});
  EXPECT_FALSE(w.changed());  // b's state at reset() is the baseline
  write(path("a"), "a changed, not watched any more");
  EXPECT_FALSE(w.changed());
  write(path("b"), "b changed again, longer");
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
}

// A write that lands while a reload runs (after changed() reported the
// change the reload reads, before reset() with the set it loaded) is a
// change still to report: the reload read the older text.
TEST_F(FileWatcherTest, AWriteDuringAReloadIsReportedAfterReset) {
  write(path("a"), "one");
  write(path("b"), "b");
  FileWatcher w({path("a")});
  write(path("a"), "two, longer");
  EXPECT_TRUE(w.changed());  // the reload starts and reads "two, longer"
  write(path("a"), "three, longer still");  // ... and this lands meanwhile
  w.reset({path("a"), path("b")});  // the reload is done; b is new to the set
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.changed());
}

}  // namespace
}  // namespace ztgate::config
