// End to end, in process: a user's claims are mapped to a Cedar principal,
// an agent gets a delegation token for a task, the gateway verifies it and
// builds the Cedar request, and the shipped schema plus a policy decide:
// "this agent may call this tool only for users in this group, only within
// scope X". Entities and context are validated against policies/ztgate.cedarschema.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "authn/delegation.h"
#include "authn/identity.h"
#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"

namespace ztgate {
namespace {

namespace json = boost::json;
constexpr int64_t kNow = 1'900'000'000;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kPolicies = R"(
@id("docs-agents-for-engineers-within-scope")
permit (principal is Agent, action == Action::"call_tool", resource in ToolServer::"docs")
when {
  principal.on_behalf_of in Group::"engineering" &&
  context has delegation && context.delegation.scopes.contains("docs:read") &&
  context.delegation.depth <= 2
};

@id("no-tools-without-mfa-behind-the-delegation")
forbid (principal is Agent, action == Action::"call_tool", resource)
unless { context has authn && context.authn.mfa };
)";

constexpr const char* kStaticEntities = R"([
  {"uid":{"type":"Group","id":"engineering"},"attrs":{},"parents":[]},
  {"uid":{"type":"ToolServer","id":"docs"},"attrs":{},"parents":[]},
  {"uid":{"type":"Tool","id":"docs.search"},
   "attrs":{"read_only":true,"destructive":false,"open_world":false,"sensitivity":0},
   "parents":[{"type":"ToolServer","id":"docs"}]}
])";

class IdentityCedarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = cedar::parse_schema(read_file(std::string(ZTGATE_SOURCE_DIR) + "/policies/ztgate.cedarschema"));
    ASSERT_TRUE(schema) << schema.error().message;
    schema_ = std::make_unique<cedar::Schema>(std::move(*schema));
    auto policies = cedar::parse_policies(kPolicies);
    ASSERT_TRUE(policies) << policies.error().message;
    authorizer_ = std::make_unique<cedar::Authorizer>(
        std::make_shared<const cedar::PolicySet>(std::move(*policies)));
    auto agents = authn::AgentRegistry::create(
        {authn::AgentRecord{"build-bot", "", *authn::ScopeSet::parse("docs:read tickets:write"), {}, {}, 0, true}});
    ASSERT_TRUE(agents);
    agents_ = std::move(*agents);
    keys_.push_back(key_.public_jwk().value());
    service_ = std::make_unique<authn::DelegationService>(authn::DelegationConfig{}, key_, agents_, std::move(keys_));
  }

  authn::Identity user(std::string_view claims_json) {
    authn::JwtClaims claims;
    claims.all = json::parse(claims_json).as_object();
    auto id = authn::map_claims(claims, authn::ClaimMapping{}, "corp");
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }

  // The gateway's side: verify the token, build entities and context, decide.
  cedar::Decision decide(const std::string& token) {
    auto d = service_->verify(token, kNow + 1);
    EXPECT_TRUE(d) << d.error().message;
    if (!d) return cedar::Decision::kDeny;
    json::array entities = json::parse(kStaticEntities).as_array();
    for (auto& e : authn::delegation_entities(*d, agents_)) {
      // The static store already has the group; the request adds only the rest.
      if (e.as_object().at("uid").as_object().at("type") == "Group") continue;
      entities.push_back(e);
    }
    auto parsed = cedar::parse_entities_json(json::serialize(entities), schema_.get());
    EXPECT_TRUE(parsed) << parsed.error().message;
    json::object context{{"delegation", authn::delegation_context(*d)},
                         {"authn", authn::delegation_authn_context(*d, kNow + 1)}};
    auto action = cedar::parse_entity_uid("Action::\"call_tool\"");
    auto ctx = cedar::parse_context_json(json::serialize(context), schema_.get(), *action);
    EXPECT_TRUE(ctx) << ctx.error().message;
    if (!parsed || !ctx) return cedar::Decision::kDeny;
    cedar::Request request{*cedar::parse_entity_uid(EntityRefText(*d)), *action,
                           *cedar::parse_entity_uid("Tool::\"docs.search\""), *ctx};
    return authorizer_->is_authorized(request, *parsed).decision;
  }

  static std::string EntityRefText(const authn::Delegation& d) {
    return authn::EntityRef{"Agent", d.agent()}.to_cedar();
  }

  std::string mint(const authn::Identity& u, std::string_view scopes) {
    authn::ExchangeRequest req;
    req.user = &u;
    req.actor = "build-bot";
    req.requested = *authn::ScopeSet::parse(scopes);
    auto minted = service_->exchange(req, kNow);
    EXPECT_TRUE(minted) << minted.error().message;
    return minted ? minted->token : std::string();
  }

  std::unique_ptr<cedar::Schema> schema_;
  std::unique_ptr<cedar::Authorizer> authorizer_;
  authn::SigningKey key_ = authn::SigningKey::generate().value();
  authn::AgentRegistry agents_;
  std::vector<authn::Jwk> keys_;
  std::unique_ptr<authn::DelegationService> service_;
};

TEST_F(IdentityCedarTest, AgentForAnEngineerWithinScopeIsAllowed) {
  auto alice = user(R"({"sub":"alice","groups":["engineering"],"scope":"docs:read","amr":["mfa"]})");
  EXPECT_EQ(decide(mint(alice, "docs:read")), cedar::Decision::kAllow);
}

TEST_F(IdentityCedarTest, SameAgentForAUserOutsideTheGroupIsDenied) {
  auto bob = user(R"({"sub":"bob","groups":["sales"],"scope":"docs:read","amr":["mfa"]})");
  EXPECT_EQ(decide(mint(bob, "docs:read")), cedar::Decision::kDeny);
}

TEST_F(IdentityCedarTest, SameAgentWithoutTheScopeIsDenied) {
  auto alice = user(R"({"sub":"alice","groups":["engineering"],"scope":"docs:read tickets:write","amr":["mfa"]})");
  EXPECT_EQ(decide(mint(alice, "tickets:write")), cedar::Decision::kDeny);
}

TEST_F(IdentityCedarTest, DelegationFromAPasswordOnlyLoginIsDenied) {
  auto alice = user(R"({"sub":"alice","groups":["engineering"],"scope":"docs:read","amr":["pwd"]})");
  EXPECT_EQ(decide(mint(alice, "docs:read")), cedar::Decision::kDeny);
}

}  // namespace
}  // namespace ztgate
