#include "store/sqlite.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace ztgate::store {
namespace {

TEST(Sqlite, RoundTripsTextIntegersAndBlobs) {
  auto db = Db::open(":memory:");
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, b BLOB)"));
  auto insert = db->prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(insert);
  std::string blob("a\0b", 3);
  insert->bind(1, "key").bind(2, int64_t{-9007199254740993}).bind_blob(3, blob);
  ASSERT_TRUE(insert->run());
  auto select = db->prepare("SELECT k, n, b FROM t");
  ASSERT_TRUE(select);
  auto row = select->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(select->text(0), "key");
  EXPECT_EQ(select->int64(1), -9007199254740993);
  EXPECT_EQ(select->text(2), blob);
  EXPECT_FALSE(*select->step());
}

TEST(Sqlite, ConstraintViolationIsAValueWithItsOwnCode) {
  auto db = Db::open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES ('a')"));
  auto again = db->exec("INSERT INTO t VALUES ('a')");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "store_constraint");
  auto bad = db->prepare("SELEC nonsense");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "store_error");
}

TEST(Sqlite, UncommittedTransactionRollsBack) {
  auto db = Db::open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (k TEXT)"));
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES ('lost')"));
  }
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES ('kept')"));
    ASSERT_TRUE(tx->commit());
  }
  auto count = db->prepare("SELECT group_concat(k) FROM t");
  ASSERT_TRUE(count && *count->step());
  EXPECT_EQ(count->text(0), "kept");
}

TEST(Sqlite, DataVersionMovesWhenAnotherConnectionWrites) {
  auto dir = std::filesystem::temp_directory_path() / ("ztgate-sqlite-" + std::to_string(::getpid()));
  ASSERT_TRUE(ensure_private_dir(dir.string()));
  auto path = (dir / "v.db").string();
  auto a = Db::open(path);
  auto b = Db::open(path);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->exec("CREATE TABLE IF NOT EXISTS t (k TEXT)"));
  auto before = b->data_version();
  ASSERT_TRUE(before);
  ASSERT_TRUE(a->exec("INSERT INTO t VALUES ('x')"));
  auto after = b->data_version();
  ASSERT_TRUE(after);
  EXPECT_NE(*before, *after);
  EXPECT_EQ(std::filesystem::status(dir).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  // A loosened directory is tightened again.
  std::filesystem::permissions(dir, std::filesystem::perms::all);
  ASSERT_TRUE(ensure_private_dir(dir.string()));
  EXPECT_EQ(std::filesystem::status(dir).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ztgate::store
