// The retrieval proxy in front of an external retrieval service: the real
// `ztgate serve` with retrieval.search.backend pointing at a small real
// HTTP server (node/retrieval_backend.mjs, OpenSearch-shaped answers mapped
// by JSON pointers). The same enforcement as over the embedded index: the
// service's best match that the catalog does not know, the documents a
// user may not read and the one with an injected instruction never come
// back; the rest keep the service's order. A failing or slow service is a
// 502, never an unchecked answer.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>

#include "audit_records.h"
#include "child_process.h"
#include "delegation_peer_issuers.h"
#include "itest_support.h"
#include "retrieval_itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::run_process;

const std::string kExample = std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval";

std::string config(int backend_port, const std::string& on_injection_deny = "drop") {
  return std::string(R"(data_dir: data
gateway: { issuer: "urn:ztgate:itest", audience: ztgate }
listeners: [ { address: 127.0.0.1, port: 0 } ]
identity:
  issuers:
)") + itest::kPeerIssuers + R"(policies:
  schema: )" + std::string(ZTGATE_SOURCE_DIR) + R"(/policies/ztgate.cedarschema
  files: [)" + kExample + "/policies.cedar, " + kExample + R"(/search-policies.cedar]
retrieval:
  documents: [)" + kExample + R"(/documents.jsonl]
  search:
    k: 10
    overfetch: 1
    on_injection_deny: )" + on_injection_deny + R"(
    backend:
      url: http://127.0.0.1:)" + std::to_string(backend_port) + R"(/search
      allow_plain_http: true
      timeout: 1s
      request: { query: q, k: size }
      response: { results: /hits/hits, id: /_id, text: /_source/body, title: /_source/title, summary: "", score: /_score }
)";
}

class RetrievalBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(itest::fresh_work_dir("retrieval_backend"));
    log_ = new std::string;
    auto setup = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                              "setup", dir_->string()});
    *log_ += setup.output;
    backend_ = new itest::ChildProcess(std::vector<std::string>{
        itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/retrieval_backend.mjs"});
    std::string listening = backend_->wait_for_line("listening ");
    backend_port_ = std::stoi(listening.substr(listening.rfind(' ') + 1));
    itest::write_file(*dir_ / "ztgate.yaml", config(backend_port_));
    setup_ok_ = setup.exit_code == 0;
    if (!setup_ok_) return;
    server_ = new itest::ChildProcess(
        std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", (*dir_ / "ztgate.yaml").string()});
    std::string line = server_->wait_for_line("ztgate listening on ");
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete backend_;
    delete dir_;
    delete log_;
  }
  void SetUp() override { ASSERT_TRUE(setup_ok_) << "setup failed:\n" << *log_; }

  static itest::JsonAnswer search(const std::string& token_file, const std::string& query) {
    return itest::call_json(port_, "/v1/retrieval/search", R"({"query":")" + query + R"("})",
                            itest::read_file(*dir_ / token_file));
  }
  static std::vector<std::string> ids(const itest::JsonAnswer& a) {
    std::vector<std::string> out;
    if (!a.body.contains("results")) return out;
    for (const auto& r : a.body.at("results").as_array()) out.emplace_back(r.at("id").as_string());
    return out;
  }

  static std::filesystem::path* dir_;
  static std::string* log_;
  static bool setup_ok_;
  static itest::ChildProcess* backend_;
  static itest::ChildProcess* server_;
  static int port_;
  static int backend_port_;
};

std::filesystem::path* RetrievalBackendTest::dir_ = nullptr;
std::string* RetrievalBackendTest::log_ = nullptr;
bool RetrievalBackendTest::setup_ok_ = false;
itest::ChildProcess* RetrievalBackendTest::backend_ = nullptr;
itest::ChildProcess* RetrievalBackendTest::server_ = nullptr;
int RetrievalBackendTest::port_ = 0;
int RetrievalBackendTest::backend_port_ = 0;

TEST_F(RetrievalBackendTest, OnlyPermittedCleanDocumentsComeBackInTheServicesOrder) {
  // The service ranks: ghost (not in the catalog), root-keys (restricted),
  // handbook, bob-notes (shared with alice, but an injected instruction),
  // gateway-design, budget-2027 (finance), incident-2026-03, handbook again
  // (a repeated id: its first place counts), globex-plan.
  auto alice = search("alice.jwt", "anything");
  ASSERT_EQ(alice.status, 200) << json::serialize(alice.body);
  EXPECT_EQ(ids(alice), (std::vector<std::string>{"handbook", "gateway-design", "incident-2026-03"}));
  const auto& first = alice.body.at("results").as_array()[0].as_object();
  EXPECT_EQ(first.at("title").as_string(), "Handbook");
  EXPECT_EQ(first.at("text").as_string(), "welcome to acme");
  EXPECT_EQ(first.at("score").as_double(), 8.0);
  auto sam = search("sam.jwt", "anything");  // a user the catalog does not know
  ASSERT_EQ(sam.status, 200) << json::serialize(sam.body);
  EXPECT_TRUE(ids(sam).empty());
  // One record: the counts, and the result the mapping skipped (no id).
  json::object rec;
  for (int attempt = 0; attempt < 40 && rec.empty(); ++attempt) {
    for (const auto& r : itest::audit_records(*dir_ / "data" / "audit.db"))
      if (itest::member_at(r, "unmapped.details.returned") == json::value(3)) rec = r;
    if (rec.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(rec.empty());
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.candidates").as_int64(), 8);
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.unknown").as_int64(), 1);
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.dropped_for_content").as_int64(), 1);
  EXPECT_EQ(itest::member_at(rec, "unmapped.details.backend_skipped").as_int64(), 1);
}

TEST_F(RetrievalBackendTest, AFailingOrSlowServiceIsABadGatewayNeverAnUncheckedAnswer) {
  auto failed = search("alice.jwt", "fail");
  EXPECT_EQ(failed.status, 502) << json::serialize(failed.body);
  EXPECT_EQ(failed.body.at("error").at("code").as_string(), "retrieval_backend_failed");
  auto started = std::chrono::steady_clock::now();
  auto slow = search("alice.jwt", "slow");
  EXPECT_EQ(slow.status, 502) << json::serialize(slow.body);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2900)) << "timeout: 1s";
  // Unauthenticated callers never reach the service.
  auto anonymous = itest::call_json(port_, "/v1/retrieval/search", R"({"query":"anything"})", "");
  EXPECT_EQ(anonymous.status, 401);
}

TEST_F(RetrievalBackendTest, OnInjectionDenyBlockFailsTheWholeCall) {
  auto dir = *dir_ / "block";
  std::filesystem::create_directories(dir);
  for (const char* f : {"users.jwks.json", "agents.jwks.json"}) std::filesystem::copy_file(*dir_ / f, dir / f);
  itest::write_file(dir / "ztgate.yaml", config(backend_port_, "block"));
  itest::ChildProcess server(std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", (dir / "ztgate.yaml").string()});
  std::string line = server.wait_for_line("ztgate listening on ");
  int port = std::stoi(line.substr(line.rfind(':') + 1));
  // bob-notes (shared with alice) carries an injected instruction.
  auto a = itest::call_json(port, "/v1/retrieval/search", R"({"query":"anything"})", itest::read_file(*dir_ / "alice.jwt"));
  EXPECT_EQ(a.status, 403) << json::serialize(a.body);
  EXPECT_EQ(a.body.at("error").at("code").as_string(), "retrieved_content_blocked");
  EXPECT_FALSE(a.body.contains("results"));
  // k 1 (overfetch 1): the service sends only its first result, unknown to
  // the catalog; nothing injected is reached and the call succeeds, empty.
  auto one = itest::call_json(port, "/v1/retrieval/search", R"({"query":"anything","k":1})", itest::read_file(*dir_ / "alice.jwt"));
  EXPECT_EQ(one.status, 200) << json::serialize(one.body);
  EXPECT_TRUE(one.body.at("results").as_array().empty());
}

}  // namespace
}  // namespace ztgate
