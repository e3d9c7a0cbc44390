// AuthZEN request parsing, mapping onto Cedar, batch semantics and the
// response/metadata documents (src/gateway/authzen.h). The policy fixture is
// the AuthZEN 1.0 certification scenario's (certification/
// authorization-api-1_0-scenario.md, "Required Fixture"), rules 1-8.
#include "gateway/authzen.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cedar/policy_set.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr std::string_view kFixturePolicies = R"(
  @id("read") permit (principal is User, action == Action::"read", resource is Record);
  @id("alice-write") permit (principal == User::"alice", action == Action::"write", resource is Record)
    unless { context.resource has status && context.resource.status == "archived" };
  @id("admin-write") permit (principal is User, action == Action::"write", resource is Record)
    when { context.subject has role && context.subject.role == "admin" };
  @id("soft-delete") permit (principal == User::"alice", action == Action::"delete", resource is Record)
    when { context.action has soft && context.action.soft == true };
)";

class AuthzenTest : public ::testing::Test {
 protected:
  AuthzenTest()
      : authorizer_(std::make_shared<const cedar::PolicySet>(
            std::move(*cedar::parse_policies(kFixturePolicies)))) {}

  bool decide(std::string_view body) {
    auto request = parse_evaluation_request(body);
    EXPECT_TRUE(request.ok()) << (request ? "" : request.error().message);
    if (!request) return false;
    auto decision = evaluate(*request, AuthzenMapping{}, authorizer_, entities_);
    EXPECT_TRUE(decision.ok()) << (decision ? "" : decision.error().message);
    return decision && decision->decision;
  }

  std::vector<bool> decide_batch(std::string_view body) {
    auto request = parse_evaluations_request(body);
    EXPECT_TRUE(request.ok()) << (request ? "" : request.error().message);
    std::vector<bool> out;
    if (!request) return out;
    for (const auto& d : evaluate_batch(*request, AuthzenMapping{}, authorizer_, entities_))
      out.push_back(d.decision);
    return out;
  }

  cedar::Authorizer authorizer_;
  cedar::Entities entities_;
};

void expect_error(const Result<AuthzenEvaluation>& r, std::string_view code,
                  std::string_view message_prefix) {
  ASSERT_FALSE(r.ok()) << "accepted, expected " << code << " at " << message_prefix;
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_TRUE(r.error().message.starts_with(message_prefix)) << r.error().message;
}

constexpr std::string_view kAliceReadsRecord1 =
    R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},
        "resource":{"type":"record","id":"record-1"}})";

// --- parsing and mapping --------------------------------------------------

TEST_F(AuthzenTest, MapsSubjectActionResourceOntoCedarUids) {
  auto e = parse_evaluation_request(kAliceReadsRecord1);
  ASSERT_TRUE(e.ok());
  auto r = to_cedar_request(*e, AuthzenMapping{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->principal, (cedar::EntityUID{"User", "alice"}));
  EXPECT_EQ(r->action, (cedar::EntityUID{"Action", "read"}));
  EXPECT_EQ(r->resource, (cedar::EntityUID{"Record", "record-1"}));
  // The three property records are always there, empty when none were sent.
  ASSERT_TRUE(r->context);
  for (const char* key : {"subject", "action", "resource"}) {
    auto it = r->context->find(key);
    ASSERT_NE(it, r->context->end()) << key;
    ASSERT_TRUE(it->second.is_record());
    EXPECT_TRUE(it->second.as_record().empty());
  }
}

TEST_F(AuthzenTest, ContextAndPropertiesBecomeCedarValues) {
  auto e = parse_evaluation_request(
      R"({"subject":{"type":"user","id":"alice","properties":{"level":3,"tags":["a","b","a"]}},
          "action":{"name":"read"},"resource":{"type":"record","id":"r"},
          "context":{"ip":"10.0.0.1","flags":{"mfa":true}}})");
  ASSERT_TRUE(e.ok());
  auto r = to_cedar_request(*e, AuthzenMapping{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const cedar::ValueRecord& ctx = *r->context;
  EXPECT_EQ(ctx.at("ip"), cedar::Value("10.0.0.1"));
  EXPECT_TRUE(ctx.at("flags").as_record().at("mfa").as_bool());
  const cedar::ValueRecord& subject = ctx.at("subject").as_record();
  EXPECT_EQ(subject.at("level"), cedar::Value(int64_t{3}));
  EXPECT_EQ(subject.at("tags").as_set().size(), 2u);  // a set: duplicates collapse
}

TEST_F(AuthzenTest, ValuesWithoutACedarFormAreRefusedWithTheirPath) {
  auto map = [](std::string_view context) {
    auto e = parse_evaluation_request(
        std::string(R"({"subject":{"type":"user","id":"a"},"action":{"name":"read"},)"
                    R"("resource":{"type":"record","id":"r"},"context":)") +
        std::string(context) + "}");
    EXPECT_TRUE(e.ok());
    return to_cedar_request(*e, AuthzenMapping{});
  };
  auto null_value = map(R"({"a":[1,null]})");
  ASSERT_FALSE(null_value.ok());
  EXPECT_EQ(null_value.error().code, "authzen_invalid");
  EXPECT_TRUE(null_value.error().message.starts_with("/context/a/1:")) << null_value.error().message;
  EXPECT_FALSE(map(R"({"x":1.5})").ok());
  EXPECT_FALSE(map(R"({"x":18446744073709551615})").ok());
  // The property records' names are reserved: a caller cannot pose as them.
  auto reserved = map(R"({"resource":{"ownerID":"alice"}})");
  ASSERT_FALSE(reserved.ok());
  EXPECT_TRUE(reserved.error().message.starts_with("/context/resource:"));
}

TEST_F(AuthzenTest, EntityEscapesAreJustRecordKeys) {
  auto e = parse_evaluation_request(
      R"({"subject":{"type":"user","id":"a"},"action":{"name":"read"},
          "resource":{"type":"record","id":"r"},
          "context":{"owner":{"__entity":{"type":"User","id":"alice"}}}})");
  ASSERT_TRUE(e.ok());
  auto r = to_cedar_request(*e, AuthzenMapping{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->context->at("owner").is_record());  // not an entity reference
}

TEST_F(AuthzenTest, UnknownMembersAreIgnoredUnlessLegacyPropertiesAreOn) {
  // Forward compatibility (certification 2.2.9).
  std::string body =
      R"({"subject":{"type":"user","id":"alice","identity":"x"},"action":{"name":"read"},
          "resource":{"type":"record","id":"record-1","ownerID":"bob",
                      "properties":{"ownerID":"alice"}},"foo":"bar","futureField":{"n":true}})";
  auto plain = parse_evaluation_request(body);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->subject.properties.empty());
  EXPECT_EQ(plain->resource.properties.at("ownerID"), "alice");
  auto legacy = parse_evaluation_request(body, ParseOptions{.legacy_member_properties = true});
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->subject.properties.at("identity"), "x");
  EXPECT_EQ(legacy->resource.properties.at("ownerID"), "alice");  // explicit properties win
  EXPECT_TRUE(decide(body));
}

TEST_F(AuthzenTest, MissingMembersAreRefusedWithTheirPath) {
  // Certification 2.4.1 and 2.4.2.
  expect_error(parse_evaluation_request(
                   R"({"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/subject: required");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"a"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/action: required");
  expect_error(parse_evaluation_request(R"({"subject":{"type":"user","id":"a"},"action":{"name":"read"}})"),
               "authzen_invalid", "/resource: required");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"id":"a"},"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/subject/type: required");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/subject/id: required");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"a"},"action":{},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/action/name: required");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"a"},"action":{"name":"read"},"resource":{"id":"r"}})"),
               "authzen_invalid", "/resource/type: required");
}

TEST_F(AuthzenTest, MistypedMembersAreRefusedWithTheirPath) {
  // Certification 2.4.6, and the rest of the information model.
  expect_error(parse_evaluation_request(
                   R"({"subject":"alice","action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/subject: must be an object");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"a"},"action":{"name":123},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/action/name: must be a string");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":""},"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/subject/id: must not be empty");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"a","properties":[]},"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "/subject/properties: must be an object");
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"a"},"action":{"name":"read"},"resource":{"type":"record","id":"r"},"context":"x"})"),
               "authzen_invalid", "/context: must be an object");
}

TEST_F(AuthzenTest, BadBodiesAreRefused) {
  expect_error(parse_evaluation_request(""), "authzen_invalid", "/: the request body is empty");
  expect_error(parse_evaluation_request("{\"subject\":"), "authzen_invalid", "/: the request body is not valid JSON");
  expect_error(parse_evaluation_request("[]"), "authzen_invalid", "/: the request must be a JSON object");
  // Duplicate names: `id` must not mean one thing here and another upstream.
  expect_error(parse_evaluation_request(
                   R"({"subject":{"type":"user","id":"alice","id":"admin"},"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_invalid", "duplicate key");
  std::string deep(kMaxJsonDepth + 1, '[');
  expect_error(parse_evaluation_request(std::string(R"({"context":{"a":)") + deep +
                                        std::string(kMaxJsonDepth + 1, ']') + "}}"),
               "authzen_too_large", "/: JSON nesting");
  expect_error(parse_evaluation_request(std::string(kMaxBodyBytes + 1, ' ')), "authzen_too_large", "/:");
  std::string long_id(kMaxIdentifierBytes + 1, 'x');
  expect_error(parse_evaluation_request(R"({"subject":{"type":"user","id":")" + long_id +
                                        R"("},"action":{"name":"read"},"resource":{"type":"record","id":"r"}})"),
               "authzen_too_large", "/subject/id:");
}

TEST_F(AuthzenTest, TypeMappingDefaultRuleAndOverrides) {
  AuthzenMapping mapping;
  EXPECT_EQ(*cedar_entity_type("user", mapping), "User");
  EXPECT_EQ(*cedar_entity_type("service_account", mapping), "ServiceAccount");
  EXPECT_EQ(*cedar_entity_type("ai-agent", mapping), "AiAgent");
  mapping.entity_types["user"] = "Acme::Person";
  EXPECT_EQ(*cedar_entity_type("user", mapping), "Acme::Person");
  for (std::string_view bad : {"us er", "user\"", "9lives", "::", "a::b", "action"}) {
    auto t = cedar_entity_type(bad, AuthzenMapping{});
    EXPECT_FALSE(t.ok()) << bad;
    if (!t) {
      EXPECT_EQ(t.error().code, "authzen_mapping");
    }
  }
  mapping.entity_types["bad"] = "Not A Type";
  EXPECT_FALSE(cedar_entity_type("bad", mapping).ok());
  mapping.entity_types["kw"] = "Acme::in";  // a keyword would not parse back
  EXPECT_FALSE(cedar_entity_type("kw", mapping).ok());
  auto e = parse_evaluation_request(kAliceReadsRecord1);
  ASSERT_TRUE(e.ok());
  AuthzenMapping wrong_action;
  wrong_action.action_type = "User";
  auto r = to_cedar_request(*e, wrong_action);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "authzen_config");
  AuthzenMapping ns;
  ns.action_type = "Acme::Action";
  r = to_cedar_request(*e, ns);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, (cedar::EntityUID{"Acme::Action", "read"}));
}

TEST_F(AuthzenTest, OddIdsRoundTripThroughCedarText) {
  auto e = parse_evaluation_request(
      R"({"subject":{"type":"user","id":"a\"b\\c::\"d"},"action":{"name":"x\ny"},"resource":{"type":"record","id":"r"}})");
  ASSERT_TRUE(e.ok());
  auto r = to_cedar_request(*e, AuthzenMapping{});
  ASSERT_TRUE(r.ok());
  auto back = cedar::parse_entity_uid(cedar::to_string(r->principal));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, r->principal);
}

// --- decisions: the certification fixture ----------------------------------

TEST_F(AuthzenTest, CertificationFixtureRulesOneToEight) {
  EXPECT_TRUE(decide(kAliceReadsRecord1));  // 1
  EXPECT_TRUE(decide(R"({"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"resource":{"type":"record","id":"record-1"}})"));  // 2
  EXPECT_TRUE(decide(R"({"subject":{"type":"user","id":"bob"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}})"));  // 3
  EXPECT_FALSE(decide(R"({"subject":{"type":"user","id":"bob"},"action":{"name":"write"},"resource":{"type":"record","id":"record-1"}})"));  // 4
  EXPECT_FALSE(decide(R"({"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}})"));  // 5
  EXPECT_TRUE(decide(R"({"subject":{"type":"user","id":"bob","properties":{"role":"admin"}},"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}})"));  // 6
  EXPECT_TRUE(decide(R"({"subject":{"type":"user","id":"alice"},"action":{"name":"delete","properties":{"soft":true}},"resource":{"type":"record","id":"record-1"}})"));  // 7
  EXPECT_FALSE(decide(R"({"subject":{"type":"user","id":"alice"},"action":{"name":"delete","properties":{"soft":false}},"resource":{"type":"record","id":"record-1"}})"));  // 8
  // 2.2.3: an optional context does not change the decision.
  EXPECT_TRUE(decide(R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"context":{"time":"2025-06-27T18:03-07:00","ip":"192.168.1.1"}})"));
}

TEST_F(AuthzenTest, DecisionResponseNamesTheDeterminingPolicies) {
  auto e = parse_evaluation_request(kAliceReadsRecord1);
  ASSERT_TRUE(e.ok());
  auto d = evaluate(*e, AuthzenMapping{}, authorizer_, entities_);
  ASSERT_TRUE(d.ok());
  json::object body = decision_json(*d);
  EXPECT_EQ(body.at("decision"), true);
  const json::array& determining =
      body.at("context").at("reason_admin").at("determining_policies").as_array();
  ASSERT_EQ(determining.size(), 1u);
  EXPECT_EQ(determining[0], "policy0");
  // And by the name its author gave it.
  EXPECT_EQ(json::serialize(body.at("context").at("reason_admin").at("policy_names")), R"(["read"])");
}

// --- batch -----------------------------------------------------------------

TEST_F(AuthzenTest, BatchItemsTakeDefaultsFromTheTopLevel) {
  // Certification 3.2.1 / 3.2.2: ordering preserved.
  EXPECT_EQ(decide_batch(R"({"subject":{"type":"user","id":"bob"},"resource":{"type":"record","id":"record-1"},
                             "evaluations":[{"action":{"name":"read"}},{"action":{"name":"write"}}]})"),
            (std::vector<bool>{true, false}));
  // 3.2.4: subject properties per item.
  EXPECT_EQ(decide_batch(R"({"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}},
                             "evaluations":[{"subject":{"type":"user","id":"alice"}},
                                            {"subject":{"type":"user","id":"bob","properties":{"role":"admin"}}}]})"),
            (std::vector<bool>{false, true}));
}

TEST_F(AuthzenTest, BatchItemReplacesTheDefaultObjectButFallsBackForTypeAndId) {
  // Certification 3.2.7.
  auto request = parse_evaluations_request(
      R"({"subject":{"type":"user","id":"alice"},"action":{"name":"write"},
          "resource":{"type":"record","properties":{"status":"archived"}},
          "evaluations":[{"resource":{"id":"record-1","properties":{"status":"active"}}},
                         {"resource":{"id":"record-2"}}]})");
  ASSERT_TRUE(request.ok());
  ASSERT_EQ(request->items.size(), 2u);
  ASSERT_TRUE(request->items[0].ok());
  EXPECT_EQ(request->items[0]->resource.type, "record");
  EXPECT_EQ(request->items[0]->resource.properties.at("status"), "active");
  // Whole-object replacement: the default's properties do not leak in.
  ASSERT_TRUE(request->items[1].ok());
  EXPECT_TRUE(request->items[1]->resource.properties.empty());
}

TEST_F(AuthzenTest, BatchItemContextReplacesTheDefaultContext) {
  auto request = parse_evaluations_request(
      R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"context":{"time":"t0"},
          "evaluations":[{"resource":{"type":"record","id":"record-1"}},
                         {"resource":{"type":"record","id":"record-2"},"context":{"source":"s"}}]})");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->items[0]->context.at("time"), "t0");
  EXPECT_FALSE(request->items[1]->context.contains("time"));
  EXPECT_EQ(request->items[1]->context.at("source"), "s");
}

TEST_F(AuthzenTest, ABadItemIsADenyWithItsErrorNotAFailedBatch) {
  // Certification 3.4.1.
  auto request = parse_evaluations_request(
      R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},
          "evaluations":[{"resource":{"type":"record","id":"record-1"}},{},
                         {"resource":{"type":"not a type","id":"x"}}, 7]})");
  ASSERT_TRUE(request.ok());
  auto decisions = evaluate_batch(*request, AuthzenMapping{}, authorizer_, entities_);
  ASSERT_EQ(decisions.size(), 4u);
  EXPECT_TRUE(decisions[0].decision);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_FALSE(decisions[i].decision);
    EXPECT_EQ(decisions[i].context.at("error").at("status"), 400);
  }
  EXPECT_EQ(decisions[1].context.at("error").at("message"),
            "/evaluations/1/resource: required");
  EXPECT_EQ(decisions[2].context.at("error").at("code"), "authzen_mapping");
  EXPECT_EQ(decisions[3].context.at("error").at("message"), "/evaluations/3: must be an object");
  json::object response = evaluations_response_json(*request, decisions);
  EXPECT_FALSE(response.contains("decision"));
  EXPECT_EQ(response.at("evaluations").as_array().size(), 4u);
}

TEST_F(AuthzenTest, NoOrEmptyEvaluationsMeansASingleEvaluation) {
  // Certification 3.4.2 / 3.4.3.
  for (std::string_view body :
       {R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}})",
        R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"evaluations":[]})"}) {
    auto request = parse_evaluations_request(body);
    ASSERT_TRUE(request.ok());
    EXPECT_TRUE(request->single);
    auto response = evaluations_response_json(
        *request, evaluate_batch(*request, AuthzenMapping{}, authorizer_, entities_));
    EXPECT_EQ(response.at("decision"), true);
    EXPECT_FALSE(response.contains("evaluations"));
  }
  // Without a batch, an incomplete top level is a whole-request error.
  auto bad = parse_evaluations_request(R"({"subject":{"type":"user","id":"alice"},"evaluations":[]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "/action: required");
}

// Three reads: record-1 permit, archived-write deny, record-1 permit.
constexpr std::string_view kMixedBatch =
    R"({"subject":{"type":"user","id":"alice"},"options":{"evaluations_semantic":"%s"},
        "evaluations":[{"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}},
                       {"action":{"name":"write"},"resource":{"type":"record","id":"r2","properties":{"status":"archived"}}},
                       {"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}]})";

std::string with_semantic(std::string_view semantic) {
  std::string body(kMixedBatch);
  body.replace(body.find("%s"), 2, semantic);
  return body;
}

TEST_F(AuthzenTest, EvaluationsSemantics) {
  EXPECT_EQ(decide_batch(with_semantic("execute_all")), (std::vector<bool>{true, false, true}));
  // Stops after the first deny, which is included; nothing for the rest.
  EXPECT_EQ(decide_batch(with_semantic("deny_on_first_deny")), (std::vector<bool>{true, false}));
  EXPECT_EQ(decide_batch(with_semantic("permit_on_first_permit")), (std::vector<bool>{true}));
  // An item error counts as a deny for deny_on_first_deny.
  EXPECT_EQ(decide_batch(R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},
                             "options":{"evaluations_semantic":"deny_on_first_deny"},
                             "evaluations":[{},{"resource":{"type":"record","id":"record-1"}}]})"),
            (std::vector<bool>{false}));
  auto bad = parse_evaluations_request(with_semantic("first_wins"));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().message.starts_with("/options/evaluations_semantic:"));
  auto bad_options = parse_evaluations_request(R"({"options":[],"evaluations":[{}]})");
  ASSERT_FALSE(bad_options.ok());
  EXPECT_EQ(bad_options.error().message, "/options: must be an object");
}

TEST_F(AuthzenTest, BatchLengthIsBounded) {
  auto body = [](size_t n) {
    std::string s = R"({"subject":{"type":"user","id":"a"},"action":{"name":"read"},"evaluations":[)";
    for (size_t i = 0; i < n; ++i) s += std::string(i ? "," : "") + R"({"resource":{"type":"record","id":"r"}})";
    return s + "]}";
  };
  auto at_limit = parse_evaluations_request(body(kMaxEvaluations));
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->items.size(), kMaxEvaluations);
  auto over = parse_evaluations_request(body(kMaxEvaluations + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "authzen_too_large");
  auto not_array = parse_evaluations_request(R"({"evaluations":{}})");
  ASSERT_FALSE(not_array.ok());
  EXPECT_EQ(not_array.error().message, "/evaluations: must be an array");
}

// --- metadata ----------------------------------------------------------------

TEST(AuthzenMetadata, EndpointsUnderTheBaseUrl) {
  auto m = pdp_metadata("https://pdp.example.com/");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->at("policy_decision_point"), "https://pdp.example.com");
  EXPECT_EQ(m->at("access_evaluation_endpoint"), "https://pdp.example.com/access/v1/evaluation");
  EXPECT_EQ(m->at("access_evaluations_endpoint"), "https://pdp.example.com/access/v1/evaluations");
  for (std::string_view bad : {"http://pdp.example.com", "https://", "https://pdp.example.com/?a=b",
                               "https://pdp.example.com/#f", "pdp.example.com"}) {
    auto r = pdp_metadata(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, "authzen_config");
    }
  }
}

TEST(AuthzenErrors, ErrorJsonHasCodeAndMessage) {
  json::object body = error_json(make_error("authzen_invalid", "/subject: required"));
  EXPECT_EQ(body.at("error").at("code"), "authzen_invalid");
  EXPECT_EQ(body.at("error").at("message"), "/subject: required");
}

}  // namespace
}  // namespace ztgate::gateway
