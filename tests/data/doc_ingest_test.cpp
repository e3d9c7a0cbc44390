#include "data/doc_ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/catalog_jsonl.h"
#include "data/doc_index.h"

namespace ztgate::data {
namespace {

namespace fs = std::filesystem;

class DocIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("ztgate-ingest-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "docs");
    options_.from = (base_ / "docs").string();
    options_.index_dir = (base_ / "index").string();
  }
  void TearDown() override { fs::remove_all(base_); }

  void write(const std::string& rel, const std::string& text) {
    fs::path p = base_ / "docs" / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void doc(const std::string& rel, const std::string& text, const std::string& meta) {
    write(rel, text);
    write(rel + ".meta.json", meta);
  }
  IngestReport ingest() {
    auto r = ingest_folder(options_);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : IngestReport{};
  }
  std::unique_ptr<DocIndex> index() {
    auto i = DocIndex::open(options_.index_dir + "/index.db", true);
    EXPECT_TRUE(i) << i.error().message;
    return i ? std::move(*i) : nullptr;
  }
  std::string catalog() {
    std::ifstream in(options_.index_dir + "/catalog.jsonl");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  fs::path base_;
  IngestOptions options_;
};

constexpr const char* kMeta = R"({"readers":["group:staff"],"classification":"internal","tenant":"acme"})";

TEST_F(DocIngestTest, IndexesFilesWithSidecarsAndWritesTheirCatalogLines) {
  doc("a/guide.md", "# The guide\n\nhow to file expenses", kMeta);
  doc("page.html", "<html><head><title>Page &amp; co</title><script>var secret=1;</script></head>"
                   "<body><!-- hidden --><p>expenses&nbsp;page</p></body></html>",
      R"({"id":"page","summary":"A page.","owner":"alice","classification":"public","tenant":"acme"})");
  doc("notes.txt", "plain expenses notes", kMeta);
  write("image.png", "not text");
  auto r = ingest();
  EXPECT_EQ(r.documents, 3u);
  EXPECT_EQ(r.added, 3u);
  EXPECT_EQ(r.ignored, 1u);
  EXPECT_TRUE(r.refused.empty());
  auto i = index();
  ASSERT_TRUE(i);
  auto page = i->get("page");
  ASSERT_TRUE(page && *page);
  EXPECT_EQ((*page)->title, "Page & co");
  EXPECT_EQ((*page)->summary, "A page.");
  EXPECT_EQ((*page)->text.find("secret"), std::string::npos);
  EXPECT_EQ((*page)->text.find("hidden"), std::string::npos);
  EXPECT_NE((*page)->text.find("expenses page"), std::string::npos);
  auto guide = i->get("a/guide.md");  // the default id: the path under the folder
  ASSERT_TRUE(guide && *guide);
  EXPECT_EQ((*guide)->title, "The guide");
  EXPECT_EQ((*guide)->source_path, "a/guide.md");
  auto hits = i->search("expenses", 10);
  ASSERT_TRUE(hits);
  EXPECT_EQ(hits->size(), 3u);
  // The catalog lines parse, and each document's fingerprint is the index's.
  auto parsed = parse_catalog_jsonl(catalog(), ClassificationScale());
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->changes.size(), 3u);
  for (const auto& c : parsed->changes) {
    const auto& d = std::get<DocumentRecord>(c);
    auto got = i->get(d.id);
    ASSERT_TRUE(got && *got) << d.id;
    EXPECT_EQ((*got)->acl, acl_fingerprint(d)) << d.id;
  }
}

TEST_F(DocIngestTest, RefusesWhatItCannotLabelOrRead) {
  write("unlabeled.txt", "no sidecar");
  doc("bad-acl.txt", "text", R"({"readers":["eng"],"classification":"internal"})");
  doc("bad-label.txt", "text", R"({"classification":"top-secret"})");
  doc("not-json.txt", "text", "{");
  doc("kind.txt", "text", R"({"kind":"group"})");
  doc("big.txt", std::string(2000, 'a'), kMeta);
  doc("latin1.txt", "caf\xE9", kMeta);
  doc("dup1.txt", "one", R"({"id":"same","classification":"public"})");
  doc("dup2.txt", "two", R"({"id":"same","classification":"public"})");
  doc("ok.txt", "fine", kMeta);
  options_.max_document_bytes = 1000;
  auto r = ingest();
  EXPECT_EQ(r.documents, 2u);  // ok.txt and the first "same"
  ASSERT_EQ(r.refused.size(), 8u);
  std::string all;
  for (const auto& s : r.refused) all += s + "\n";
  for (const char* expected : {"unlabeled.txt: no metadata sidecar", "bad-acl.txt: the sidecar: line 1", "bad-label.txt",
                               "not-json.txt: the sidecar is not a JSON object", "kind.txt", "big.txt: 2000 bytes",
                               "latin1.txt: not UTF-8", "dup2.txt: id \"same\" is already taken by dup1.txt"})
    EXPECT_NE(all.find(expected), std::string::npos) << expected << " in\n" << all;
}

TEST_F(DocIngestTest, ASidecarWithoutClassificationGetsTheMostRestrictedLabel) {
  doc("x.txt", "text", R"({"readers":["group:staff"]})");
  ingest();
  auto parsed = parse_catalog_jsonl(catalog(), ClassificationScale());
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->changes.size(), 1u);
  EXPECT_EQ(std::get<DocumentRecord>(parsed->changes[0]).classification, 3);  // restricted
}

TEST_F(DocIngestTest, SymlinksOutOfTheFolderAreRefused) {
  fs::create_directories(base_ / "outside");
  std::ofstream(base_ / "outside" / "secret.txt") << "secret";
  std::ofstream(base_ / "outside" / "secret.txt.meta.json") << kMeta;
  fs::create_symlink(base_ / "outside" / "secret.txt", base_ / "docs" / "link.txt");
  write("link.txt.meta.json", kMeta);
  doc("inside.txt", "inside", kMeta);
  fs::create_symlink(base_ / "docs" / "inside.txt", base_ / "docs" / "alias.txt");
  write("alias.txt.meta.json", R"({"id":"alias","classification":"public"})");
  fs::create_directory_symlink(base_ / "outside", base_ / "docs" / "outdir");
  auto r = ingest();
  EXPECT_EQ(r.documents, 2u);  // inside.txt and its alias inside the folder
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0], "link.txt: a symlink leading out of the folder");
  auto i = index();
  ASSERT_TRUE(i);
  auto hits = i->search("secret", 10);
  ASSERT_TRUE(hits);
  EXPECT_TRUE(hits->empty());
}

TEST_F(DocIngestTest, ReingestUpdatesChangedAndRemovesDeletedFiles) {
  doc("a.txt", "apples", kMeta);
  doc("b.txt", "bananas", kMeta);
  auto first = ingest();
  EXPECT_EQ(first.added, 2u);
  EXPECT_TRUE(first.catalog_written);
  auto again = ingest();
  EXPECT_EQ(again.unchanged, 2u);
  EXPECT_EQ(again.added + again.updated + again.removed, 0u);
  EXPECT_FALSE(again.catalog_written);  // the same lines: the file is left alone (no reload)
  doc("a.txt", "cherries", kMeta);
  fs::remove(base_ / "docs" / "b.txt");
  auto third = ingest();
  EXPECT_EQ(third.updated, 1u);
  EXPECT_EQ(third.removed, 1u);
  EXPECT_EQ(third.documents, 1u);
  EXPECT_TRUE(third.catalog_written);
  EXPECT_EQ(catalog().find("b.txt"), std::string::npos);
  auto i = index();
  ASSERT_TRUE(i);
  EXPECT_TRUE(i->search("bananas", 10)->empty());
  EXPECT_TRUE(i->search("apples", 10)->empty());
  EXPECT_EQ(i->search("cherries", 10)->size(), 1u);
  // A changed ACL alone is an update too (its fingerprint moves with it).
  write("a.txt.meta.json", R"({"readers":["group:finance"],"classification":"internal","tenant":"acme"})");
  EXPECT_EQ(ingest().updated, 1u);
}

TEST(HtmlText, DropsMarkupAndKeepsText) {
  std::string title;
  EXPECT_EQ(html_text("<p>a &lt;b&gt; <b>c</b></p><style>x{}</style><SCRIPT>evil()</SCRIPT>d", &title), "a <b> c d");
  EXPECT_EQ(html_text("<title>T</title>unterminated <p"), "unterminated ");
  EXPECT_EQ(html_text("<!-- never closed"), "");
  EXPECT_EQ(html_text("<script>never closed"), "");
}

}  // namespace
}  // namespace ztgate::data
