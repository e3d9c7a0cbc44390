// The retrieval proxy against an oracle: a random organization (groups
// nested at random, users with random groups, clearances and tenants) and
// 300 documents with random ACLs and words are ingested with
// `ztgate docs ingest`; the real `ztgate serve` answers 240 random
// (user, query) searches, and each answer must be exactly the oracle's:
// the index's own ranking of the query's matches, kept to what plain code
// over the same data says the user may read (owner, shared with the user,
// a group it is in however deep, clearance >= classification, same
// tenant), the first k of them. Zero leaks, zero wrongful drops.
// Inspection is off here: this checks authorization, not the detector.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <random>
#include <set>

#include "child_process.h"
#include "data/doc_index.h"
#include "delegation_peer_issuers.h"
#include "itest_support.h"
#include "retrieval_itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::run_process;

constexpr int kDocuments = 300;
constexpr int kQueriesPerUser = 60;
constexpr size_t kK = 10;
const std::vector<std::string> kLabels = {"public", "internal", "confidential", "restricted"};
// The users delegation_peer.mjs signs tokens for, with the groups their tokens carry.
const std::map<std::string, std::vector<std::string>> kTokenGroups = {
    {"alice", {"engineering"}}, {"bob", {"finance"}}, {"carol", {"engineering"}}, {"sam", {"secops"}}};

struct User {
  std::vector<std::string> groups;
  int clearance = 0;
  std::string tenant;
};
struct Doc {
  std::string id, owner, tenant;
  std::vector<std::string> reader_users, reader_groups;
  int classification = 0;
};

class RetrievalSearchOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(itest::fresh_work_dir("retrieval_search_oracle"));
    log_ = new std::string;
    auto setup = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                              "setup", dir_->string()});
    *log_ += setup.output;
    generate();
    itest::write_file(*dir_ / "ztgate.yaml", std::string(R"(data_dir: data
gateway: { issuer: "urn:ztgate:itest", audience: ztgate }
listeners: [ { address: 127.0.0.1, port: 0 } ]
inspection: { enabled: false }
identity:
  issuers:
)") + itest::kPeerIssuers + R"(policies:
  schema: )" + std::string(ZTGATE_SOURCE_DIR) + R"(/policies/ztgate.cedarschema
  files: [)" + std::string(ZTGATE_SOURCE_DIR) + R"(/examples/retrieval/policies.cedar]
retrieval:
  documents: [org.jsonl, data/docs/catalog.jsonl]
  search: { index: data/docs, k: 10, overfetch: 100 }
)");
    std::string yaml = (*dir_ / "ztgate.yaml").string();
    auto ingest = run_process({ZTGATE_BINARY, "docs", "ingest", "--config", yaml, "--from", (*dir_ / "docs").string()});
    *log_ += ingest.output;
    setup_ok_ = setup.exit_code == 0 && ingest.exit_code == 0;
    if (!setup_ok_) return;
    server_ = new itest::ChildProcess(std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", yaml});
    std::string line = server_->wait_for_line("ztgate listening on ");
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete log_;
  }
  void SetUp() override { ASSERT_TRUE(setup_ok_) << "setup failed:\n" << *log_; }

  // The organization, the catalog file naming it, and the documents with sidecars.
  static void generate() {
    std::mt19937 rng(20261125);
    auto pick = [&](size_t n) { return static_cast<size_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
    std::vector<std::string> groups = {"engineering", "finance", "secops"};
    for (int i = 0; i < 10; ++i) groups.push_back("g" + std::to_string(i));
    std::string org;
    // Nesting: each group may be in a group later in the list (no cycles), up to 13 deep.
    for (size_t i = 0; i < groups.size(); ++i) {
      json::array parents;
      if (i + 1 < groups.size() && pick(4) != 0) {
        std::string p = groups[i + 1 + pick(groups.size() - i - 1)];
        parents.emplace_back(p);
        parents_[groups[i]].push_back(p);
      }
      org += json::serialize(json::object{{"kind", "group"}, {"id", groups[i]}, {"parents", parents}}) + "\n";
    }
    for (const auto& [name, token_groups] : kTokenGroups) {
      User u;
      u.groups = token_groups;
      json::array catalog_groups;
      for (int g = 0, n = static_cast<int>(pick(3)); g < n; ++g) {
        std::string group = groups[pick(groups.size())];
        u.groups.push_back(group);
        catalog_groups.emplace_back(group);
      }
      u.clearance = static_cast<int>(pick(4));
      u.tenant = pick(5) == 0 ? "globex" : "acme";
      users_[name] = u;
      org += json::serialize(json::object{{"kind", "user"}, {"id", name}, {"groups", catalog_groups},
                                          {"clearance", kLabels[static_cast<size_t>(u.clearance)]}, {"tenant", u.tenant}}) +
             "\n";
    }
    itest::write_file(*dir_ / "org.jsonl", org);
    std::filesystem::create_directories(*dir_ / "docs");
    for (int i = 0; i < kDocuments; ++i) {
      Doc d;
      d.id = "doc-" + std::to_string(i);
      std::vector<std::string> names;
      for (const auto& [n, u] : users_) names.push_back(n);
      if (pick(3) == 0) d.owner = names[pick(names.size())];
      for (int r = 0, n = static_cast<int>(pick(3)); r < n; ++r) d.reader_users.push_back(names[pick(names.size())]);
      for (int r = 0, n = static_cast<int>(pick(3)); r < n; ++r) d.reader_groups.push_back(groups[pick(groups.size())]);
      d.classification = static_cast<int>(pick(4));
      d.tenant = pick(6) == 0 ? "globex" : "acme";
      json::array readers;
      for (const auto& u : d.reader_users) readers.emplace_back("user:" + u);
      for (const auto& g : d.reader_groups) readers.emplace_back("group:" + g);
      json::object meta{{"id", d.id}, {"readers", readers}, {"classification", kLabels[static_cast<size_t>(d.classification)]},
                        {"tenant", d.tenant}};
      if (!d.owner.empty()) meta["owner"] = d.owner;
      std::string text;
      for (int w = 0, n = 5 + static_cast<int>(pick(20)); w < n; ++w) text += word(pick) + " ";
      itest::write_file(*dir_ / "docs" / (d.id + ".txt"), text);
      itest::write_file(*dir_ / "docs" / (d.id + ".txt.meta.json"), json::serialize(meta));
      docs_[d.id] = d;
    }
  }
  template <class Pick>
  static std::string word(Pick& pick) {
    static const std::vector<std::string> words = {"alpha", "beta",  "gamma", "delta", "budget", "plan",  "incident",
                                                   "gateway", "policy", "review", "draft", "notes", "keys", "design",
                                                   "roadmap", "audit", "report", "quarter", "vendor", "database"};
    size_t a = pick(words.size()), b = pick(words.size());
    return words[std::min(a, b)];  // earlier words more often
  }

  // The oracle: the shipped rules as plain code.
  static bool may_read(const std::string& user, const Doc& d) {
    const User& u = users_.at(user);
    if (u.tenant != d.tenant || u.clearance < d.classification) return false;
    if (d.owner == user) return true;
    for (const auto& r : d.reader_users)
      if (r == user) return true;
    std::set<std::string> closure;
    std::vector<std::string> pending = u.groups;
    while (!pending.empty()) {
      std::string g = pending.back();
      pending.pop_back();
      if (!closure.insert(g).second) continue;
      for (const auto& p : parents_[g]) pending.push_back(p);
    }
    for (const auto& g : d.reader_groups)
      if (closure.count(g)) return true;
    return false;
  }

  static std::filesystem::path* dir_;
  static std::string* log_;
  static bool setup_ok_;
  static itest::ChildProcess* server_;
  static int port_;
  static std::map<std::string, User> users_;
  static std::map<std::string, Doc> docs_;
  static std::map<std::string, std::vector<std::string>> parents_;
};

std::filesystem::path* RetrievalSearchOracleTest::dir_ = nullptr;
std::string* RetrievalSearchOracleTest::log_ = nullptr;
bool RetrievalSearchOracleTest::setup_ok_ = false;
itest::ChildProcess* RetrievalSearchOracleTest::server_ = nullptr;
int RetrievalSearchOracleTest::port_ = 0;
std::map<std::string, User> RetrievalSearchOracleTest::users_;
std::map<std::string, Doc> RetrievalSearchOracleTest::docs_;
std::map<std::string, std::vector<std::string>> RetrievalSearchOracleTest::parents_;

TEST_F(RetrievalSearchOracleTest, EveryAnswerIsTheOraclesNoLeaksNoWrongfulDrops) {
  auto index = data::DocIndex::open((*dir_ / "data" / "docs" / "index.db").string(), true);
  ASSERT_TRUE(index);
  std::mt19937 rng(7);
  auto pick = [&](size_t n) { return static_cast<size_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
  size_t calls = 0, returned = 0, nonempty = 0;
  for (const auto& [user, u] : users_) {
    std::string token = itest::read_file(*dir_ / (user + ".jwt"));
    for (int q = 0; q < kQueriesPerUser; ++q) {
      std::string query;
      for (int w = 0, n = 1 + static_cast<int>(pick(3)); w < n; ++w) query += word(pick) + " ";
      auto hits = (*index)->search(query, 1000);
      ASSERT_TRUE(hits);
      std::vector<std::string> expected;
      for (const auto& h : *hits)
        if (may_read(user, docs_.at(h.id)) && expected.size() < kK) expected.push_back(h.id);
      auto a = itest::call_json(port_, "/v1/retrieval/search", R"({"query":")" + query + R"("})", token);
      ASSERT_EQ(a.status, 200) << json::serialize(a.body);
      std::vector<std::string> got;
      for (const auto& r : a.body.at("results").as_array()) got.emplace_back(r.at("id").as_string());
      EXPECT_EQ(got, expected) << user << " searching `" << query << "`";
      ++calls;
      returned += got.size();
      nonempty += got.empty() ? 0 : 1;
    }
  }
  // The data must exercise both sides: answers with documents, and denials.
  EXPECT_EQ(calls, kTokenGroups.size() * kQueriesPerUser);
  EXPECT_GT(nonempty, calls / 4) << "too few answers with documents to mean anything";
  EXPECT_GT(returned, 100u);
  RecordProperty("searches", static_cast<int>(calls));
  RecordProperty("documents_returned", static_cast<int>(returned));
}

}  // namespace
}  // namespace ztgate
