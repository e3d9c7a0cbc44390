#include "pipeline/context_paths.h"

#include <gtest/gtest.h>

#include "cedar/authorizer.h"

namespace ztgate::pipeline {
namespace {

ContextPaths paths_of(std::string_view policies) {
  auto set = cedar::parse_policies(policies);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().to_string());
  return set.ok() ? context_paths(*set) : ContextPaths{};
}

ContextPath value_path(std::vector<std::string> attrs) { return ContextPath{std::move(attrs), false}; }
ContextPath presence_path(std::vector<std::string> attrs) { return ContextPath{std::move(attrs), true}; }

cedar::RecordPtr context(std::string_view json) {
  auto c = cedar::parse_context_json(json, nullptr, cedar::EntityUID{"Action", "read"});
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
  return c.ok() ? *c : nullptr;
}

TEST(ContextPaths, PolicyWithoutContextReadsNothing) {
  auto p = paths_of(R"(permit(principal == User::"alice", action, resource) when { principal.age > 3 };)");
  EXPECT_FALSE(p.whole);
  EXPECT_TRUE(p.paths.empty());
}

TEST(ContextPaths, DottedAndIndexedAccessBecomePaths) {
  auto p = paths_of(R"(
    permit(principal, action, resource) when { context.mfa && context["risk"].score < 5 };
  )");
  EXPECT_FALSE(p.whole);
  EXPECT_EQ(p.paths, (std::vector<ContextPath>{value_path({"mfa"}), value_path({"risk", "score"})}));
}

TEST(ContextPaths, HasIsPresenceOnlyUnlessTheValueIsAlsoRead) {
  auto p = paths_of(R"(
    permit(principal, action, resource) when { context has ticket && context.device has os };
    forbid(principal, action, resource) when { context has ip && context.ip == "1.2.3.4" };
  )");
  EXPECT_EQ(p.paths, (std::vector<ContextPath>{presence_path({"device", "os"}), value_path({"ip"}),
                                               presence_path({"ticket"})}));
}

TEST(ContextPaths, ValueReadOfPrefixCoversLongerPaths) {
  auto p = paths_of(R"(
    permit(principal, action, resource) when { context.a.b == 1 && context.a == {b: 1} && context.a has c };
  )");
  EXPECT_EQ(p.paths, (std::vector<ContextPath>{value_path({"a"})}));
}

TEST(ContextPaths, MethodOnAPathReadsThatPathWhole) {
  auto p = paths_of(R"(
    permit(principal, action, resource) when { context.tags.contains("x") && context.src.isInRange(ip("10.0.0.0/8")) };
  )");
  EXPECT_EQ(p.paths, (std::vector<ContextPath>{value_path({"src"}), value_path({"tags"})}));
}

TEST(ContextPaths, ContextUsedWholeMakesTheWholeContextTheKey) {
  for (const char* text : {
           R"(permit(principal, action, resource) when { context == {} };)",
           R"(permit(principal, action, resource) when { [context].contains({a: 1}) };)",
           R"(permit(principal, action, resource) when { (if true then context else {}).a == 1 };)",
           R"(permit(principal, action, resource) when { {c: context}.c.a == 1 };)",
       }) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(paths_of(text).whole);
  }
}

TEST(ContextPaths, ReadsInUnlessAndTemplatesCount) {
  auto p = paths_of(R"(
    forbid(principal, action, resource) unless { context.approved };
    permit(principal == ?principal, action, resource) when { context.level > 2 };
  )");
  EXPECT_EQ(p.paths, (std::vector<ContextPath>{value_path({"approved"}), value_path({"level"})}));
}

TEST(ContextPaths, AFieldAPolicyReadsChangesTheCanonicalForm) {
  auto p = paths_of(R"(permit(principal, action, resource) when { context.mfa };)");
  EXPECT_NE(canonical_context(context(R"({"mfa": true})"), p),
            canonical_context(context(R"({"mfa": false})"), p));
  EXPECT_NE(canonical_context(context(R"({"mfa": true})"), p), canonical_context(context("{}"), p));
}

TEST(ContextPaths, AFieldNoPolicyReadsDoesNotChangeTheCanonicalForm) {
  auto p = paths_of(R"(permit(principal, action, resource) when { context.mfa };)");
  EXPECT_EQ(canonical_context(context(R"({"mfa": true, "nonce": "a1"})"), p),
            canonical_context(context(R"({"mfa": true, "nonce": "b2", "ts": 7})"), p));
}

TEST(ContextPaths, PresenceOnlyPathIgnoresTheValue) {
  auto p = paths_of(R"(permit(principal, action, resource) when { context has ticket };)");
  EXPECT_EQ(canonical_context(context(R"({"ticket": "T-1"})"), p),
            canonical_context(context(R"({"ticket": "T-2"})"), p));
  EXPECT_NE(canonical_context(context(R"({"ticket": "T-1"})"), p), canonical_context(context("{}"), p));
}

TEST(ContextPaths, NonRecordOnThePathIsObservedByValue) {
  auto p = paths_of(R"(permit(principal, action, resource) when { context.a.b == 1 };)");
  EXPECT_NE(canonical_context(context(R"({"a": 1})"), p), canonical_context(context(R"({"a": 2})"), p));
  EXPECT_NE(canonical_context(context(R"({"a": {"b": 1}})"), p),
            canonical_context(context(R"({"a": {"b": 2}})"), p));
  EXPECT_EQ(canonical_context(context(R"({"a": {"b": 1, "c": 1}})"), p),
            canonical_context(context(R"({"a": {"b": 1, "c": 2}})"), p));
}

TEST(ContextPaths, WholeContextKeySeesEveryField) {
  auto p = paths_of(R"(permit(principal, action, resource) when { context == {"mfa": true} };)");
  EXPECT_NE(canonical_context(context(R"({"mfa": true})"), p),
            canonical_context(context(R"({"mfa": true, "nonce": "x"})"), p));
}

TEST(ContextPaths, StringsCannotForgeAnotherObservation) {
  // A value that contains the serialization's own separators must not
  // collide with a context that has that structure.
  auto p = paths_of(R"(permit(principal, action, resource) when { context.a == "x" && context.b == "y" };)");
  EXPECT_NE(canonical_context(context(R"({"a": "x\";path;1:b=", "b": "y"})"), p),
            canonical_context(context(R"({"a": "x", "b": "y"})"), p));
}

TEST(ContextPaths, RestrictedContextGivesTheSameDecision) {
  auto set = cedar::parse_policies(R"(
    permit(principal, action, resource) when { context.mfa && context.device has os };
    forbid(principal, action, resource) when { context.risk.score > 7 };
  )");
  ASSERT_TRUE(set.ok());
  auto p = context_paths(*set);
  cedar::Authorizer authz(std::make_shared<const cedar::PolicySet>(*set));
  cedar::Entities entities;
  for (const char* json : {
           R"({"mfa": true, "device": {"os": "linux", "id": 3}, "risk": {"score": 1, "why": "x"}, "n": 1})",
           R"({"mfa": true, "device": {"os": "linux"}, "risk": {"score": 9}})",
           R"({"mfa": false, "device": {}, "risk": {"score": 1}})",
           R"({"mfa": true, "device": "laptop"})",
       }) {
    SCOPED_TRACE(json);
    auto full = context(json);
    auto cut = restrict_context(full, p);
    EXPECT_EQ(canonical_context(full, p), canonical_context(cut, p));
    cedar::Request req{{"User", "alice"}, {"Action", "read"}, {"Doc", "d"}, full};
    auto a = authz.is_authorized(req, entities);
    req.context = cut;
    auto b = authz.is_authorized(req, entities);
    EXPECT_EQ(a.decision, b.decision);
    EXPECT_EQ(a.determining, b.determining);
    EXPECT_EQ(a.errors.size(), b.errors.size());
  }
  EXPECT_EQ(restrict_context(context(R"({"mfa": true, "nonce": 5})"), p)->count("nonce"), 0u);
}

}  // namespace
}  // namespace ztgate::pipeline
