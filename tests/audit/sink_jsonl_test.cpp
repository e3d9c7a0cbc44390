// JsonlSink: one sealed record per line, 0600, rotation by size keeping
// `keep` files, reopening after an external rename.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "audit/sinks/jsonl_sink.h"
#include "sink_test_support.h"

namespace ztgate::audit {
namespace {

namespace fs = std::filesystem;
using testing::sealed_records;

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(JsonlSinkTest, AppendsEachSealedRecordAsOneLineInAPrivateFile) {
  auto dir = testing::temp_dir("jsonl-append");
  auto sink = JsonlSink::open({"jsonl:local", (dir / "audit.jsonl").string(), 0, 3});
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto first = sealed_records(1, 3);
  auto second = sealed_records(4, 2);
  ASSERT_TRUE((*sink)->deliver(first).ok());
  ASSERT_TRUE((*sink)->deliver(second).ok());
  auto lines = lines_of(dir / "audit.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], first[0].text);
  EXPECT_EQ(lines[4], second[1].text);
  EXPECT_EQ(slurp(dir / "audit.jsonl").back(), '\n');
  struct stat st {};
  ASSERT_EQ(::stat((dir / "audit.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(JsonlSinkTest, AppendsToAnExistingFile) {
  auto dir = testing::temp_dir("jsonl-existing");
  { std::ofstream(dir / "a.jsonl") << "{\"earlier\":1}\n"; }
  auto sink = JsonlSink::open({"jsonl:a", (dir / "a.jsonl").string(), 0, 1});
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->deliver(sealed_records(1, 1)).ok());
  auto lines = lines_of(dir / "a.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "{\"earlier\":1}");
}

TEST(JsonlSinkTest, RotatesBySizeKeepingKeepFilesNewestFirst) {
  auto dir = testing::temp_dir("jsonl-rotate");
  auto records = sealed_records(1, 60);
  size_t max_line = 0;
  for (const auto& r : records) max_line = std::max(max_line, r.text.size() + 1);
  const uint64_t rotate = 4096;
  auto sink = JsonlSink::open({"jsonl:r", (dir / "audit.jsonl").string(), rotate, 2});
  ASSERT_TRUE(sink.ok());
  for (size_t i = 0; i < records.size(); i += 7) {
    std::vector<StoredRecord> batch(
        records.begin() + static_cast<long>(i),
        records.begin() + static_cast<long>(std::min(i + 7, records.size())));
    ASSERT_TRUE((*sink)->deliver(batch).ok());
  }
  // Only the current file and name.1, name.2 remain; none is over the bound.
  EXPECT_TRUE(fs::exists(dir / "audit.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "audit.jsonl.1"));
  EXPECT_TRUE(fs::exists(dir / "audit.jsonl.2"));
  EXPECT_FALSE(fs::exists(dir / "audit.jsonl.3"));
  for (const char* f : {"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"})
    EXPECT_LE(fs::file_size(dir / f), rotate) << f;
  // Read oldest to newest: a contiguous, ordered tail of the records ending with the last.
  std::vector<std::string> all;
  for (const char* f : {"audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"})
    for (auto& l : lines_of(dir / f)) all.push_back(l);
  ASSERT_GE(all.size(), 2 * (rotate / max_line));
  size_t offset = records.size() - all.size();
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], records[offset + i].text) << i;
  // A file was rotated only when the next record no longer fit.
  EXPECT_GT(fs::file_size(dir / "audit.jsonl.1") + max_line, rotate);
  EXPECT_GT(fs::file_size(dir / "audit.jsonl.2") + max_line, rotate);
}

TEST(JsonlSinkTest, ARecordLargerThanTheBoundGetsAFileOfItsOwn) {
  auto dir = testing::temp_dir("jsonl-big");
  auto sink = JsonlSink::open({"jsonl:b", (dir / "audit.jsonl").string(), 4096, 5});
  ASSERT_TRUE(sink.ok());
  auto records = sealed_records(1, 3);
  records[1].text = "{\"big\":\"" + std::string(10'000, 'x') + "\"}";
  ASSERT_TRUE((*sink)->deliver(records).ok());
  EXPECT_EQ(lines_of(dir / "audit.jsonl.2"), std::vector<std::string>{records[0].text});
  EXPECT_EQ(lines_of(dir / "audit.jsonl.1"), std::vector<std::string>{records[1].text});
  EXPECT_EQ(lines_of(dir / "audit.jsonl"), std::vector<std::string>{records[2].text});
}

TEST(JsonlSinkTest, ReopensThePathAfterAnExternalRename) {
  auto dir = testing::temp_dir("jsonl-external");
  auto sink = JsonlSink::open({"jsonl:e", (dir / "audit.jsonl").string(), 0, 1});
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->deliver(sealed_records(1, 1)).ok());
  fs::rename(dir / "audit.jsonl", dir / "moved.jsonl");
  ASSERT_TRUE((*sink)->deliver(sealed_records(2, 1)).ok());
  EXPECT_EQ(lines_of(dir / "moved.jsonl").size(), 1u);
  ASSERT_EQ(lines_of(dir / "audit.jsonl").size(), 1u);
  EXPECT_NE(lines_of(dir / "audit.jsonl")[0].find("\"uid\":\"2\""), std::string::npos);
}

TEST(JsonlSinkTest, RefusesARecordWithALineBreakWithoutWritingAnything) {
  auto dir = testing::temp_dir("jsonl-newline");
  auto sink = JsonlSink::open({"jsonl:n", (dir / "audit.jsonl").string(), 0, 1});
  ASSERT_TRUE(sink.ok());
  auto records = sealed_records(1, 2);
  records[1].text = "{\"a\":\n1}";
  auto delivered = (*sink)->deliver(records);
  ASSERT_FALSE(delivered.ok());
  EXPECT_EQ(delivered.error().code, "audit_sink_record");
  EXPECT_EQ(fs::file_size(dir / "audit.jsonl"), 0u);
}

TEST(JsonlSinkTest, RefusesBadOptions) {
  auto dir = testing::temp_dir("jsonl-bad");
  EXPECT_EQ(JsonlSink::open({"jsonl:x", (dir / "a").string(), 0, 0}).error().code,
            "audit_sink_config");
  EXPECT_EQ(JsonlSink::open({"jsonl:x", (dir / "a").string(), 100, 1}).error().code,
            "audit_sink_config");
  EXPECT_EQ(JsonlSink::open({"jsonl:x", (dir / "a").string(), 0, kMaxJsonlKeep + 1}).error().code,
            "audit_sink_config");
  EXPECT_EQ(JsonlSink::open({"jsonl:x", (dir / "missing" / "a").string(), 0, 1}).error().code,
            "audit_sink_io");
  EXPECT_EQ(JsonlSink::open({"jsonl:x", dir.string(), 0, 1}).error().code,
            "audit_sink_io");  // a directory
}

}  // namespace
}  // namespace ztgate::audit
