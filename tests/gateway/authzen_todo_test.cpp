// The AuthZEN interop "todo" scenario, in process: every request of the
// upstream decision lists (tests/gateway/authzen_todo/, see its README) goes
// through the AuthZEN parser and mapping onto the scenario's Cedar policies
// and entities, and must get the expected decision.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "gateway/authzen.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

std::string scenario_path(const std::string& name) {
  return std::string(ZTGATE_SOURCE_DIR) + "/tests/gateway/authzen_todo/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Scenario {
  cedar::Authorizer authorizer;
  cedar::Entities entities;
};

Scenario load_scenario() {
  auto policies = cedar::parse_policies(read_file(scenario_path("policies.cedar")));
  EXPECT_TRUE(policies.ok()) << (policies ? "" : policies.error().to_string());
  auto entities = cedar::parse_entities_json(read_file(scenario_path("entities.json")));
  EXPECT_TRUE(entities.ok()) << (entities ? "" : entities.error().to_string());
  return Scenario{
      cedar::Authorizer(std::make_shared<const cedar::PolicySet>(std::move(*policies))),
      std::move(*entities)};
}

// The decision list of an upstream file: {"<key>": [{"request", "expected"}]}.
json::array load_decisions(const std::string& file, const std::string& key) {
  json::value doc = json::parse(read_file(scenario_path(file)));
  return doc.as_object().at(key).as_array();
}

const ParseOptions kLegacy{.legacy_member_properties = true};

void expect_every_decision(const std::string& file, const std::string& key) {
  Scenario s = load_scenario();
  json::array decisions = load_decisions(file, key);
  ASSERT_EQ(decisions.size(), 40u);
  size_t matched = 0;
  for (size_t i = 0; i < decisions.size(); ++i) {
    const json::object& d = decisions[i].as_object();
    std::string body = json::serialize(d.at("request"));
    bool expected = d.at("expected").as_bool();
    auto request = parse_evaluation_request(body, kLegacy);
    ASSERT_TRUE(request.ok()) << file << " #" << i << ": " << request.error().message;
    auto decision = evaluate(*request, AuthzenMapping{}, s.authorizer, s.entities);
    ASSERT_TRUE(decision.ok()) << file << " #" << i << ": " << decision.error().message;
    EXPECT_EQ(decision->decision, expected) << file << " #" << i << ": " << body;
    if (decision->decision == expected) ++matched;
  }
  std::cout << file << ": " << matched << "/" << decisions.size()
            << " expected decisions matched\n";
  EXPECT_EQ(matched, decisions.size());
}

TEST(AuthzenTodo, EveryDecisionOfDecisionsJsonMatches) {
  expect_every_decision("decisions.json", "decisions");
}

TEST(AuthzenTodo, EveryDecisionOfAuthorizationApi10DraftMatches) {
  expect_every_decision("decisions-authorization-api-1_0-00.json", "evaluation");
}

// The same 40 requests as one boxcarred batch: answers come back in order.
TEST(AuthzenTodo, TheWholeListAsOneBatchMatchesInOrder) {
  Scenario s = load_scenario();
  json::array decisions = load_decisions("decisions.json", "decisions");
  json::array items;
  for (const auto& d : decisions) items.push_back(d.as_object().at("request"));
  std::string body = json::serialize(json::object{{"evaluations", items}});
  auto batch = parse_evaluations_request(body, kLegacy);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  auto answers = evaluate_batch(*batch, AuthzenMapping{}, s.authorizer, s.entities);
  json::object response = evaluations_response_json(*batch, answers);
  const json::array& got = response.at("evaluations").as_array();
  ASSERT_EQ(got.size(), decisions.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i].as_object().at("decision").as_bool(),
              decisions[i].as_object().at("expected").as_bool())
        << "item " << i;
}

// Ownership is what the request says: without `ownerID` an editor's update
// of a todo is denied (the policy requires the attribute), fail closed.
TEST(AuthzenTodo, EditorWithoutOwnerIdIsDenied) {
  Scenario s = load_scenario();
  auto request = parse_evaluation_request(
      R"({"subject":{"type":"user","id":"morty@the-citadel.com"},"action":{"name":"can_update_todo"},
          "resource":{"type":"todo","id":"t1"}})");
  ASSERT_TRUE(request.ok());
  auto decision = evaluate(*request, AuthzenMapping{}, s.authorizer, s.entities);
  ASSERT_TRUE(decision.ok());
  EXPECT_FALSE(decision->decision);
  // The 1.0 form (ownerID under properties) permits the owner.
  request = parse_evaluation_request(
      R"({"subject":{"type":"user","id":"morty@the-citadel.com"},"action":{"name":"can_update_todo"},
          "resource":{"type":"todo","id":"t1","properties":{"ownerID":"morty@the-citadel.com"}}})");
  ASSERT_TRUE(request.ok());
  decision = evaluate(*request, AuthzenMapping{}, s.authorizer, s.entities);
  ASSERT_TRUE(decision.ok());
  EXPECT_TRUE(decision->decision);
  const json::array& determining =
      decision->context.at("reason_admin").as_object().at("determining_policies").as_array();
  ASSERT_EQ(determining.size(), 1u);
}

}  // namespace
}  // namespace ztgate::gateway
