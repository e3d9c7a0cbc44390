// Retrieval authorization over HTTP with the real `ztgate serve`: the
// shipped example catalog and policies, a user (IdP JWT from npm jose), a
// user by API key, and an agent acting for a user (a delegation token the
// real binary mints) call POST /v1/retrieval/authorize and
// POST /v1/retrieval/filter; bad input gets stable JSON errors; each call
// leaves one audit record with its counts.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <sstream>

#include "audit_records.h"
#include "child_process.h"
#include "delegation_peer_issuers.h"
#include "itest_support.h"
#include "postgres_server.h"
#include "raw_http.h"
#include "retrieval_itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::http;
using itest::post;
using itest::pg_array;
using itest::run_process;
using itest::sql_text;

const std::string kExample = std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval";

std::string config() {
  return std::string(R"(data_dir: data
gateway: { issuer: "urn:ztgate:itest", audience: ztgate, explain_denials: true }
listeners: [ { address: 127.0.0.1, port: 0 } ]
inspection: { enabled: false }
identity:
  issuers:
)") + itest::kPeerIssuers + R"(  delegation: { max_ttl: 10m, max_chain_depth: 3 }
  agents:
    - id: summarizer
      max_scopes: [docs:read]
policies:
  schema: )" + std::string(ZTGATE_SOURCE_DIR) + R"(/policies/ztgate.cedarschema
  files: [)" + kExample + R"(/policies.cedar]
retrieval:
  documents: [)" + kExample + R"(/documents.jsonl]
  max_candidates: 20
)";
}

const std::vector<std::string> kAll = {"handbook",    "gateway-design", "gateway-design#1", "incident-2026-03",
                                       "budget-2027", "bob-notes",      "root-keys",        "globex-plan"};
// What alice may read (examples/retrieval): nested groups, shared-with,
// clearance confidential, tenant acme.
const std::vector<std::string> kAlice = {"handbook", "gateway-design", "gateway-design#1", "incident-2026-03",
                                         "bob-notes"};

class RetrievalHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(itest::fresh_work_dir("retrieval"));
    auto setup = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                              "setup", dir_->string()});
    setup_output_ = new std::string(setup.output);
    itest::write_file(*dir_ / "ztgate.yaml", config());
    std::string key = itest::create_key(*dir_ / "data", "indexer", "Service::\"indexer\"", *setup_output_);
    if (!key.empty()) service_key_ = new std::string(key);
    setup_ok_ = setup.exit_code == 0 && service_key_;
    if (!setup_ok_) return;
    server_ = new itest::ChildProcess(
        std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", (*dir_ / "ztgate.yaml").string()});
    std::string line = server_->wait_for_line("ztgate listening on ");
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete setup_output_;
    delete service_key_;
  }
  void SetUp() override { ASSERT_TRUE(setup_ok_) << "setup failed:\n" << *setup_output_; }

  static std::string token(const std::string& name) { return itest::read_file(*dir_ / name); }

  static std::string agent_token(const std::vector<std::string>& scopes) { return itest::summarizer_for_alice(*dir_, scopes); }

  using Answer = itest::JsonAnswer;
  static Answer call(const std::string& path, const std::string& body, const std::string& auth) {
    return itest::call_json(port_, path, body, auth);
  }

  static std::string candidates(const std::vector<std::string>& ids, bool debug = false) {
    json::array a;
    for (const auto& id : ids) a.push_back(json::object{{"id", id}, {"text", "text of " + id}});
    return json::serialize(json::object{{"candidates", std::move(a)}, {"debug", debug}});
  }

  static std::vector<std::string> result_ids(const json::object& body) {
    std::vector<std::string> ids;
    for (const auto& r : body.at("results").as_array()) ids.emplace_back(r.at("id").as_string());
    return ids;
  }

  static std::filesystem::path* dir_;
  static std::string* setup_output_;
  static std::string* service_key_;
  static bool setup_ok_;
  static itest::ChildProcess* server_;
  static int port_;
};

std::filesystem::path* RetrievalHttpTest::dir_ = nullptr;
std::string* RetrievalHttpTest::setup_output_ = nullptr;
std::string* RetrievalHttpTest::service_key_ = nullptr;
bool RetrievalHttpTest::setup_ok_ = false;
itest::ChildProcess* RetrievalHttpTest::server_ = nullptr;
int RetrievalHttpTest::port_ = 0;

TEST_F(RetrievalHttpTest, PostFilterReturnsOnlyWhatTheUserMayReadInOrder) {
  std::vector<std::string> ids = kAll;
  ids.insert(ids.begin() + 2, "no-such-document");
  auto a = call("/v1/retrieval/authorize", candidates(ids, true), token("alice.jwt"));
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(result_ids(a.body), kAlice);
  EXPECT_EQ(a.body.at("results").as_array()[0].at("text").as_string(), "text of handbook");  // passed back as given
  EXPECT_EQ(a.body.at("allowed").as_int64(), 5);
  EXPECT_EQ(a.body.at("denied").as_int64(), 4);
  const auto& decisions = a.body.at("decisions").as_array();
  ASSERT_EQ(decisions.size(), ids.size());
  EXPECT_EQ(decisions[2].at("reason").as_string(), "unknown_document");
  EXPECT_EQ(decisions[7].at("id").as_string(), "root-keys");
  EXPECT_EQ(decisions[7].at("reason").as_string(), "denied");
  EXPECT_EQ(json::serialize(decisions[7].at("policies")), R"(["clearance-covers-classification"])");
}

TEST_F(RetrievalHttpTest, AServiceOrAUserTheCatalogDoesNotKnowReadsNothing) {
  auto service = call("/v1/retrieval/authorize", candidates(kAll), *service_key_);
  ASSERT_EQ(service.status, 200) << json::serialize(service.body);
  EXPECT_TRUE(result_ids(service.body).empty());
  auto sam = call("/v1/retrieval/authorize", candidates(kAll), token("sam.jwt"));
  ASSERT_EQ(sam.status, 200) << json::serialize(sam.body);
  EXPECT_TRUE(result_ids(sam.body).empty());
  auto filter = call("/v1/retrieval/filter", "", token("sam.jwt"));
  ASSERT_EQ(filter.status, 200);
  EXPECT_TRUE(filter.body.at("match_nothing").as_bool());
  EXPECT_EQ(filter.body.at("postgresql").at("where").as_string(), "FALSE");
}

TEST_F(RetrievalHttpTest, EachCallLeavesOneAuditRecordWithItsCounts) {
  auto a = call("/v1/retrieval/authorize", candidates({"bob-notes", "budget-2027", "handbook"}), token("alice.jwt"));
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(result_ids(a.body), (std::vector<std::string>{"bob-notes", "handbook"}));
  // The record stage writes the call's facts (details) with its route.
  auto records = itest::audit_records(*dir_ / "data" / "audit.db");
  json::object last;
  for (auto it = records.rbegin(); it != records.rend(); ++it)
    if (itest::member_at(*it, "unmapped.details.candidates") == json::value(3)) {
      last = *it;
      break;
    }
  if (last.empty()) {
    // Async durability: give the trail a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (const auto& r : itest::audit_records(*dir_ / "data" / "audit.db"))
      if (itest::member_at(r, "unmapped.details.candidates") == json::value(3)) last = r;
  }
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(itest::member_at(last, "unmapped.details.allowed").as_int64(), 2);
  EXPECT_EQ(itest::member_at(last, "unmapped.details.denied").as_int64(), 1);
  EXPECT_FALSE(last.at("unmapped").at("details").as_object().contains("sensitive")) << "nothing confidential was handed out";
}

// Confidential documents handed out are an audit event of their own
// (retrieve_sensitive, the call's request id) with their ids and labels,
// chained like every record: `ztgate audit query` finds it, `ztgate audit
// verify` checks it; the call's own record keeps the count.
TEST_F(RetrievalHttpTest, SensitiveRetrievalsAreAuditEventsOfTheirOwn) {
  auto incident = call("/v1/retrieval/authorize", candidates({"incident-2026-03", "handbook", "gateway-design"}),
                       token("alice.jwt"));
  ASSERT_EQ(incident.status, 200);
  ASSERT_EQ(result_ids(incident.body).size(), 3u);
  auto store = *dir_ / "data" / "audit.db";
  std::string request_id;
  for (int attempt = 0; attempt < 30 && request_id.empty(); ++attempt) {
    for (const auto& r : itest::audit_records(store))
      if (itest::member_at(r, "unmapped.details.sensitive_count") == json::value(1) &&
          itest::member_at(r, "unmapped.details.allowed") == json::value(3))  // this call's, not an earlier test's
        request_id = r.at("_request_id").as_string();
    if (request_id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(request_id.empty()) << "the call's record has no sensitive_count";
  auto query = run_process({ZTGATE_BINARY, "audit", "query", "--store", store.string(), "--action", "retrieve_sensitive",
                            "--request-id", request_id, "--format", "jsonl"});
  ASSERT_EQ(query.exit_code, 0) << query.output;
  std::vector<json::object> found;
  std::istringstream lines(query.output);
  for (std::string line; std::getline(lines, line);)
    if (line.find('{') == 0) found.push_back(json::parse(line).as_object());
  ASSERT_EQ(found.size(), 1u) << query.output;
  const json::object& sensitive = found[0];
  EXPECT_EQ(json::serialize(itest::member_at(sensitive, "unmapped.details.documents")),
            R"([{"id":"incident-2026-03","label":"confidential"}])");
  EXPECT_EQ(itest::member_at(sensitive, "unmapped.details.count"), json::value(1));
  EXPECT_EQ(itest::member_at(sensitive, "unmapped.details.truncated"), json::value(false));
  EXPECT_EQ(itest::member_at(sensitive, "actor.user.uid"), json::value("alice")) << json::serialize(sensitive);
  EXPECT_TRUE(sensitive.contains("attestation")) << "not sealed into the chain";
  // Nothing sensitive handed out: no event.
  auto sensitive_events = [&] {
    size_t n = 0;
    for (const auto& r : itest::audit_records(store)) n += itest::member_at(r, "unmapped.details.sensitive_from").is_string();
    return n;
  };
  size_t before = sensitive_events(), records = itest::audit_records(store).size();
  auto plain = call("/v1/retrieval/authorize", candidates({"handbook", "budget-2027"}), token("alice.jwt"));
  ASSERT_EQ(plain.status, 200);
  for (int attempt = 0; attempt < 30 && itest::audit_records(store).size() == records; ++attempt)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(itest::audit_records(store).size(), records + 1);
  EXPECT_EQ(sensitive_events(), before);
  auto verify = run_process({ZTGATE_BINARY, "audit", "verify", "--store", store.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

TEST_F(RetrievalHttpTest, AnAgentGetsOnlyWhatItsUserMayRead) {
  auto a = call("/v1/retrieval/authorize", candidates(kAll, true), agent_token({"docs:read"}));
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(result_ids(a.body), kAlice);
}

TEST_F(RetrievalHttpTest, PreFilterGivesThePredicateAndBothRenderings) {
  auto a = call("/v1/retrieval/filter", "{}", token("alice.jwt"));
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(a.body.at("principal").as_string(), "User::\"alice\"");
  EXPECT_EQ(json::serialize(a.body.at("acl_principals")),
            R"(["user:alice","group:engineering","group:platform","group:staff"])");
  EXPECT_EQ(a.body.at("tenant").as_string(), "acme");
  EXPECT_EQ(a.body.at("max_classification").at("label").as_string(), "confidential");
  EXPECT_EQ(a.body.at("postgresql").at("where").as_string(),
            "tenant = $1 AND classification <= $2 AND (owner = $3 OR readers && $4::text[])");
  EXPECT_EQ(json::serialize(a.body.at("postgresql").at("params")),
            R"(["acme",2,"alice",["user:alice","group:engineering","group:platform","group:staff"]])");
  EXPECT_TRUE(a.body.at("opensearch").at("bool").is_object());
  EXPECT_TRUE(a.body.at("post_filter_required").as_bool());
}

TEST_F(RetrievalHttpTest, BadInputGetsStableJsonErrors) {
  struct Case {
    std::string body;
    const char* code;
  };
  std::vector<std::string> many(21, "handbook");
  for (const Case& c : {Case{"{not json", "retrieval_request_invalid"},
                        Case{R"({"candidates":[{"id":"a","colour":"red"}]})", "retrieval_request_invalid"},
                        Case{R"({"candidates":[{"id":7}]})", "retrieval_request_invalid"},
                        Case{R"({"candidates":"handbook"})", "retrieval_request_invalid"},
                        Case{R"({"candidates":[],"candidates":[]})", "retrieval_request_invalid"},
                        Case{candidates(many), "too_many_candidates"}}) {
    auto a = call("/v1/retrieval/authorize", c.body, token("alice.jwt"));
    EXPECT_EQ(a.status, 400) << c.body;
    ASSERT_TRUE(a.body.contains("error")) << c.body;
    const auto& e = a.body.at("error").as_object();
    EXPECT_EQ(e.at("code").as_string(), c.code) << c.body;
    EXPECT_FALSE(e.at("request_id").as_string().empty());
  }
  auto f = call("/v1/retrieval/filter", R"({"user":"carol"})", token("alice.jwt"));
  EXPECT_EQ(f.status, 400);
  auto anonymous = call("/v1/retrieval/authorize", candidates(kAll), "");
  EXPECT_EQ(anonymous.status, 401);
}

// The pre-filter applied by a real PostgreSQL: a documents table holding
// the example catalog, the WHERE clause ztgate rendered in a prepared
// statement, its params bound as the statement's parameters. The rows are
// exactly what the post-filter allows, for every principal.
TEST_F(RetrievalHttpTest, PostgresqlWithTheRenderedWhereReturnsWhatThePostFilterAllows) {
  ASSERT_TRUE(itest::PostgresServer::available())
      << "PostgreSQL (initdb, pg_ctl, psql) is missing: apt-get install postgresql (scripts/install-deps.sh)";
  itest::PostgresServer pg(*dir_ / "pg");
  ASSERT_TRUE(pg.started()) << pg.log();
  const std::vector<std::string> labels = {"public", "internal", "confidential", "restricted"};
  std::string setup =
      "CREATE TABLE documents (id text PRIMARY KEY, tenant text, classification int, owner text, readers text[]);\n";
  std::vector<std::string> ids;
  std::istringstream lines(itest::read_file(kExample + "/documents.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    json::value v = json::parse(line);
    const json::object& o = v.as_object();
    if (o.at("kind").as_string() != "document") continue;
    std::string id(o.at("id").as_string());
    ids.push_back(id);
    auto rank = std::find(labels.begin(), labels.end(), std::string(o.at("classification").as_string())) - labels.begin();
    json::array readers = o.contains("readers") ? o.at("readers").as_array() : json::array{};
    setup += "INSERT INTO documents VALUES (" + sql_text(id) + ", " + sql_text(o.at("tenant").as_string()) + ", " +
             std::to_string(rank) + ", " + (o.contains("owner") ? sql_text(o.at("owner").as_string()) : "NULL") + ", " +
             sql_text(pg_array(readers)) + ");\n";
  }
  auto created = pg.psql(setup);
  ASSERT_EQ(created.exit_code, 0) << created.output;

  std::string agent = agent_token({"docs:read"});
  for (const std::string& who : {std::string("alice.jwt"), std::string("sam.jwt"), std::string("agent")}) {
    std::string auth = who == "agent" ? agent : token(who);
    auto filter = call("/v1/retrieval/filter", "", auth);
    ASSERT_EQ(filter.status, 200) << who;
    const json::object& sql = filter.body.at("postgresql").as_object();
    // Parameter types follow the params' JSON kinds; values only ever travel as psql variables.
    std::string types, args;
    std::vector<std::pair<std::string, std::string>> vars;
    const json::array& params = sql.at("params").as_array();
    for (size_t i = 0; i < params.size(); ++i) {
      std::string name = "p" + std::to_string(i + 1);
      const json::value& p = params[i];
      types += std::string(i ? ", " : "") + (p.is_array() ? "text[]" : p.is_int64() ? "bigint" : "text");
      args += std::string(i ? ", " : "") + ":'" + name + "'";
      vars.emplace_back(name, p.is_array() ? pg_array(p.as_array()) : p.is_int64() ? std::to_string(p.as_int64())
                                                                                   : std::string(p.as_string()));
    }
    std::string where(sql.at("where").as_string());
    std::string script = params.empty()
                             ? "PREPARE q AS SELECT id FROM documents WHERE " + where + " ORDER BY id;\nEXECUTE q;\n"
                             : "PREPARE q(" + types + ") AS SELECT id FROM documents WHERE " + where +
                                   " ORDER BY id;\nEXECUTE q(" + args + ");\n";
    auto rows = pg.psql(script, vars);
    ASSERT_EQ(rows.exit_code, 0) << rows.output;
    std::vector<std::string> from_store;
    std::istringstream out(rows.output);
    for (std::string id; std::getline(out, id);)
      if (!id.empty()) from_store.push_back(id);

    auto post = call("/v1/retrieval/authorize", candidates(ids), auth);
    ASSERT_EQ(post.status, 200) << who;
    std::vector<std::string> allowed = result_ids(post.body);
    std::sort(allowed.begin(), allowed.end());
    EXPECT_EQ(from_store, allowed) << who << ": " << where;
    if (who != "sam.jwt") {
      EXPECT_EQ(allowed.size(), kAlice.size()) << who;
    }
  }
}

// Runs last: it changes the catalog (on a document of its own).
TEST_F(RetrievalHttpTest, ZCatalogSyncTakesEffectAtOnceDespiteCachedDecisions) {
  auto alice_gets = [&](const char* id) {
    auto a = call("/v1/retrieval/authorize", candidates({id}, true), token("alice.jwt"));
    EXPECT_EQ(a.status, 200) << json::serialize(a.body);
    return std::string(a.body.at("decisions").as_array()[0].at("reason").as_string());
  };
  auto sync = [&](const std::string& lines, const std::string& auth) { return call("/admin/v1/catalog", lines, auth); };
  auto first = sync(R"({"kind":"document","id":"memo","readers":["user:alice"],"classification":"internal","tenant":"acme"})",
                    *service_key_);
  ASSERT_EQ(first.status, 200) << json::serialize(first.body);
  int64_t v1 = first.body.at("version").as_int64();
  EXPECT_EQ(alice_gets("memo"), "allowed");
  EXPECT_EQ(alice_gets("memo"), "allowed");  // now from the decision cache
  auto revoke = sync(R"({"kind":"document","id":"memo","readers":[],"classification":"internal","tenant":"acme"})",
                     *service_key_);
  ASSERT_EQ(revoke.status, 200);
  EXPECT_EQ(revoke.body.at("version").as_int64(), v1 + 1);
  EXPECT_EQ(alice_gets("memo"), "denied") << "a cached allow outlived the change";
  ASSERT_EQ(sync(R"({"op":"delete","kind":"document","id":"memo"})", *service_key_).status, 200);
  EXPECT_EQ(alice_gets("memo"), "unknown_document");

  // A bad batch changes nothing and names its line; only the indexer syncs.
  auto bad = sync("{\"kind\":\"document\",\"id\":\"memo2\"}\n{\"kind\":\"document\"}\n", *service_key_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body.at("error").at("code").as_string(), "catalog_line_invalid");
  EXPECT_NE(std::string(bad.body.at("error").at("message").as_string()).find("line 2"), std::string::npos);
  EXPECT_EQ(alice_gets("memo2"), "unknown_document");
  EXPECT_EQ(sync(R"({"kind":"document","id":"mine","owner":"alice"})", token("alice.jwt")).status, 403);
}

}  // namespace
}  // namespace ztgate
