// A synthetic organization (synthetic_org.h: groups nested 8 deep and more,
// spaces, collections, folders, users with and without clearance and
// tenant, thousands of documents and chunks with mixed ACLs and labels) and
// its oracle. The post-filter (the shipped Cedar policies) and the
// pre-filter (its generic predicate, evaluated here) must agree with the
// oracle on EVERY (principal, document): no leak, no wrongful drop. The
// same at 100,000 documents on random queries, through the gateway's
// decider and a real PostgreSQL: tests/integration/retrieval_oracle_itest.cpp.
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
#include "synthetic_org.h"

namespace ztgate::data {
namespace {

namespace json = boost::json;

using synthetic::Org;
using synthetic::OrgShape;

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
  OrgShape shape;
  shape.documents /= synthetic::kScaleDown;
  Org org = synthetic::generate_org(shape, 20261124);
  synthetic::Oracle oracle(org);
  auto catalog = DocumentCatalog().apply(org.changes());
  ASSERT_TRUE(catalog) << catalog.error().message;
  auto policies = cedar::parse_policies(read("policies.cedar"));
  ASSERT_TRUE(policies);
  cedar::Authorizer authorizer(std::make_shared<const cedar::PolicySet>(std::move(*policies)));
  // Every user has an agent that acts for it (as a delegation token brings it).
  std::vector<cedar::Entity> agents;
  for (const auto& u : org.users) {
    cedar::Entity a;
    a.uid = {"Agent", "agent-of-" + u.id};
    a.attrs.emplace("on_behalf_of", cedar::EntityUID{"User", u.id});
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
  for (const auto& u : org.users) {
    const std::string& id = u.id;
    auto decisions = authorize_candidates(*catalog, Reader{{"User", id}, id, {}}, all, nullptr, base_ptr, decide);
    auto agent = authorize_candidates(*catalog, Reader{{"Agent", "agent-of-" + id}, id, {}}, all, delegated, base_ptr, decide);
    auto filter = access_filter(*catalog, id, {});
    ASSERT_TRUE(filter);
    json::object predicate = predicate_json(*filter);
    for (size_t i = 0; i < org.documents.size(); ++i) {
      const DocumentRecord& d = org.documents[i];
      bool expected = oracle.user_may_read(id, d);
      allowed_total += expected;
      leaks += decisions[i].allow && !expected;
      drops += !decisions[i].allow && expected;
      // Agents: the user's view, minus restricted documents (no docs:read:restricted).
      bool agent_expected = oracle.agent_may_read(id, d, d.classification, false);
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
  EXPECT_LT(allowed_total, static_cast<size_t>(shape.users) * static_cast<size_t>(shape.documents) / 2);
  std::cout << "[ oracle ] " << shape.users << " users x " << shape.documents << " documents (and their agents): "
            << allowed_total << " allowed, 0 leaks, 0 wrongful drops\n";
}

}  // namespace
}  // namespace ztgate::data
