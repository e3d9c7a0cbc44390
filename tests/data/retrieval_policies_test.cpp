// The shipped retrieval policies (examples/retrieval) through the
// post-filter over the shipped example catalog: each rule allows and
// denies what it says, agents never exceed their user, and unknown ids
// and labels fail closed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"
#include "cedar/validator.h"
#include "data/catalog_jsonl.h"
#include "data/post_filter.h"

namespace ztgate::data {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(std::string(ZTGATE_SOURCE_DIR) + "/" + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class RetrievalPolicies : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policies = cedar::parse_policies(read("examples/retrieval/policies.cedar"));
    ASSERT_TRUE(policies) << policies.error().message;
    auto schema = cedar::parse_schema(read("policies/ztgate.cedarschema"));
    ASSERT_TRUE(schema) << schema.error().message;
    auto v = cedar::validate_policies(*schema, *policies);
    for (const auto& e : v.errors) ADD_FAILURE() << e.message;
    authorizer_ = std::make_unique<cedar::Authorizer>(std::make_shared<const cedar::PolicySet>(std::move(*policies)));
    auto c = load_catalog({std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval/documents.jsonl"}, ClassificationScale());
    ASSERT_TRUE(c) << c.error().message;
    catalog_ = std::move(*c);
    // The agent comes with its credential (a delegation token), as the
    // gateway's overlay would bring it.
    cedar::Entity agent;
    agent.uid = {"Agent", "summarizer"};
    agent.attrs.emplace("on_behalf_of", cedar::EntityUID{"User", "alice"});
    agent.attrs.emplace("max_scopes", cedar::Value::set({cedar::Value("docs:read")}));
    auto base = cedar::Entities::build({agent});
    ASSERT_TRUE(base);
    base_ = std::make_shared<const cedar::Entities>(std::move(*base));
  }

  // The ids the reader gets, in order.
  std::vector<std::string> allowed(const Reader& reader, const std::vector<std::string>& ids,
                                   std::vector<std::string> scopes = {}) {
    std::vector<Candidate> candidates;
    for (const auto& id : ids) candidates.push_back({id, std::nullopt});
    auto decisions = authorize(reader, candidates, std::move(scopes));
    std::vector<std::string> out;
    for (size_t i = 0; i < ids.size(); ++i)
      if (decisions[i].allow) out.push_back(ids[i]);
    return out;
  }

  std::vector<ItemDecision> authorize(const Reader& reader, const std::vector<Candidate>& candidates,
                                      std::vector<std::string> scopes = {}) {
    cedar::ValueRecord ctx;
    if (!scopes.empty()) {
      cedar::ValueSet s(scopes.begin(), scopes.end());
      ctx.emplace("delegation", cedar::Value::record({{"scopes", cedar::Value::set(std::move(s))},
                                                      {"task", "t1"},
                                                      {"depth", 1},
                                                      {"chain", cedar::Value::set({})}}));
    }
    auto context = std::make_shared<const cedar::ValueRecord>(std::move(ctx));
    return authorize_candidates(catalog_, reader, candidates, context, base_,
                                [&](const cedar::Request& r, std::string_view, const EntitiesFn& entities) {
                                  auto e = entities();
                                  EXPECT_TRUE(e);
                                  if (!e) return DecisionOutcome{};
                                  auto resp = authorizer_->is_authorized(r, **e);
                                  for (const auto& err : resp.errors) ADD_FAILURE() << err.policy_id << ": " << err.message;
                                  return DecisionOutcome{resp.decision == cedar::Decision::kAllow, resp.determining};
                                });
  }

  static Reader user(const std::string& id) { return Reader{{"User", id}, id, {}}; }

  const std::vector<std::string> all_ = {"handbook",  "gateway-design", "gateway-design#1", "incident-2026-03",
                                         "budget-2027", "bob-notes",    "root-keys",        "globex-plan"};
  std::unique_ptr<cedar::Authorizer> authorizer_;
  DocumentCatalog catalog_;
  std::shared_ptr<const cedar::Entities> base_;
};

TEST_F(RetrievalPolicies, NestedGroupMembershipSharedWithAndClearanceDecideAlice) {
  // handbook: staff (platform in engineering in staff); design docs:
  // engineering; incident: platform at her clearance; bob-notes: shared
  // with her. Not budget (finance), root-keys (restricted > confidential),
  // globex-plan (other tenant).
  EXPECT_EQ(allowed(user("alice"), all_),
            (std::vector<std::string>{"handbook", "gateway-design", "gateway-design#1", "incident-2026-03", "bob-notes"}));
}

TEST_F(RetrievalPolicies, ClearanceBindsEvenTheOwner) {
  // bob owns budget-2027 (confidential) but is cleared for internal only.
  EXPECT_EQ(allowed(user("bob"), all_), (std::vector<std::string>{"handbook", "bob-notes"}));
}

TEST_F(RetrievalPolicies, OwnerReadsAndRestrictedNeedsRestrictedClearance) {
  EXPECT_EQ(allowed(user("carol"), all_),
            (std::vector<std::string>{"handbook", "gateway-design", "gateway-design#1", "incident-2026-03", "root-keys"}));
}

TEST_F(RetrievalPolicies, TenantsNeverMix) {
  // mallory is in engineering with restricted clearance, but in globex.
  EXPECT_EQ(allowed(user("mallory"), all_), std::vector<std::string>{"globex-plan"});
}

TEST_F(RetrievalPolicies, AUserUnknownToTheCatalogReadsNothing) {
  EXPECT_TRUE(allowed(user("eve"), all_).empty());
}

TEST_F(RetrievalPolicies, TokenGroupsJoinTheCatalogsNesting) {
  // eve is unknown to the catalog: no clearance, so still nothing, even in platform.
  EXPECT_TRUE(allowed(Reader{{"User", "eve"}, "eve", {"platform"}}, all_).empty());
}

TEST_F(RetrievalPolicies, AnAgentReadsOnlyWhatItsUserMayReadWithinScope) {
  Reader agent{{"Agent", "summarizer"}, "alice", {}};
  EXPECT_TRUE(allowed(agent, all_).empty()) << "no delegation: nothing";
  EXPECT_TRUE(allowed(agent, all_, {"tools:read"}).empty()) << "no docs:read scope: nothing";
  EXPECT_EQ(allowed(agent, all_, {"docs:read"}),
            (std::vector<std::string>{"handbook", "gateway-design", "gateway-design#1", "incident-2026-03", "bob-notes"}));
}

TEST_F(RetrievalPolicies, ABroadlyPermittedAgentStillNeverExceedsItsUser) {
  // A site adds a permit that lets the agent read everything: the
  // gateway's second decision (for alice) still denies what alice may not read.
  auto broad = cedar::parse_policies(read("examples/retrieval/policies.cedar") +
                                     "\npermit (principal == Agent::\"summarizer\", action, resource);"
                                     "\npermit (principal == Agent::\"summarizer\", action, resource is Document) when { true };");
  ASSERT_TRUE(broad);
  // Without the agent's own forbid in the way: drop the agent-bounded rule.
  cedar::PolicySet only_broad;
  for (const auto& p : broad->policies())
    if (!p->annotation("id") || *p->annotation("id") != "agent-bounded-by-its-user") {
      ASSERT_TRUE(only_broad.add(*p));
    }
  authorizer_ = std::make_unique<cedar::Authorizer>(std::make_shared<const cedar::PolicySet>(std::move(only_broad)));
  Reader agent{{"Agent", "summarizer"}, "alice", {}};
  std::vector<Candidate> candidates;
  for (const auto& id : all_) candidates.push_back({id, std::nullopt});
  auto decisions = authorize(agent, candidates, {"docs:read", "docs:read:restricted"});
  for (size_t i = 0; i < all_.size(); ++i) {
    bool alice_may = all_[i] != "budget-2027" && all_[i] != "root-keys" && all_[i] != "globex-plan";
    EXPECT_EQ(decisions[i].allow, alice_may) << all_[i];
    if (!alice_may) {
      EXPECT_EQ(decisions[i].reason, "user_denied") << all_[i];
    }
  }
}

TEST_F(RetrievalPolicies, UnknownIdsAndLabelsFailClosedAndLabelsOnlyTighten) {
  auto d = authorize(user("alice"), {{"no-such-doc", std::nullopt},
                                     {"handbook", std::string("top-secret")},
                                     {"gateway-design", std::string("restricted")},
                                     {"gateway-design#1", std::string("public")}});
  EXPECT_FALSE(d[0].allow);
  EXPECT_EQ(d[0].reason, "unknown_document");
  EXPECT_FALSE(d[1].allow);
  EXPECT_EQ(d[1].reason, "unknown_label");
  EXPECT_FALSE(d[2].allow) << "a stricter label than the catalog's binds";
  EXPECT_EQ(d[2].reason, "denied");
  EXPECT_TRUE(d[3].allow) << "a looser label does not lower the catalog's";
}

TEST_F(RetrievalPolicies, OrderIsKeptAndRepeatsAreDecidedEachTime) {
  EXPECT_EQ(allowed(user("alice"), {"bob-notes", "root-keys", "handbook", "bob-notes"}),
            (std::vector<std::string>{"bob-notes", "handbook", "bob-notes"}));
}

TEST_F(RetrievalPolicies, ManyCandidatesSpanSeveralLayers) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < kDocumentsPerLayer * 2 + 3; ++i) ids.push_back(all_[i % all_.size()]);
  auto got = allowed(user("alice"), ids);
  size_t expected = 0;
  for (const auto& id : ids)
    expected += (id == "handbook" || id == "gateway-design" || id == "gateway-design#1" || id == "incident-2026-03" ||
                 id == "bob-notes");
  EXPECT_EQ(got.size(), expected);
}

}  // namespace
}  // namespace ztgate::data
