// The retrieval section of ztgate.yaml (retrieval_config.h): defaults,
// paths relative to the file, bounds, the classification scale, unknown keys.
#include <gtest/gtest.h>

#include "config/gateway_config.h"

namespace ztgate::config {
namespace {

Result<GatewayConfig> parse(const std::string& retrieval) {
  return parse_gateway_config("data_dir: data\n" + retrieval, "ztgate.yaml", "/etc/ztgate");
}

TEST(RetrievalConfig, DefaultsWhenAbsent) {
  auto c = parse("");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->retrieval.documents.empty());
  EXPECT_EQ(c->retrieval.classifications, (std::vector<std::string>{"public", "internal", "confidential", "restricted"}));
  EXPECT_EQ(c->retrieval.max_candidates, 1000);
  EXPECT_EQ(c->retrieval.sensitive_from, "confidential");
}

TEST(RetrievalConfig, ReadsFilesScaleAndBoundsAndWatchesTheFiles) {
  auto c = parse("retrieval:\n  documents: [docs.jsonl, /abs/more.jsonl]\n  classifications: [open, secret]\n"
                 "  max_candidates: 50\n  max_documents: 1000\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->retrieval.documents, (std::vector<std::string>{"/etc/ztgate/docs.jsonl", "/abs/more.jsonl"}));
  EXPECT_EQ(c->retrieval.classifications, (std::vector<std::string>{"open", "secret"}));
  EXPECT_EQ(c->retrieval.max_candidates, 50);
  EXPECT_EQ(c->retrieval.max_documents, 1000);
  EXPECT_EQ(c->retrieval.sensitive_from, "secret") << "a scale without confidential: its highest label";
  auto watched = watched_files(*c);
  EXPECT_NE(std::find(watched.begin(), watched.end(), "/etc/ztgate/docs.jsonl"), watched.end());
}

TEST(RetrievalConfig, RefusesBadValuesAndUnknownKeys) {
  for (const char* bad : {"retrieval: { max_candidates: 0 }\n", "retrieval: { max_candidates: 100000 }\n",
                          "retrieval: { classifications: [a, a] }\n", "retrieval: { classifications: [] }\n",
                          "retrieval: { documentz: [x] }\n", "retrieval: { sensitive_from: secret }\n"}) {
    auto c = parse(bad);
    EXPECT_FALSE(c) << bad;
    if (!c) {
      EXPECT_NE(c.error().message.find("retrieval"), std::string::npos) << c.error().message;
    }
  }
}

}  // namespace
}  // namespace ztgate::config
