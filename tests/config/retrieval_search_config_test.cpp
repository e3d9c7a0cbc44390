// retrieval.search (retrieval_config.h): the retrieval proxy's index,
// bounds, purposes and external backend.
#include <gtest/gtest.h>

#include "config/gateway_config.h"

namespace ztgate::config {
namespace {

Result<GatewayConfig> parse(const std::string& search) {
  return parse_gateway_config("data_dir: data\nretrieval:\n  search:\n" + search, "ztgate.yaml", "/etc/ztgate");
}

TEST(RetrievalSearchConfig, DefaultsGiveADefaultPurposeAndNoBackend) {
  auto c = parse("    index: docs\n");
  ASSERT_TRUE(c) << c.error().message;
  const auto& s = c->retrieval.search;
  EXPECT_EQ(s.index, "/etc/ztgate/docs");
  EXPECT_EQ(s.default_k, 5);
  EXPECT_EQ(s.max_k, 50);
  EXPECT_EQ(s.overfetch, 4);
  EXPECT_FALSE(s.block_on_injection);
  EXPECT_TRUE(s.backend.url.empty());
  ASSERT_NE(s.purpose("default"), nullptr);
  EXPECT_EQ(s.purpose("default")->max_documents, 50);
  EXPECT_EQ(s.purpose("nope"), nullptr);
}

TEST(RetrievalSearchConfig, ReadsPurposesAndABackend) {
  auto c = parse(R"(    k: 3
    max_k: 10
    on_injection_deny: block
    purposes:
      - { name: triage, max_documents: 2, max_total_chars: 100, fields: [title, summary] }
    backend:
      url: http://127.0.0.1:9/search
      allow_plain_http: true
      timeout: 2s
      request: { query: q, k: size }
      response: { results: "", id: /_id, text: /body, title: "", summary: "", score: "" }
)");
  ASSERT_TRUE(c) << c.error().message;
  const auto& s = c->retrieval.search;
  EXPECT_EQ(s.default_k, 3);
  EXPECT_TRUE(s.block_on_injection);
  ASSERT_NE(s.purpose("triage"), nullptr);
  EXPECT_EQ(s.purpose("triage")->fields, (std::vector<std::string>{"title", "summary"}));
  ASSERT_NE(s.purpose("default"), nullptr) << "built in beside the named ones";
  EXPECT_EQ(s.backend.timeout_ms, 2000);
  EXPECT_EQ(s.backend.query_member, "q");
  EXPECT_EQ(s.backend.results, "");
  EXPECT_EQ(s.backend.id, "/_id");
}

TEST(RetrievalSearchConfig, RefusesBadValues) {
  for (const char* bad : {"    k: 0\n", "    max_k: 5\n    k: 6\n", "    on_injection_deny: shrug\n",
                          "    purposes: [ { name: p, fields: [text, attachments] } ]\n",
                          "    purposes: [ { name: p }, { name: p } ]\n", "    purposes: [ { max_documents: 1 } ]\n",
                          "    backend: { url: http://example.com/search }\n",
                          "    backend: { url: https://example.com/search, response: { id: _id } }\n",
                          "    backend: { url: https://example.com/search, response: { text: \"\" } }\n",
                          "    backend: { url: https://example.com/search, colour: red }\n", "    indexx: docs\n"}) {
    auto c = parse(bad);
    EXPECT_FALSE(c) << bad;
  }
}

}  // namespace
}  // namespace ztgate::config
