// A synthetic organization (groups nested at least 6 deep, folders, users
// with and without clearance and tenant, thousands of documents with mixed
// ACLs and labels) and an oracle that computes who may read what in plain
// code over the same data. The post-filter (the shipped Cedar policies)
// and the pre-filter (its generic predicate, evaluated here) must agree
// with the oracle on every (principal, document): no leak, no wrongful drop.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"
#include "data/access_filter.h"
#include "data/post_filter.h"

namespace ztgate::data {
namespace {

namespace json = boost::json;

constexpr int kGroups = 80;
constexpr int kUsers = 120;
constexpr int kFolders = 40;
constexpr int kDocuments = 4000;
const std::vector<std::string> kTenants = {"acme", "globex", "initech"};

struct Org {
  std::vector<CatalogChange> changes;
  std::map<std::string, std::vector<std::string>> group_parents;
  std::map<std::string, UserRecord> users;
  std::vector<DocumentRecord> documents;
};

Org generate(uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  Org org;
  // Groups: g0 <- g1 <- ... <- g7 is a chain 8 deep; the rest pick 1-2
  // parents among earlier groups (a DAG, so nesting runs deep).
  for (int i = 0; i < kGroups; ++i) {
    GroupRecord g{"g" + std::to_string(i), {}};
    if (i > 0 && i < 8) g.parents.push_back("g" + std::to_string(i - 1));
    if (i >= 8)
      for (int k = 0, n = 1 + pick(2); k < n; ++k) g.parents.push_back("g" + std::to_string(pick(i)));
    org.group_parents[g.id] = g.parents;
    org.changes.emplace_back(g);
  }
  for (int i = 0; i < kFolders; ++i) {
    ContainerRecord f{ContainerKind::kFolder, "f" + std::to_string(i), std::nullopt};
    if (i > 0) f.parent = ContainerRef{ContainerKind::kFolder, "f" + std::to_string(pick(i))};
    org.changes.emplace_back(f);
  }
  for (int i = 0; i < kUsers; ++i) {
    UserRecord u{"u" + std::to_string(i), {}, std::nullopt, ""};
    for (int k = 0, n = pick(3); k < n; ++k) u.groups.push_back("g" + std::to_string(pick(kGroups)));
    if (pick(10) > 0) u.clearance = pick(4);
    if (pick(10) > 0) u.tenant = kTenants[static_cast<size_t>(pick(3))];
    org.users[u.id] = u;
    org.changes.emplace_back(u);
  }
  for (int i = 0; i < kDocuments; ++i) {
    DocumentRecord d;
    d.id = "d" + std::to_string(i);
    if (pick(4) > 0) d.owner = "u" + std::to_string(pick(kUsers));
    for (int k = 0, n = pick(3); k < n; ++k) d.reader_users.push_back("u" + std::to_string(pick(kUsers)));
    for (int k = 0, n = pick(4); k < n; ++k) d.reader_groups.push_back("g" + std::to_string(pick(kGroups)));
    d.classification = pick(4);
    d.tenant = kTenants[static_cast<size_t>(pick(3))];
    d.parent = ContainerRef{ContainerKind::kFolder, "f" + std::to_string(pick(kFolders))};
    org.documents.push_back(d);
    org.changes.emplace_back(d);
  }
  return org;
}

// The oracle: the shipped rules in plain code, with its own group walk.
bool oracle_user_may_read(const Org& org, const std::string& user, const DocumentRecord& d) {
  auto u = org.users.find(user);
  if (u == org.users.end() || !u->second.clearance || u->second.tenant.empty()) return false;
  if (u->second.tenant != d.tenant || *u->second.clearance < d.classification) return false;
  if (d.owner == user) return true;
  if (std::find(d.reader_users.begin(), d.reader_users.end(), user) != d.reader_users.end()) return true;
  std::set<std::string> groups;
  std::vector<std::string> pending = u->second.groups;
  while (!pending.empty()) {
    std::string g = pending.back();
    pending.pop_back();
    if (!groups.insert(g).second) continue;
    for (const auto& p : org.group_parents.at(g)) pending.push_back(p);
  }
  for (const auto& g : d.reader_groups)
    if (groups.count(g)) return true;
  return false;
}

// The generic predicate, evaluated over a document as a store would.
bool matches(const json::object& p, const DocumentRecord& d, const ClassificationScale&) {
  if (p.contains("none")) return false;
  if (const json::value* all = p.if_contains("all")) {
    for (const auto& c : all->as_array())
      if (!matches(c.as_object(), d, {})) return false;
    return true;
  }
  if (const json::value* any = p.if_contains("any")) {
    for (const auto& c : any->as_array())
      if (matches(c.as_object(), d, {})) return true;
    return false;
  }
  std::string field(p.at("field").as_string()), op(p.at("op").as_string());
  if (field == "tenant" && op == "eq") return d.tenant == p.at("value").as_string();
  if (field == "owner" && op == "eq") return d.owner == p.at("value").as_string();
  if (field == "classification" && op == "lte") return d.classification <= p.at("value").as_int64();
  if (field == "readers" && op == "overlaps") {
    for (const auto& v : p.at("values").as_array()) {
      std::string_view s = v.as_string();
      for (const auto& u : d.reader_users)
        if (s == "user:" + u) return true;
      for (const auto& g : d.reader_groups)
        if (s == "group:" + g) return true;
    }
    return false;
  }
  ADD_FAILURE() << "unknown predicate " << json::serialize(p);
  return false;
}

std::string read(const std::string& name) {
  std::ifstream in(std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RetrievalOracle, PostFilterAndPreFilterAgreeWithThePlainOracleForEveryPrincipal) {
  Org org = generate(20261124);
  auto catalog = DocumentCatalog().apply(org.changes);
  ASSERT_TRUE(catalog) << catalog.error().message;
  auto policies = cedar::parse_policies(read("policies.cedar"));
  ASSERT_TRUE(policies);
  cedar::Authorizer authorizer(std::make_shared<const cedar::PolicySet>(std::move(*policies)));
  // Every user has an agent that acts for it (as a delegation token brings it).
  std::vector<cedar::Entity> agents;
  for (const auto& [id, u] : org.users) {
    cedar::Entity a;
    a.uid = {"Agent", "agent-of-" + id};
    a.attrs.emplace("on_behalf_of", cedar::EntityUID{"User", id});
    agents.push_back(std::move(a));
  }
  auto base = cedar::Entities::build(std::move(agents));
  ASSERT_TRUE(base);
  auto base_ptr = std::make_shared<const cedar::Entities>(std::move(*base));
  auto delegated = std::make_shared<const cedar::ValueRecord>(cedar::ValueRecord{
      {"delegation", cedar::Value::record({{"scopes", cedar::Value::set({cedar::Value("docs:read")})},
                                           {"task", "t"}, {"depth", 1}, {"chain", cedar::Value::set({})}})}});
  DocumentDecideFn decide = [&](const cedar::Request& r, std::string_view, const EntitiesFn& entities) {
    auto e = entities();
    EXPECT_TRUE(e);
    if (!e) return DecisionOutcome{};
    auto resp = authorizer.is_authorized(r, **e);
    EXPECT_TRUE(resp.errors.empty()) << resp.errors.front().message;
    return DecisionOutcome{resp.decision == cedar::Decision::kAllow, {}};
  };

  std::vector<Candidate> all;
  for (const auto& d : org.documents) all.push_back({d.id, std::nullopt});
  size_t allowed_total = 0, leaks = 0, drops = 0, agent_leaks = 0, agent_drops = 0;
  for (const auto& [id, u] : org.users) {
    auto decisions = authorize_candidates(*catalog, Reader{{"User", id}, id, {}}, all, nullptr, base_ptr, decide);
    auto agent = authorize_candidates(*catalog, Reader{{"Agent", "agent-of-" + id}, id, {}}, all, delegated, base_ptr, decide);
    auto filter = access_filter(*catalog, id, {});
    ASSERT_TRUE(filter);
    json::object predicate = predicate_json(*filter);
    for (size_t i = 0; i < org.documents.size(); ++i) {
      const DocumentRecord& d = org.documents[i];
      bool expected = oracle_user_may_read(org, id, d);
      allowed_total += expected;
      leaks += decisions[i].allow && !expected;
      drops += !decisions[i].allow && expected;
      // Agents: the user's view, minus restricted documents (no docs:read:restricted).
      bool agent_expected = expected && d.classification < 3;
      agent_leaks += agent[i].allow && !agent_expected;
      agent_drops += !agent[i].allow && agent_expected;
      EXPECT_EQ(matches(predicate, d, catalog->scale()), expected) << id << " " << d.id;
    }
  }
  EXPECT_EQ(leaks, 0u);
  EXPECT_EQ(drops, 0u);
  EXPECT_EQ(agent_leaks, 0u);
  EXPECT_EQ(agent_drops, 0u);
  // The organization must exercise both answers.
  EXPECT_GT(allowed_total, 1000u);
  EXPECT_LT(allowed_total, static_cast<size_t>(kUsers) * kDocuments / 2);
  std::cout << "[ oracle ] " << kUsers << " users x " << kDocuments << " documents (and their agents): "
            << allowed_total << " allowed, 0 leaks, 0 wrongful drops\n";
}

}  // namespace
}  // namespace ztgate::data
