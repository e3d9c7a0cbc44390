#include "data/doc_index.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/fts_query.h"

namespace ztgate::data {
namespace {

std::string temp_db(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ztgate-doc-index-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / (name + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

class DocIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_db(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto opened = DocIndex::open(path_, false);
    ASSERT_TRUE(opened) << opened.error().message;
    index_ = std::move(*opened);
  }
  void put(const std::vector<IndexedDocument>& docs) {
    ASSERT_TRUE(index_->begin());
    for (const auto& d : docs) ASSERT_TRUE(index_->upsert(d)) << d.id;
    ASSERT_TRUE(index_->commit());
  }
  std::vector<std::string> find(std::string_view q, size_t limit = 10) {
    auto hits = index_->search(q, limit);
    EXPECT_TRUE(hits) << hits.error().message;
    return hits ? ids(*hits) : std::vector<std::string>{};
  }
  std::string path_;
  std::unique_ptr<DocIndex> index_;
};

TEST(FtsQuery, QuotesEveryTermAndJoinsWithOr) {
  auto q = fts5_query("Gateway design, NEAR(x y) title:secret* AND NOT \"quoted\" -minus ^caret");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->match,
            "\"Gateway\" OR \"design\" OR \"NEAR\" OR \"x\" OR \"y\" OR \"title\" OR \"secret\" OR \"AND\" OR \"NOT\" OR "
            "\"quoted\" OR \"minus\" OR \"caret\"");
}

TEST(FtsQuery, KeepsNonAsciiWordsFoldsRepeatsAndBoundsTerms) {
  auto q = fts5_query("Café café CAFÉ cafe Cafe");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->terms, (std::vector<std::string>{"Café", "CAFÉ", "cafe"}));  // only ASCII letters fold
  auto many = fts5_query("a b c d e f", 1024, 3);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->terms.size(), 3u);
  auto long_term = fts5_query(std::string(100, 'x') + " é" + std::string(70, 'y'));
  ASSERT_TRUE(long_term);
  EXPECT_EQ(long_term->terms[0], std::string(kMaxTermBytes, 'x'));
  EXPECT_EQ(long_term->terms[1], "é" + std::string(kMaxTermBytes - 2, 'y'));
}

TEST(FtsQuery, RefusesWhatItCannotSearch) {
  EXPECT_EQ(fts5_query("").error().code, "query_empty");
  EXPECT_EQ(fts5_query("\"*()^:-+ ").error().code, "query_empty");
  EXPECT_EQ(fts5_query(std::string(1025, 'a')).error().code, "query_too_long");
  EXPECT_EQ(fts5_query("bad \xC0\xAF utf8").error().code, "query_invalid");
  EXPECT_EQ(fts5_query("cut \xE2\x82").error().code, "query_invalid");
  EXPECT_EQ(fts5_query("surrogate \xED\xA0\x80").error().code, "query_invalid");
}

TEST_F(DocIndexTest, RanksByBm25WithTitlesFirst) {
  put({{"body-once", "Notes", "", "the gateway is mentioned once among many other words here", "a.txt", "h1", ""},
       {"title", "Gateway design", "", "how it is built", "b.md", "h2", ""},
       {"body-often", "Notes", "", "gateway gateway gateway design", "c.txt", "h3", ""},
       {"other", "Budget", "", "numbers only", "d.txt", "h4", ""}});
  EXPECT_EQ(find("gateway"), (std::vector<std::string>{"title", "body-often", "body-once"}));
  // More matched terms rank higher.
  EXPECT_EQ(find("gateway design").front(), "title");
  EXPECT_EQ(find("budget numbers"), (std::vector<std::string>{"other"}));
  EXPECT_TRUE(find("absent").empty());
  auto hits = index_->search("gateway", 10);
  ASSERT_TRUE(hits);
  for (size_t i = 1; i < hits->size(); ++i) EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
}

TEST_F(DocIndexTest, QuerySyntaxFromAUserIsNeverFts5Syntax) {
  put({{"d1", "Alpha", "", "alpha beta", "a", "h", ""}, {"d2", "Gamma", "", "gamma NOT delta", "b", "h", ""}});
  // Each would be FTS5 syntax (column filter, NOT, NEAR, prefix, unbalanced
  // quote or parenthesis): all are plain words here, and none fails.
  for (std::string q : {"title:alpha", "alpha NOT beta", "NEAR(alpha beta)", "alph*", "\"alpha", "(alpha", "alpha)",
                        "text : gamma", "{title text}: alpha", "^alpha", "alpha AND", "OR", "-alpha", "alpha\"\" OR \"\"x"}) {
    auto hits = index_->search(q, 10);
    ASSERT_TRUE(hits) << q << ": " << hits.error().message;
  }
  EXPECT_EQ(find("alph*"), (std::vector<std::string>{}));  // no prefix search: "alph" is a word of its own
  EXPECT_EQ(find("title:alpha"), (std::vector<std::string>{"d1"}));  // the word "title" matches nothing
  EXPECT_EQ(find("NOT"), (std::vector<std::string>{"d2"}));          // a word, found in d2's text
}

TEST_F(DocIndexTest, UpdatesAndDeletesAreSeenBySearchAndGet) {
  put({{"d1", "Alpha", "s", "apples", "a.txt", "h1", ""}, {"d2", "Beta", "", "bananas", "b.txt", "h2", ""}});
  EXPECT_EQ(find("apples"), (std::vector<std::string>{"d1"}));
  put({{"d1", "Alpha", "s2", "cherries now", "a.txt", "h1b", ""}});
  EXPECT_TRUE(find("apples").empty());
  EXPECT_EQ(find("cherries"), (std::vector<std::string>{"d1"}));
  auto got = index_->get("d1");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->summary, "s2");
  EXPECT_EQ((*got)->hash, "h1b");
  ASSERT_TRUE(index_->begin());
  ASSERT_TRUE(index_->remove("d2"));
  ASSERT_TRUE(index_->commit());
  EXPECT_TRUE(find("bananas").empty());
  auto gone = index_->get("d2");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  auto listed = index_->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, (std::vector<std::pair<std::string, std::string>>{{"d1", "h1b"}}));
}

TEST_F(DocIndexTest, ABatchNotCommittedLeavesNothing) {
  ASSERT_TRUE(index_->begin());
  ASSERT_TRUE(index_->upsert({"d1", "Alpha", "", "apples", "a", "h", ""}));
  index_->rollback();
  EXPECT_TRUE(find("apples").empty());
}

TEST_F(DocIndexTest, BoundsHold) {
  IndexLimits small;
  small.max_document_bytes = 10;
  small.max_results = 2;
  auto path = temp_db("bounds");
  auto index = DocIndex::open(path, false, small);
  ASSERT_TRUE(index);
  ASSERT_TRUE((*index)->begin());
  EXPECT_EQ((*index)->upsert({"big", "t", "", std::string(11, 'a'), "p", "h", ""}).error().code, "document_too_large");
  EXPECT_EQ((*index)->upsert({"", "t", "", "a", "p", "h", ""}).error().code, "document_invalid");
  EXPECT_EQ((*index)->upsert({std::string(513, 'i'), "t", "", "a", "p", "h", ""}).error().code, "document_invalid");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*index)->upsert({"d" + std::to_string(i), "t", "", "word", "p", "h", ""}));
  ASSERT_TRUE((*index)->commit());
  auto hits = (*index)->search("word", 100);
  ASSERT_TRUE(hits);
  EXPECT_EQ(hits->size(), 2u);  // max_results
  EXPECT_EQ((*index)->search(std::string(2000, 'q'), 5).error().code, "query_too_long");
}

TEST_F(DocIndexTest, AReaderSeesCommittedBatchesOnly) {
  put({{"d1", "Alpha", "", "apples", "a", "h", ""}});
  auto reader = DocIndex::open(path_, true);
  ASSERT_TRUE(reader) << reader.error().message;
  ASSERT_TRUE(index_->begin());
  ASSERT_TRUE(index_->upsert({"d2", "Beta", "", "apples too", "b", "h", ""}));
  auto during = (*reader)->search("apples", 10);
  ASSERT_TRUE(during);
  EXPECT_EQ(ids(*during), (std::vector<std::string>{"d1"}));
  ASSERT_TRUE(index_->commit());
  auto after = (*reader)->search("apples", 10);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), 2u);
  EXPECT_FALSE((*reader)->begin());  // read-only
  auto missing = DocIndex::open("/nonexistent/dir/index.db", true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "index_unavailable");
}

}  // namespace
}  // namespace ztgate::data
