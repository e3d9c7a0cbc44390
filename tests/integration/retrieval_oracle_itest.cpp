// Issue 8's must-show oracle at scale: a synthetic organization of 100,000
// documents and chunks (tests/data/synthetic_org.h: 2,000 users, groups
// nested 8 deep and more, spaces > collections > folders, three tenants,
// mixed ACLs and labels), loaded the way the gateway loads it (the catalog
// JSON Lines through the configuration and load_snapshot, the shipped
// schema and example policies). Thousands of random (principal, query)
// pairs, a query being a candidate set drawn from the 100,000 with decoys
// (unknown ids, other tenants' documents, documents above the user's
// clearance, stricter and unknown labels, repeats), and three checks that
// must agree with the plain-code oracle: zero leaks, zero wrongful drops.
//
//  - the post-filter, through the gateway's decider and decision cache,
//    for users, for agents acting for them (with and without
//    docs:read:restricted), and for agents a site permits broadly;
//  - the pre-filter applied by a real PostgreSQL started here: a documents
//    table holding all the rows, the rendered WHERE clause in a prepared
//    statement, its params bound as the statement's parameters, for every
//    query's user and for whole views (no candidate set) of a sample.
//
// Under AddressSanitizer the organization is a fifth of the size.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "../data/synthetic_org.h"
#include "cedar/authorizer.h"
#include "cedar/policy_set.h"
#include "config/gateway_config.h"
#include "data/access_filter.h"
#include "data/post_filter.h"
#include "itest_support.h"
#include "pipeline/decider.h"
#include "pipeline/snapshot.h"
#include "postgres_server.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using data::synthetic::kScaleDown;
using data::synthetic::Org;

constexpr int kQueries = 2000 / kScaleDown;
constexpr int kMaxCandidates = 150;
constexpr int kWholeViews = 40 / kScaleDown;  // users whose whole view PostgreSQL returns

data::synthetic::OrgShape shape() {
  data::synthetic::OrgShape s;
  s.groups = 2000 / kScaleDown;
  s.users = 2000 / kScaleDown;
  s.spaces = 20;
  s.collections = 200 / kScaleDown;
  s.folders = 2000 / kScaleDown;
  s.documents = 100'000 / kScaleDown;
  return s;
}

enum class Who { kUser, kAgent, kBroadAgent };

struct Query {
  Who who = Who::kUser;
  std::string user;
  bool restricted_scope = false;  // the agent's task was delegated docs:read:restricted
  std::vector<data::Candidate> candidates;
};

// The decoys a query mixes in, beside random documents and ones shared
// with the user (so that both answers occur).
class QueryMaker {
 public:
  QueryMaker(const Org& org, uint32_t seed) : org_(org), rng_(seed) {
    for (size_t i = 0; i < org.documents.size(); ++i) {
      const auto& d = org.documents[i];
      if (!d.owner.empty()) shared_with_user_[d.owner].push_back(i);
      for (const auto& u : d.reader_users) shared_with_user_[u].push_back(i);
      for (const auto& g : d.reader_groups) shared_with_group_[g].push_back(i);
    }
  }

  Query make() {
    Query q;
    int kind = pick(20);
    q.who = kind < 10 ? Who::kUser : kind < 17 ? Who::kAgent : Who::kBroadAgent;
    q.restricted_scope = q.who == Who::kAgent && pick(3) == 0;
    q.user = org_.users[static_cast<size_t>(pick(static_cast<int>(org_.users.size())))].id;
    const auto& u = *org_.user(q.user);
    std::vector<size_t> near;  // documents whose ACL names the user or one of its direct groups
    if (auto it = shared_with_user_.find(q.user); it != shared_with_user_.end()) near = it->second;
    for (const auto& g : u.groups)
      if (auto it = shared_with_group_.find(g); it != shared_with_group_.end()) near.insert(near.end(), it->second.begin(), it->second.end());
    for (int k = 0, n = 1 + pick(kMaxCandidates); k < n; ++k) {
      int r = pick(100);
      data::Candidate c;
      if (r < 40 || (r < 70 && near.empty())) {
        c.id = random_document().id;
      } else if (r < 70) {
        c.id = org_.documents[near[static_cast<size_t>(pick(static_cast<int>(near.size())))]].id;
      } else if (r < 78) {
        c.id = pick(2) ? "nope-" + std::to_string(pick(1000)) : "d" + std::to_string(org_.documents.size() + static_cast<size_t>(pick(1000)));
      } else if (r < 86) {
        c.id = other_tenant(u.tenant).id;
      } else if (r < 92) {
        c.id = above_clearance(u.clearance).id;
      } else if (r < 96 && !near.empty()) {  // a stricter (or unknown) label than the catalog's
        c.id = org_.documents[near[static_cast<size_t>(pick(static_cast<int>(near.size())))]].id;
        c.label = pick(6) ? data::synthetic::kLabels[static_cast<size_t>(pick(4))] : std::string("top-secret");
      } else if (!q.candidates.empty()) {
        c = q.candidates[static_cast<size_t>(pick(static_cast<int>(q.candidates.size())))];
      } else {
        c.id = random_document().id;
      }
      q.candidates.push_back(std::move(c));
    }
    return q;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  const data::DocumentRecord& random_document() {
    return org_.documents[static_cast<size_t>(pick(static_cast<int>(org_.documents.size())))];
  }
  const data::DocumentRecord& other_tenant(const std::string& tenant) {
    for (int tries = 0; tries < 50; ++tries) {
      const auto& d = random_document();
      if (d.tenant != tenant) return d;
    }
    return random_document();
  }
  const data::DocumentRecord& above_clearance(std::optional<int64_t> clearance) {
    for (int tries = 0; tries < 50; ++tries) {
      const auto& d = random_document();
      if (!clearance || d.classification > *clearance) return d;
    }
    return random_document();
  }

  const Org& org_;
  std::mt19937 rng_;
  std::unordered_map<std::string, std::vector<size_t>> shared_with_user_;
  std::unordered_map<std::string, std::vector<size_t>> shared_with_group_;
};

// What the oracle expects for each candidate: known, with a known label,
// and readable at the strictest rank any mention of the id gives it in
// this call (the post-filter's contract, data/post_filter.h).
std::vector<bool> expected_post(const Org& org, const data::synthetic::Oracle& oracle, const Query& q) {
  std::map<std::string, int64_t> rank;
  std::set<std::string> bad_label;
  for (const auto& c : q.candidates) {
    const auto* d = org.document(c.id);
    if (!d) continue;
    int64_t r = d->classification;
    if (c.label) {
      auto at = std::find(data::synthetic::kLabels.begin(), data::synthetic::kLabels.end(), *c.label);
      if (at == data::synthetic::kLabels.end()) continue;
      r = std::max(r, static_cast<int64_t>(at - data::synthetic::kLabels.begin()));
    }
    auto [it, fresh] = rank.emplace(c.id, r);
    if (!fresh) it->second = std::max(it->second, r);
  }
  std::vector<bool> out;
  for (const auto& c : q.candidates) {
    const auto* d = org.document(c.id);
    bool label_ok = !c.label || std::find(data::synthetic::kLabels.begin(), data::synthetic::kLabels.end(), *c.label) !=
                                    data::synthetic::kLabels.end();
    if (!d || !label_ok) {
      out.push_back(false);
      continue;
    }
    int64_t r = rank.at(c.id);
    out.push_back(q.who == Who::kUser ? oracle.user_may_read(q.user, *d, r)
                                      : oracle.agent_may_read(q.user, *d, r, q.restricted_scope));
  }
  return out;
}

// The distinct candidate ids the user's pre-filter must let through, sorted.
std::vector<std::string> expected_pre(const Org& org, const data::synthetic::Oracle& oracle, const Query& q) {
  std::set<std::string> out;
  for (const auto& c : q.candidates)
    if (const auto* d = org.document(c.id); d && oracle.user_may_read(q.user, *d)) out.insert(c.id);
  return {out.begin(), out.end()};
}

std::string read_source(const std::string& path) { return itest::read_file(std::string(ZTGATE_SOURCE_DIR) + "/" + path); }

// A site that permits agents broadly: the user's view still bounds them.
const char* kBroadAgents = R"(
@id("agents-read-anything")
permit (principal is Agent, action == Action::"retrieve", resource is Document);
)";

class RetrievalOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t0 = std::chrono::steady_clock::now();
    dir_ = new std::filesystem::path(itest::fresh_work_dir("retrieval_oracle"));
    org_ = new Org(data::synthetic::generate_org(shape(), 20261125));
    oracle_ = new data::synthetic::Oracle(*org_);
    itest::write_file(*dir_ / "org.jsonl", org_->jsonl());
    std::string yaml = "data_dir: " + (*dir_ / "data").string() + R"(
gateway: { issuer: "urn:ztgate:itest", audience: ztgate }
inspection: { enabled: false }
policies:
  schema: )" + std::string(ZTGATE_SOURCE_DIR) + R"(/policies/ztgate.cedarschema
  files: [)" + std::string(ZTGATE_SOURCE_DIR) + R"(/examples/retrieval/policies.cedar]
retrieval:
  documents: [)" + (*dir_ / "org.jsonl").string() + "]\n";
    auto config = config::parse_gateway_config(yaml, "oracle.yaml", dir_->string());
    if (!config) {
      *setup_error_ = "config: " + config.error().message;
      return;
    }
    auto snapshot = pipeline::load_snapshot(std::move(*config), 1);
    if (!snapshot) {
      *setup_error_ = "snapshot: " + snapshot.error().message;
      return;
    }
    snapshot_ = new std::shared_ptr<const pipeline::Snapshot>(*snapshot);
    // The same snapshot with the broad agent permit added.
    auto broad = cedar::parse_policies(read_source("examples/retrieval/policies.cedar") + kBroadAgents);
    if (!broad) {
      *setup_error_ = "broad policies: " + broad.error().message;
      return;
    }
    auto broad_snapshot = std::make_shared<pipeline::Snapshot>(**snapshot);
    broad_snapshot->authorizer = std::make_shared<const cedar::Authorizer>(std::make_shared<const cedar::PolicySet>(std::move(*broad)));
    broad_snapshot_ = new std::shared_ptr<const pipeline::Snapshot>(std::move(broad_snapshot));
    std::cout << "[ oracle ] " << org_->documents.size() << " documents generated and loaded through the gateway's "
              << "configuration in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
              << " s\n";
  }
  static void TearDownTestSuite() {
    delete broad_snapshot_;
    delete snapshot_;
    delete oracle_;
    delete org_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(snapshot_) << "setup failed: " << *setup_error_; }

  static std::vector<Query> queries(uint32_t seed) {
    QueryMaker maker(*org_, seed);
    std::vector<Query> out;
    for (int i = 0; i < kQueries; ++i) out.push_back(maker.make());
    return out;
  }

  static std::filesystem::path* dir_;
  static Org* org_;
  static data::synthetic::Oracle* oracle_;
  static std::shared_ptr<const pipeline::Snapshot>* snapshot_;
  static std::shared_ptr<const pipeline::Snapshot>* broad_snapshot_;
  static std::string* setup_error_;
};

std::filesystem::path* RetrievalOracleTest::dir_ = nullptr;
Org* RetrievalOracleTest::org_ = nullptr;
data::synthetic::Oracle* RetrievalOracleTest::oracle_ = nullptr;
std::shared_ptr<const pipeline::Snapshot>* RetrievalOracleTest::snapshot_ = nullptr;
std::shared_ptr<const pipeline::Snapshot>* RetrievalOracleTest::broad_snapshot_ = nullptr;
std::string* RetrievalOracleTest::setup_error_ = new std::string;

// The principal's entities as a credential brings them: an agent's
// delegation token puts Agent::"<id>" with on_behalf_of into the overlay.
cedar::RecordPtr delegation_context(const Query& q) {
  if (q.who == Who::kUser) return std::make_shared<const cedar::ValueRecord>();
  cedar::ValueSet scopes;
  if (q.who == Who::kAgent) scopes.emplace_back("docs:read");
  if (q.restricted_scope) scopes.emplace_back("docs:read:restricted");
  return std::make_shared<const cedar::ValueRecord>(cedar::ValueRecord{
      {"delegation", cedar::Value::record({{"scopes", cedar::Value::set(std::move(scopes))}, {"task", "t"}, {"depth", 1},
                                           {"chain", cedar::Value::set({})}})}});
}

// The post-filter as the retrieval adapter runs it (retrieval_adapter.cpp,
// start_retrieval_authorization): each decision through the decider and
// its cache, keyed by the credential's entities and the catalog version;
// an allow with obligations is refused.
std::vector<data::ItemDecision> post_filter(const pipeline::Snapshot& snapshot, pipeline::DecisionCache& cache,
                                            const Query& q) {
  auto catalog = snapshot.catalog->current();
  data::Reader reader{{"User", q.user}, q.user, {}};
  std::string entities_key;
  std::vector<cedar::Entity> overlay;
  if (q.who != Who::kUser) {
    reader.principal = {"Agent", "agent-of-" + q.user};
    cedar::Entity a;
    a.uid = reader.principal;
    a.attrs.emplace("on_behalf_of", cedar::EntityUID{"User", q.user});
    overlay.push_back(std::move(a));
    entities_key = "agent-of-" + q.user;
  }
  auto base = cedar::Entities::overlay(snapshot.bundle.entities, std::move(overlay));
  EXPECT_TRUE(base);
  auto entities = std::make_shared<const cedar::Entities>(std::move(*base));
  pipeline::Decider decider(snapshot, &cache);
  std::string key = entities_key + "|catalog:" + std::to_string(catalog->version()) + "|";
  auto decide = [&](const cedar::Request& r, std::string_view item_key, const data::EntitiesFn& layer) {
    pipeline::Verdict v = decider.decide_lazily(r, key + std::string(item_key), layer);
    EXPECT_TRUE(v.errors.empty()) << v.errors.front().message;
    bool obligations = !v.obligations.redact.empty() || !v.obligations.pseudonymize.empty() || v.obligations.spotlight;
    return data::DecisionOutcome{v.decision == cedar::Decision::kAllow && !obligations, v.determining};
  };
  return data::authorize_candidates(*catalog, reader, q.candidates, delegation_context(q), entities, decide);
}

TEST_F(RetrievalOracleTest, PostFilterThroughTheGatewaysDeciderAgreesWithTheOracleOnRandomQueries) {
  auto qs = queries(1);
  pipeline::DecisionCache cache;
  size_t leaks = 0, drops = 0, allowed = 0, decided = 0, agent_queries = 0, broad_queries = 0;
  std::map<std::string, size_t> reasons;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass is answered by the decision cache
    for (const auto& q : qs) {
      const auto& snapshot = q.who == Who::kBroadAgent ? **broad_snapshot_ : **snapshot_;
      auto got = post_filter(snapshot, cache, q);
      auto want = expected_post(*org_, *oracle_, q);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        if (got[i].allow != want[i]) {
          ADD_FAILURE() << (got[i].allow ? "LEAK " : "WRONGFUL DROP ") << q.candidates[i].id << " to "
                        << (q.who == Who::kUser ? "user " : "agent of ") << q.user << " (" << got[i].reason << ")";
          (got[i].allow ? leaks : drops)++;
        }
        allowed += got[i].allow;
        ++reasons[got[i].reason];
      }
      decided += got.size();
      agent_queries += pass == 0 && q.who == Who::kAgent;
      broad_queries += pass == 0 && q.who == Who::kBroadAgent;
    }
  }
  EXPECT_EQ(leaks, 0u);
  EXPECT_EQ(drops, 0u);
  // Both answers, every decoy's reason, and every kind of principal occur.
  EXPECT_GT(allowed, decided / 50);
  EXPECT_LT(allowed, decided / 2);
  for (const char* r : {"allowed", "denied", "user_denied", "unknown_document", "unknown_label"})
    EXPECT_GT(reasons[r], 0u) << r;
  EXPECT_GT(agent_queries, qs.size() / 5);
  EXPECT_GT(broad_queries, qs.size() / 20);
  std::cout << "[ oracle ] post-filter: " << qs.size() << " queries x 2 (" << agent_queries << " by agents, "
            << broad_queries << " by broadly permitted agents), " << decided << " candidates, " << allowed
            << " allowed: 0 leaks, 0 wrongful drops\n";
}

// A broadly permitted agent is bounded by its user: for each of its
// queries, every document it receives its user may read.
TEST_F(RetrievalOracleTest, ABroadlyPermittedAgentNeverReceivesWhatItsUserCannotRead) {
  auto qs = queries(2);
  pipeline::DecisionCache cache;
  size_t received = 0, refused_for_the_user = 0;
  for (auto& q : qs) {
    q.who = Who::kBroadAgent;
    q.restricted_scope = false;
    auto got = post_filter(**broad_snapshot_, cache, q);
    for (size_t i = 0; i < got.size(); ++i) {
      if (!got[i].allow) {
        refused_for_the_user += got[i].reason == "user_denied";
        continue;
      }
      ++received;
      const auto* d = org_->document(q.candidates[i].id);
      ASSERT_TRUE(d);
      EXPECT_TRUE(oracle_->user_may_read(q.user, *d)) << "agent of " << q.user << " received " << d->id;
      EXPECT_LT(got[i].classification, data::synthetic::kRestricted) << d->id;
    }
  }
  // The broad permit did open what the agent's own policies allow, and the
  // user's decision is what refused the rest.
  EXPECT_GT(received, 0u);
  EXPECT_GT(refused_for_the_user, received);
}

// The pre-filter applied by a real PostgreSQL holding every document.
TEST_F(RetrievalOracleTest, PreFilterAppliedByPostgresqlAgreesWithTheOracle) {
  ASSERT_TRUE(itest::PostgresServer::available())
      << "PostgreSQL (initdb, pg_ctl, psql) is missing: apt-get install postgresql (scripts/install-deps.sh)";
  itest::PostgresServer pg(*dir_ / "pg");
  ASSERT_TRUE(pg.started()) << pg.log();
  auto t0 = std::chrono::steady_clock::now();
  // The table, with all the rows (COPY text format: tab-separated, \N for NULL).
  std::string rows;
  for (const auto& d : org_->documents) {
    json::array readers;
    for (const auto& u : d.reader_users) readers.emplace_back("user:" + u);
    for (const auto& g : d.reader_groups) readers.emplace_back("group:" + g);
    rows += d.id + "\t" + d.tenant + "\t" + std::to_string(d.classification) + "\t" + (d.owner.empty() ? "\\N" : d.owner) +
            "\t" + itest::pg_array(readers) + "\n";
  }
  itest::write_file(*dir_ / "rows.tsv", rows);
  auto created = pg.psql("CREATE TABLE documents (id text PRIMARY KEY, tenant text, classification int, owner text, readers text[]);\n"
                         "\\copy documents FROM '" + (*dir_ / "rows.tsv").string() + "'\n"
                         "CREATE INDEX ON documents USING gin (readers);\nANALYZE documents;\n"
                         "SELECT count(*) FROM documents;\n");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(std::stoul(created.output), org_->documents.size());

  // One prepared statement per distinct rendered WHERE clause; each query
  // EXECUTEs it with the filter's params (values only ever travel as
  // parameters) and its candidate ids as one more, text[], parameter.
  auto catalog = (*snapshot_)->catalog->current();
  std::map<std::string, std::string> statements;  // "<types>|<where>" -> name
  std::string prepare, execute;
  auto add = [&](const std::string& user, const std::optional<std::vector<std::string>>& ids) {
    auto filter = data::access_filter(*catalog, user, {});
    ASSERT_TRUE(filter);
    data::SqlFilter sql = data::render_postgresql(*filter);
    std::string types, args;
    for (const auto& p : sql.params) {
      types += std::string(types.empty() ? "" : ", ") + (p.is_array() ? "text[]" : p.is_int64() ? "bigint" : "text");
      args += std::string(args.empty() ? "" : ", ") +
              itest::sql_text(p.is_array() ? itest::pg_array(p.as_array()) : p.is_int64() ? std::to_string(p.as_int64())
                                                                                          : std::string(p.as_string()));
    }
    std::string n = std::to_string(sql.params.size() + 1);
    std::string candidates = ids ? "id = ANY($" + n + "::text[]) AND " : "";
    std::string signature = (ids ? "ids:" : "all:") + types + "|" + sql.where;
    auto [it, fresh] = statements.emplace(signature, "q" + std::to_string(statements.size()));
    if (fresh) {
      std::string all_types = types + (ids ? std::string(types.empty() ? "" : ", ") + "text[]" : "");
      prepare += "PREPARE " + it->second + (all_types.empty() ? "" : "(" + all_types + ")") +
                 " AS SELECT 'r:' || coalesce(string_agg(id, ',' ORDER BY id), '') FROM documents WHERE " + candidates +
                 "(" + sql.where + ");\n";
    }
    if (ids) {
      json::array a;
      for (const auto& id : *ids) a.emplace_back(id);
      args += std::string(args.empty() ? "" : ", ") + itest::sql_text(itest::pg_array(a));
    }
    execute += "EXECUTE " + it->second + (args.empty() ? "" : "(" + args + ")") + ";\n";
  };
  auto qs = queries(3);
  std::vector<std::vector<std::string>> want;
  for (const auto& q : qs) {
    std::vector<std::string> ids;
    for (const auto& c : q.candidates) ids.push_back(c.id);
    add(q.user, ids);
    want.push_back(expected_pre(*org_, *oracle_, q));
  }
  // Whole views: everything the user may read among all the rows.
  for (int i = 0; i < kWholeViews; ++i) {
    const auto& user = org_->users[static_cast<size_t>(i * 37) % org_->users.size()].id;
    add(user, std::nullopt);
    std::vector<std::string> view;
    for (const auto& d : org_->documents)
      if (oracle_->user_may_read(user, d)) view.push_back(d.id);
    std::sort(view.begin(), view.end());
    want.push_back(std::move(view));
  }
  auto result = pg.psql(prepare + execute);
  ASSERT_EQ(result.exit_code, 0) << result.output.substr(0, 2000);
  std::vector<std::string> lines;
  std::istringstream out(result.output);
  for (std::string line; std::getline(out, line);)
    if (line.rfind("r:", 0) == 0) lines.push_back(line.substr(2));
  ASSERT_EQ(lines.size(), want.size());
  size_t leaks = 0, drops = 0, returned = 0, whole = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<std::string> got;
    std::istringstream ids(lines[i]);
    for (std::string id; std::getline(ids, id, ',');) got.push_back(id);
    std::sort(got.begin(), got.end());  // the store's collation may order differently
    std::vector<std::string> leaked, dropped;
    std::set_difference(got.begin(), got.end(), want[i].begin(), want[i].end(), std::back_inserter(leaked));
    std::set_difference(want[i].begin(), want[i].end(), got.begin(), got.end(), std::back_inserter(dropped));
    if (!leaked.empty() || !dropped.empty())
      ADD_FAILURE() << "query " << i << ": " << leaked.size() << " leaked (" << (leaked.empty() ? "" : leaked[0]) << "), "
                    << dropped.size() << " wrongly dropped (" << (dropped.empty() ? "" : dropped[0]) << ")";
    leaks += leaked.size();
    drops += dropped.size();
    returned += got.size();
    if (i >= qs.size()) whole += got.size();
  }
  EXPECT_EQ(leaks, 0u);
  EXPECT_EQ(drops, 0u);
  EXPECT_GT(returned, qs.size());
  EXPECT_GT(whole, static_cast<size_t>(kWholeViews));
  std::cout << "[ oracle ] PostgreSQL pre-filter over " << org_->documents.size() << " rows: " << qs.size()
            << " queries and " << kWholeViews << " whole views, " << returned << " rows returned (" << whole
            << " in whole views): 0 leaks, 0 wrongful drops, in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
}

}  // namespace
}  // namespace ztgate
