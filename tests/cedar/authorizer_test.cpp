// Authorization decisions: default deny, forbid overrides permit, erroring
// policies are skipped and reported, and the scope index never changes an
// answer. Every decision, determining set and error set below was confirmed
// against the official implementation (cedar-wasm 4.13, isAuthorized).
#include <gtest/gtest.h>

#include "test_support.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

// alice is in eng and staff, both in all; Action::"view" is in Action::"read".
constexpr std::string_view kEntities = R"([
  {"uid": {"type": "User", "id": "alice"}, "attrs": {"level": 5},
   "parents": [{"type": "Group", "id": "eng"}, {"type": "Group", "id": "staff"}]},
  {"uid": {"type": "Group", "id": "eng"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "staff"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
  {"uid": {"type": "Doc", "id": "d"}, "attrs": {}, "parents": [{"type": "Folder", "id": "f"}]},
  {"uid": {"type": "Folder", "id": "f"}, "attrs": {}, "parents": [{"type": "Folder", "id": "root"}]}
])";

const Entities& store() {
  static const Entities entities = testing::entities_or_fail(kEntities);
  return entities;
}

EntityUID uid(std::string_view text) { return testing::uid_or_fail(text); }

struct Call {
  std::string_view principal = R"(User::"alice")";
  std::string_view action = R"(Action::"view")";
  std::string_view resource = R"(Doc::"d")";
  std::string_view context = "{}";
};

Authorizer authorizer_for(std::string_view policies) {
  auto set = parse_policies(policies);
  EXPECT_TRUE(set.ok()) << (set ? "" : set.error().to_string());
  return Authorizer(std::make_shared<const PolicySet>(set ? std::move(*set) : PolicySet{}));
}

Response authorize(const Authorizer& az, const Call& call = {}) {
  Request request{uid(call.principal), uid(call.action), uid(call.resource), nullptr};
  auto context = parse_context_json(call.context, nullptr, request.action);
  EXPECT_TRUE(context.ok()) << (context ? "" : context.error().to_string());
  if (context) request.context = *context;
  return az.is_authorized(request, store());
}

Response authorize(std::string_view policies, const Call& call = {}) {
  return authorize(authorizer_for(policies), call);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> error_ids(const Response& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.policy_id);
  return sorted(out);
}

using Ids = std::vector<std::string>;

// ------------------------------------------------------------- decisions

TEST(Authorize, DefaultDenyWithNoPolicies) {
  Response r = authorize("");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.determining.empty());
  EXPECT_TRUE(r.errors.empty());
}

TEST(Authorize, DenyWhenNoPolicyIsSatisfied) {
  Response r = authorize(R"(
    permit(principal == User::"bob", action, resource);
    permit(principal, action, resource) when { false };
    forbid(principal, action, resource) unless { true };
  )");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.determining.empty());
  EXPECT_TRUE(r.errors.empty());
}

TEST(Authorize, SatisfiedPermitAllowsAndAllSatisfiedPermitsDetermine) {
  Response r = authorize(R"(
    permit(principal, action, resource);
    permit(principal == User::"alice", action == Action::"view", resource == Doc::"d");
    permit(principal, action, resource) when { false };
  )");
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(sorted(r.determining), (Ids{"policy0", "policy1"}));
}

TEST(Authorize, ForbidOverridesPermit) {
  Response r = authorize(R"(
    permit(principal, action, resource);
    forbid(principal, action, resource) when { principal.level > 3 };
  )");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(r.determining, (Ids{"policy1"}));  // only the forbids determine a deny
}

TEST(Authorize, ForbidOverridesPermitEvenWhenPermitIsMoreSpecific) {
  Response r = authorize(R"(
    permit(principal == User::"alice", action == Action::"view", resource == Doc::"d");
    forbid(principal, action, resource);
  )");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(r.determining, (Ids{"policy1"}));
}

// ------------------------------------------------------------- errors

TEST(Authorize, ErroringPolicyIsSkippedAndReported) {
  Response r = authorize(R"(
    permit(principal, action, resource) when { principal.no_such_attribute };
    permit(principal, action, resource);
  )");
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.determining, (Ids{"policy1"}));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].policy_id, "policy0");
  EXPECT_NE(r.errors[0].message.find("no_such_attribute"), std::string::npos) << r.errors[0].message;
}

TEST(Authorize, ErroringForbidDoesNotDeny) {
  Response r = authorize(R"(
    forbid(principal, action, resource) when { principal.level > "x" };
    permit(principal, action, resource);
  )");
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.determining, (Ids{"policy1"}));
  EXPECT_EQ(error_ids(r), (Ids{"policy0"}));
}

TEST(Authorize, OnlyErroringPoliciesMeansDeny) {
  Response r = authorize(R"(
    permit(principal, action, resource) when { 1 + "a" == 2 };
    forbid(principal, action, resource) when { principal.nope };
  )");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.determining.empty());
  EXPECT_EQ(error_ids(r), (Ids{"policy0", "policy1"}));
}

TEST(Authorize, NonBooleanConditionIsAnErrorNotADecision) {
  Response r = authorize("permit(principal, action, resource) when { 1 };");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(error_ids(r), (Ids{"policy0"}));
}

TEST(Authorize, PolicyWhoseScopeDoesNotMatchIsNeverAnError) {
  Response r = authorize(R"(
    permit(principal == User::"bob", action, resource) when { 1 + "a" == 2 };
    forbid(principal, action == Action::"delete", resource) when { principal.nope };
    forbid(principal, action, resource is Folder) when { principal.nope };
  )");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.errors.empty());
}

// ------------------------------------------------------------- scopes

TEST(AuthorizeScope, PrincipalInFollowsTheHierarchyAndIsReflexive) {
  const char* policies = R"(permit(principal in Group::"all", action, resource);)";
  EXPECT_EQ(authorize(policies).decision, Decision::kAllow);
  EXPECT_EQ(authorize(policies, {.principal = R"(Group::"eng")"}).decision, Decision::kAllow);
  EXPECT_EQ(authorize(policies, {.principal = R"(Group::"all")"}).decision, Decision::kAllow);
  EXPECT_EQ(authorize(policies, {.principal = R"(User::"carol")"}).decision, Decision::kDeny);
  // An entity missing from the store is still `in` itself.
  EXPECT_EQ(authorize(R"(permit(principal in User::"zed", action, resource);)",
                      {.principal = R"(User::"zed")"})
                .decision,
            Decision::kAllow);
}

TEST(AuthorizeScope, PolicyReachedThroughTwoAncestorsIsReportedOnce) {
  // alice reaches Group::"all" through eng and through staff.
  Response r = authorize(R"(permit(principal in Group::"all", action, resource);)");
  EXPECT_EQ(r.determining, (Ids{"policy0"}));
}

TEST(AuthorizeScope, IsInScope) {
  const char* policies = R"(permit(principal is User in Group::"all", action, resource);)";
  EXPECT_EQ(authorize(policies).decision, Decision::kAllow);
  // In the group, but not a User.
  EXPECT_EQ(authorize(policies, {.principal = R"(Group::"eng")"}).decision, Decision::kDeny);
  // A User, but not in the group.
  EXPECT_EQ(authorize(policies, {.principal = R"(User::"carol")"}).decision, Decision::kDeny);
}

TEST(AuthorizeScope, IsScopeMatchesTheTypeOnly) {
  const char* policies = R"(
    permit(principal is User, action, resource is Doc);
    permit(principal, action, resource is NS::Doc);
  )";
  EXPECT_EQ(authorize(policies).determining, (Ids{"policy0"}));
  EXPECT_EQ(authorize(policies, {.principal = R"(Group::"eng")"}).decision, Decision::kDeny);
  EXPECT_EQ(authorize(policies, {.resource = R"(NS::Doc::"d")"}).determining, (Ids{"policy1"}));
}

TEST(AuthorizeScope, ResourceInFollowsTheHierarchy) {
  const char* policies = R"(permit(principal, action, resource in Folder::"root");)";
  EXPECT_EQ(authorize(policies).decision, Decision::kAllow);
  EXPECT_EQ(authorize(policies, {.resource = R"(Doc::"elsewhere")"}).decision, Decision::kDeny);
}

TEST(AuthorizeScope, ActionInSetScope) {
  const char* policies =
      R"(permit(principal, action in [Action::"read", Action::"write", Action::"read"], resource);)";
  EXPECT_EQ(authorize(policies, {.action = R"(Action::"read")"}).decision, Decision::kAllow);
  EXPECT_EQ(authorize(policies, {.action = R"(Action::"write")"}).decision, Decision::kAllow);
  // view is in read.
  Response view = authorize(policies, {.action = R"(Action::"view")"});
  EXPECT_EQ(view.decision, Decision::kAllow);
  EXPECT_EQ(view.determining, (Ids{"policy0"}));  // listed twice, reported once
  EXPECT_EQ(authorize(policies, {.action = R"(Action::"delete")"}).decision, Decision::kDeny);
  EXPECT_EQ(authorize(R"(permit(principal, action in [], resource);)").decision, Decision::kDeny);
}

TEST(AuthorizeScope, ActionInFollowsTheActionHierarchyUpwardOnly) {
  EXPECT_EQ(authorize(R"(permit(principal, action in Action::"read", resource);)").decision,
            Decision::kAllow);
  EXPECT_EQ(authorize(R"(permit(principal, action in Action::"view", resource);)",
                      {.action = R"(Action::"read")"})
                .decision,
            Decision::kDeny);
  EXPECT_EQ(authorize(R"(permit(principal, action == Action::"read", resource);)").decision,
            Decision::kDeny);
}

TEST(AuthorizeScope, ScopeIndexSkipsNonMatchingPolicies) {
  // 1000 forbids for other principals whose conditions would error, then a
  // permit for alice and an erroring permit for alice.
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "forbid(principal == User::\"u" + std::to_string(i) +
            "\", action, resource) when { 1 + \"x\" == 2 };\n";
  text += "permit(principal == User::\"alice\", action, resource);\n";
  text += "permit(principal == User::\"alice\", action, resource) when { User::\"ghost\".name == \"\" };\n";
  Authorizer az = authorizer_for(text);

  Response alice = authorize(az);
  EXPECT_EQ(alice.decision, Decision::kAllow);
  EXPECT_EQ(alice.determining, (Ids{"policy1000"}));
  EXPECT_EQ(error_ids(alice), (Ids{"policy1001"}));  // none of the other principals' errors

  Response u7 = authorize(az, {.principal = R"(User::"u7")"});
  EXPECT_EQ(u7.decision, Decision::kDeny);
  EXPECT_TRUE(u7.determining.empty());
  EXPECT_EQ(error_ids(u7), (Ids{"policy7"}));
}

TEST(AuthorizeScope, ScopeIndexSkipsPoliciesForOtherResourcesAndActions) {
  std::string text;
  for (int i = 0; i < 500; ++i) {
    std::string n = std::to_string(i);
    text += "forbid(principal, action, resource == Doc::\"r" + n + "\") when { principal.nope };\n";
    text += "forbid(principal, action == Action::\"a" + n + "\", resource) when { principal.nope };\n";
    text += "forbid(principal is Robot" + n + ", action, resource) when { principal.nope };\n";
  }
  text += "permit(principal, action, resource in Folder::\"f\");\n";
  Authorizer az = authorizer_for(text);
  Response r = authorize(az);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.determining, (Ids{"policy1500"}));
  EXPECT_TRUE(r.errors.empty());

  Response hit = authorize(az, {.action = R"(Action::"a42")", .resource = R"(Doc::"r7")"});
  EXPECT_EQ(hit.decision, Decision::kDeny);  // Doc::"r7" is not in Folder::"f"
  EXPECT_EQ(error_ids(hit), (Ids{"policy127", "policy21"}));
  Response robot = authorize(az, {.principal = R"(Robot3::"x")"});
  EXPECT_EQ(error_ids(robot), (Ids{"policy11"}));
}

TEST(AuthorizeScope, EveryScopeShapeIsFoundByTheIndex) {
  // One policy of each scope shape that matches the default request; the
  // index must hand every one of them to the evaluator.
  const char* policies = R"(
    permit(principal, action, resource);
    permit(principal == User::"alice", action, resource);
    permit(principal in Group::"eng", action, resource);
    permit(principal is User, action, resource);
    permit(principal is User in Group::"all", action, resource);
    permit(principal, action == Action::"view", resource);
    permit(principal, action in Action::"read", resource);
    permit(principal, action in [Action::"x", Action::"read"], resource);
    permit(principal, action, resource == Doc::"d");
    permit(principal, action, resource in Folder::"root");
    permit(principal, action, resource is Doc);
    permit(principal, action, resource is Doc in Folder::"f");
    permit(principal is User, action == Action::"view", resource is Doc in Doc::"d");
    permit(principal is Group, action, resource);
    permit(principal, action == Action::"read", resource);
    permit(principal, action, resource is Folder in Folder::"root");
  )";
  Response r = authorize(policies);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(sorted(r.determining),
            sorted({"policy0", "policy1", "policy2", "policy3", "policy4", "policy5", "policy6",
                    "policy7", "policy8", "policy9", "policy10", "policy11", "policy12"}));
}

// ------------------------------------------------------------- request data

TEST(AuthorizeRequest, ContextIsVisibleToConditions) {
  const char* policies = R"(permit(principal, action, resource) when { context.mfa == true };)";
  EXPECT_EQ(authorize(policies, {.context = R"({"mfa": true})"}).decision, Decision::kAllow);
  EXPECT_EQ(authorize(policies, {.context = R"({"mfa": false})"}).decision, Decision::kDeny);
  Response missing = authorize(policies, {.context = "{}"});
  EXPECT_EQ(missing.decision, Decision::kDeny);
  EXPECT_EQ(error_ids(missing), (Ids{"policy0"}));
}

TEST(AuthorizeRequest, NullContextIsTheEmptyRecord) {
  Authorizer az = authorizer_for("permit(principal, action, resource) when { context == {} };");
  Request request{uid(R"(User::"alice")"), uid(R"(Action::"view")"), uid(R"(Doc::"d")"), nullptr};
  EXPECT_EQ(az.is_authorized(request, store()).decision, Decision::kAllow);
}

TEST(AuthorizeRequest, ContextJsonMustBeAnObject) {
  EntityUID view{"Action", "view"};
  EXPECT_FALSE(parse_context_json("[]", nullptr, view).ok());
  EXPECT_FALSE(parse_context_json("1", nullptr, view).ok());
  EXPECT_FALSE(parse_context_json(R"({"a": 1.5})", nullptr, view).ok());
  auto ok = parse_context_json(R"({"who": {"__entity": {"type": "User", "id": "a"}}})", nullptr, view);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->at("who"), Value(EntityUID{"User", "a"}));
}

TEST(AuthorizeRequest, AnnotationsExposedOnDeterminingPolicies) {
  // The policies stay owned by the authorizer's policy set: keep it alive.
  Authorizer az = authorizer_for(R"(
    @id("allow-all") @advice("log") permit(principal, action, resource);
    @id("never") permit(principal, action, resource) when { false };
  )");
  Response r = authorize(az);
  ASSERT_EQ(r.decision, Decision::kAllow);
  ASSERT_EQ(r.determining_policies.size(), 1u);
  ASSERT_EQ(r.determining.size(), 1u);
  const Policy* p = r.determining_policies[0];
  EXPECT_EQ(p->id, r.determining[0]);
  EXPECT_EQ(p->annotation("id"), "allow-all");
  EXPECT_EQ(p->annotation("advice"), "log");
}

TEST(AuthorizeRequest, DeterminingPoliciesOfADenyAreTheForbids) {
  Authorizer az = authorizer_for(R"(
    @obligation("notify") forbid(principal, action, resource);
    @obligation("audit") permit(principal, action, resource);
  )");
  Response r = authorize(az);
  ASSERT_EQ(r.decision, Decision::kDeny);
  ASSERT_EQ(r.determining_policies.size(), 1u);
  EXPECT_EQ(r.determining_policies[0]->annotation("obligation"), "notify");
}

TEST(AuthorizeRequest, ConcurrentRequestsShareOneAuthorizer) {
  Authorizer az = authorizer_for(R"(
    permit(principal in Group::"eng", action, resource);
    forbid(principal == User::"mallory", action, resource);
    permit(principal, action, resource) when { principal.nope };
  )");
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        Response alice = authorize(az);
        Response mallory = authorize(az, {.principal = R"(User::"mallory")"});
        if (alice.decision != Decision::kAllow || alice.errors.size() != 1 ||
            mallory.decision != Decision::kDeny)
          ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace ztgate::cedar
