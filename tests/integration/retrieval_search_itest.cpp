// The retrieval proxy with the real binaries: `ztgate docs ingest` fills
// the index from examples/retrieval/docs, then `ztgate serve` answers
// POST /v1/retrieval/search for users (IdP JWTs from npm jose) and an agent
// acting for a user (a delegation token the real binary mints). Checked:
// only permitted documents come back, in the index's rank order; the
// document with an injected instruction is dropped by policy; @spotlight
// wraps; purposes and @minimize bound what goes out; a document the
// catalog no longer knows, or knows with another ACL than it was ingested
// with, never appears even when it is the best match; one audit record per
// call with its counts.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <set>
#include <thread>

#include "audit_records.h"
#include "child_process.h"
#include "data/doc_index.h"
#include "delegation_peer_issuers.h"
#include "itest_support.h"
#include "raw_http.h"
#include "retrieval_itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::http;
using itest::post;
using itest::run_process;

const std::string kExample = std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval";

// Architecture notes come wrapped (spotlighting) for everyone who reads them.
constexpr const char* kSpotlightPolicy = R"(
@id("wiki-design-docs-spotlighted")
@spotlight("delimit")
permit (principal is User, action == Action::"retrieve", resource is Document)
when { resource.tags.contains("design") && principal in resource.reader_groups };
)";

std::string config() {
  return std::string(R"(data_dir: data
gateway: { issuer: "urn:ztgate:itest", audience: ztgate, explain_denials: true }
listeners: [ { address: 127.0.0.1, port: 0 } ]
identity:
  issuers:
)") + itest::kPeerIssuers + R"(  delegation: { max_ttl: 10m, max_chain_depth: 3 }
  agents:
    - id: summarizer
      max_scopes: [docs:read, tickets:write]
policies:
  schema: )" + std::string(ZTGATE_SOURCE_DIR) + R"(/policies/ztgate.cedarschema
  files: [)" + kExample + "/policies.cedar, " + kExample + R"(/search-policies.cedar, spotlight.cedar]
retrieval:
  documents: [)" + kExample + R"(/documents.jsonl, data/docs/catalog.jsonl]
  search:
    index: data/docs
    k: 10
    purposes:
      - { name: triage, max_documents: 3, max_total_chars: 400, fields: [title, summary, text, classification] }
      - { name: brief, max_documents: 1, max_total_chars: 60, fields: [title, text] }
)";
}

class RetrievalSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(itest::fresh_work_dir("retrieval_search"));
    log_ = new std::string;
    auto setup = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                              "setup", dir_->string()});
    *log_ += setup.output;
    itest::write_file(*dir_ / "ztgate.yaml", config());
    itest::write_file(*dir_ / "spotlight.cedar", kSpotlightPolicy);
    std::string yaml = (*dir_ / "ztgate.yaml").string();
    auto ingest = run_process({ZTGATE_BINARY, "docs", "ingest", "--config", yaml, "--from", kExample + "/docs", "--json"});
    *log_ += ingest.output;
    ingest_ = new json::object;
    boost::system::error_code ec;
    json::value report = json::parse(ingest.output.substr(0, ingest.output.find('\n')), ec);
    if (!ec && report.is_object()) *ingest_ = report.as_object();
    std::string key = itest::create_key(*dir_ / "data", "indexer", "Service::\"indexer\"", *log_);
    if (!key.empty()) indexer_key_ = new std::string(key);
    // Exit 2: the example's unlabeled draft is refused, the rest indexed.
    setup_ok_ = setup.exit_code == 0 && ingest.exit_code == 2 && indexer_key_;
    if (!setup_ok_) return;
    server_ = new itest::ChildProcess(std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", yaml});
    std::string line = server_->wait_for_line("ztgate listening on ");
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete log_;
    delete ingest_;
    delete indexer_key_;
  }
  void SetUp() override { ASSERT_TRUE(setup_ok_) << "setup failed:\n" << *log_; }

  static std::string token(const std::string& name) { return itest::read_file(*dir_ / name); }

  static std::string agent_token(const std::vector<std::string>& scopes) { return itest::summarizer_for_alice(*dir_, scopes); }

  using Answer = itest::JsonAnswer;
  static Answer call(const std::string& path, const std::string& body, const std::string& auth) {
    return itest::call_json(port_, path, body, auth);
  }
  static Answer search(const std::string& auth, const std::string& query, const std::string& extra = "") {
    return call("/v1/retrieval/search", R"({"query":)" + json::serialize(json::value(query)) + extra + "}", auth);
  }
  static std::vector<std::string> ids(const Answer& a) {
    std::vector<std::string> out;
    if (!a.body.contains("results")) return out;
    for (const auto& r : a.body.at("results").as_array()) out.emplace_back(r.at("id").as_string());
    return out;
  }
  static int contains(const Answer& a, const std::string& id) {
    auto got = ids(a);
    return static_cast<int>(std::count(got.begin(), got.end(), id));
  }
  // The index's own ranking for the query, kept to `allowed`: what the
  // proxy must return, in this order.
  static std::vector<std::string> ranked(const std::string& query, const std::set<std::string>& allowed) {
    auto index = data::DocIndex::open((*dir_ / "data" / "docs" / "index.db").string(), true);
    EXPECT_TRUE(index);
    std::vector<std::string> out;
    if (!index) return out;
    auto hits = (*index)->search(query, 100);
    EXPECT_TRUE(hits);
    for (const auto& h : *hits)
      if (allowed.count(h.id)) out.push_back(h.id);
    return out;
  }
  static json::object record_with(const std::string& path, const json::value& value) {
    for (int attempt = 0; attempt < 40; ++attempt) {
      auto records = itest::audit_records(*dir_ / "data" / "audit.db");
      for (auto it = records.rbegin(); it != records.rend(); ++it)
        if (itest::member_at(*it, path) == value) return *it;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }

  static std::filesystem::path* dir_;
  static std::string* log_;
  static json::object* ingest_;
  static std::string* indexer_key_;
  static bool setup_ok_;
  static itest::ChildProcess* server_;
  static int port_;
};

std::filesystem::path* RetrievalSearchTest::dir_ = nullptr;
std::string* RetrievalSearchTest::log_ = nullptr;
json::object* RetrievalSearchTest::ingest_ = nullptr;
std::string* RetrievalSearchTest::indexer_key_ = nullptr;
bool RetrievalSearchTest::setup_ok_ = false;
itest::ChildProcess* RetrievalSearchTest::server_ = nullptr;
int RetrievalSearchTest::port_ = 0;

// What each may read of the example documents that mention "database"
// (examples/retrieval: groups nested, clearances, tenants).
const std::set<std::string> kAlice = {"kb-it-guide", "kb-gateway-architecture", "kb-incident-db-outage"};
const std::set<std::string> kBob = {"kb-it-guide", "kb-expense-guide"};
const std::set<std::string> kCarol = {"kb-it-guide", "kb-gateway-architecture", "kb-incident-db-outage", "kb-key-rotation"};

TEST_F(RetrievalSearchTest, IngestIndexedTheLabelledFilesAndRefusedTheUnlabelledOne) {
  EXPECT_EQ(ingest_->at("documents").as_int64(), 8);
  EXPECT_EQ(json::serialize(ingest_->at("refused")), R"x(["unlabeled-draft.txt: no metadata sidecar (unlabeled-draft.txt.meta.json)"])x");
}

TEST_F(RetrievalSearchTest, TwoUsersSeeOnlyWhatTheyMayReadInRankOrder) {
  auto alice = search(token("alice.jwt"), "database");
  ASSERT_EQ(alice.status, 200) << json::serialize(alice.body);
  EXPECT_EQ(ids(alice), ranked("database", kAlice));
  EXPECT_EQ(ids(alice).size(), 3u);
  auto bob = search(token("bob.jwt"), "database");
  ASSERT_EQ(bob.status, 200) << json::serialize(bob.body);
  EXPECT_EQ(ids(bob), ranked("database", kBob));
  EXPECT_EQ(ids(bob).size(), 2u);
  auto carol = search(token("carol.jwt"), "database");
  ASSERT_EQ(carol.status, 200) << json::serialize(carol.body);
  EXPECT_EQ(ids(carol), ranked("database", kCarol));
  // Scores come back best first; the default purpose returns the text.
  const auto& results = alice.body.at("results").as_array();
  for (size_t i = 1; i < results.size(); ++i)
    EXPECT_GE(results[i - 1].at("score").as_double(), results[i].at("score").as_double());
  for (const auto& r : results) EXPECT_FALSE(r.at("text").as_string().empty());
  // k bounds the results.
  auto one = search(token("carol.jwt"), "database", R"(,"k":1)");
  EXPECT_EQ(ids(one), std::vector<std::string>{ids(carol).front()});
}

TEST_F(RetrievalSearchTest, TheBestMatchIsNeverHandedOutWhenItIsDenied) {
  // The budget forecast matches best; neither alice (not finance) nor bob
  // (cleared internal, it is confidential) may read it.
  std::string q = "budget forecast 2027 licences reserve";
  ASSERT_EQ(ranked(q, {"kb-budget-forecast"}).size(), 1u);
  for (const char* who : {"alice.jwt", "bob.jwt"}) {
    auto a = search(token(who), q);
    ASSERT_EQ(a.status, 200) << json::serialize(a.body);
    EXPECT_EQ(contains(a, "kb-budget-forecast"), 0) << who;
  }
  auto rec = record_with("unmapped.details.query_bytes", json::value(static_cast<int64_t>(q.size())));
  ASSERT_FALSE(rec.empty());
  EXPECT_GE(itest::member_at(rec, "unmapped.details.denied").as_int64(), 1);
  // Another tenant's document: never, even to a user of the same groups.
  auto globex = search(token("carol.jwt"), "Globex managed service quarter");
  EXPECT_EQ(contains(globex, "kb-globex-roadmap"), 0);
}

TEST_F(RetrievalSearchTest, AnAgentGetsNoMoreThanItsUserAndNothingOutsideItsScope) {
  auto agent = search(agent_token({"docs:read"}), "database");
  ASSERT_EQ(agent.status, 200) << json::serialize(agent.body);
  EXPECT_EQ(ids(agent), ranked("database", kAlice));
  auto no_scope = search(agent_token({"tickets:write"}), "database");
  ASSERT_EQ(no_scope.status, 200) << json::serialize(no_scope.body);
  EXPECT_TRUE(ids(no_scope).empty());
}

TEST_F(RetrievalSearchTest, ADocumentWithAnInjectedInstructionIsDroppedByPolicy) {
  // The vendor notes are readable by engineering and match best, but hide
  // an instruction in an HTML comment: flagged as retrieved_doc, forbidden
  // by flagged-documents-never-reach-a-model.
  std::string q = "vendor connection pooler recommends";
  ASSERT_EQ(ranked(q, {"kb-vendor-notes"}).size(), 1u);
  auto carol = search(token("carol.jwt"), q);
  ASSERT_EQ(carol.status, 200) << json::serialize(carol.body);
  EXPECT_EQ(contains(carol, "kb-vendor-notes"), 0) << json::serialize(carol.body);
  auto rec = record_with("unmapped.details.query_bytes", json::value(static_cast<int64_t>(q.size())));
  ASSERT_FALSE(rec.empty());
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.dropped_for_content").as_int64(), 1);
  EXPECT_NE(json::serialize(rec).find("document kb-vendor-notes"), std::string::npos) << "the finding names its document";
}

TEST_F(RetrievalSearchTest, SpotlightWrapsWhatThePolicyAsksFor) {
  auto alice = search(token("alice.jwt"), "gateway architecture stages");
  ASSERT_EQ(alice.status, 200) << json::serialize(alice.body);
  ASSERT_FALSE(ids(alice).empty());
  const auto& first = alice.body.at("results").as_array()[0].as_object();
  EXPECT_EQ(first.at("id").as_string(), "kb-gateway-architecture");
  EXPECT_TRUE(first.at("spotlighted").as_bool());
  EXPECT_EQ(first.at("text").as_string().find("«untrusted-data nonce="), 0u) << first.at("text").as_string();
}

TEST_F(RetrievalSearchTest, PurposesAndMinimizeBoundWhatGoesOut) {
  // triage: confidential documents as summaries only (@minimize), 400
  // characters in all, the classification projected, no score or source.
  auto triage = search(token("alice.jwt"), "database", R"(,"purpose":"triage")");
  ASSERT_EQ(triage.status, 200) << json::serialize(triage.body);
  EXPECT_EQ(triage.body.at("purpose").as_string(), "triage");
  size_t chars = 0;
  bool saw_incident = false;
  for (const auto& v : triage.body.at("results").as_array()) {
    const auto& r = v.as_object();
    EXPECT_FALSE(r.contains("score"));
    EXPECT_FALSE(r.contains("source"));
    // The budget counts the documents' characters, not spotlighting's markers.
    for (const char* f : {"title", "summary", "text"})
      if (r.contains(f) && !r.contains("spotlighted")) {
        std::string s(r.at(f).as_string());
        chars += static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
      }
    if (r.at("id") == "kb-incident-db-outage") {
      saw_incident = true;
      EXPECT_EQ(r.at("classification").as_string(), "confidential");
      EXPECT_FALSE(r.contains("text")) << "summary only";
      EXPECT_FALSE(r.at("summary").as_string().empty());
    } else if (!r.contains("truncated")) {
      EXPECT_TRUE(r.contains("text"));
    }
  }
  EXPECT_TRUE(saw_incident);
  EXPECT_LE(chars, 400u);
  // brief: one document, 60 characters of title and text, cut.
  auto brief = search(token("alice.jwt"), "database", R"(,"purpose":"brief","k":5)");
  ASSERT_EQ(brief.status, 200) << json::serialize(brief.body);
  ASSERT_EQ(ids(brief).size(), 1u);
  const auto& r = brief.body.at("results").as_array()[0].as_object();
  EXPECT_TRUE(r.at("truncated").as_bool());
  EXPECT_FALSE(r.contains("summary"));
  EXPECT_LE(r.at("title").as_string().size() + r.at("text").as_string().size(), 60u);
  auto rec = record_with("unmapped.details.purpose", json::value("brief"));
  ASSERT_FALSE(rec.empty());
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.returned").as_int64(), 1);
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.truncated").as_int64(), 1);
}

TEST_F(RetrievalSearchTest, BadRequestsGetStableErrors) {
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{{R"({})", 400, "retrieval_request_invalid"},
                                         {R"({"query":"x","k":0})", 400, "retrieval_request_invalid"},
                                         {R"({"query":"x","k":1000})", 400, "retrieval_request_invalid"},
                                         {R"({"query":"x","colour":1})", 400, "retrieval_request_invalid"},
                                         {R"({"query":"x","purpose":"everything"})", 400, "unknown_purpose"},
                                         {R"x({"query":"  \"*:()"})x", 400, "query_empty"},
                                         {R"({"query":")" + std::string(2000, 'a') + R"("})", 400, "query_too_long"}}) {
    auto a = call("/v1/retrieval/search", c.body, token("alice.jwt"));
    EXPECT_EQ(a.status, c.status) << c.body;
    ASSERT_TRUE(a.body.contains("error")) << c.body;
    EXPECT_EQ(a.body.at("error").at("code").as_string(), c.code) << c.body;
  }
  EXPECT_EQ(call("/v1/retrieval/search", R"({"query":"database"})", "").status, 401);
}

// Last: it changes the catalog under the running gateway.
TEST_F(RetrievalSearchTest, ZDocumentsTheCatalogDropsOrChangesAreNeverHandedOut) {
  std::string q = "request access ticket service desk";
  auto before = search(token("alice.jwt"), q);
  ASSERT_EQ(before.status, 200);
  ASSERT_FALSE(ids(before).empty());
  ASSERT_EQ(ids(before).front(), "kb-it-guide");
  // Deleted from the catalog: an unknown document, however well it matches.
  auto del = call("/admin/v1/catalog", R"({"op":"delete","kind":"document","id":"kb-it-guide"})", *indexer_key_);
  ASSERT_EQ(del.status, 200) << json::serialize(del.body);
  auto gone = search(token("alice.jwt"), q);
  ASSERT_EQ(gone.status, 200);
  EXPECT_EQ(contains(gone, "kb-it-guide"), 0);
  // Back with another ACL than the one it was ingested with (a tag more):
  // allowed by the catalog, but its text is not handed out until re-ingest.
  auto changed = call("/admin/v1/catalog",
                      R"({"kind":"document","id":"kb-it-guide","readers":["group:staff"],"classification":"public",)"
                      R"("tenant":"acme","source":"handbook","tags":["it","moved"]})",
                      *indexer_key_);
  ASSERT_EQ(changed.status, 200) << json::serialize(changed.body);
  auto stale = search(token("alice.jwt"), q);
  ASSERT_EQ(stale.status, 200);
  EXPECT_EQ(contains(stale, "kb-it-guide"), 0);
  auto rec = record_with("unmapped.details.stale_acl", json::value(1));
  EXPECT_FALSE(rec.empty());
}

}  // namespace
}  // namespace ztgate

namespace ztgate {
namespace {

// After the catalog changes above: a re-ingest while the gateway runs. The
// new document is searchable once the gateway reloaded the catalog file
// the ingest rewrote (its text is in the index at once, but no text goes
// out before its ACL is loaded); a document removed from the folder is
// gone from both.
TEST_F(RetrievalSearchTest, ZZAReingestReachesTheRunningGatewayThroughTheCatalogFile) {
  auto folder = *dir_ / "docs-copy";
  std::filesystem::copy(kExample + "/docs", folder, std::filesystem::copy_options::recursive);
  itest::write_file(folder / "handbook" / "parking.md", "# Parking\n\nThe zeppelin hangar has twelve parking spaces.\n");
  itest::write_file(folder / "handbook" / "parking.md.meta.json",
                    R"({"id":"kb-parking","readers":["group:staff"],"classification":"public","tenant":"acme"})");
  std::filesystem::remove(folder / "finance" / "expense-guide.md");
  auto ingest = run_process({ZTGATE_BINARY, "docs", "ingest", "--config", (*dir_ / "ztgate.yaml").string(), "--from",
                             folder.string(), "--json"});
  ASSERT_EQ(ingest.exit_code, 2) << ingest.output;  // the unlabeled draft, still refused
  EXPECT_NE(ingest.output.find("\"added\":1"), std::string::npos) << ingest.output;
  EXPECT_NE(ingest.output.find("\"removed\":1"), std::string::npos) << ingest.output;
  std::vector<std::string> found;
  for (int attempt = 0; attempt < 80 && found.empty(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    found = ids(search(token("alice.jwt"), "zeppelin hangar"));
  }
  EXPECT_EQ(found, std::vector<std::string>{"kb-parking"}) << "within the reload interval (2 s)";
  EXPECT_TRUE(ids(search(token("bob.jwt"), "expense receipt")).empty()) << "the removed file is gone";
  // The reload from files also brought kb-it-guide back as ingested.
  EXPECT_EQ(ids(search(token("alice.jwt"), "request access ticket service desk")).front(), "kb-it-guide");
}

}  // namespace
}  // namespace ztgate
