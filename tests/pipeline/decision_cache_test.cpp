#include "pipeline/decision_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace ztgate::pipeline {
namespace {

cedar::RecordPtr context(std::string_view json) {
  auto c = cedar::parse_context_json(json, nullptr, cedar::EntityUID{"Action", "read"});
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
  return c.ok() ? *c : nullptr;
}

// A gateway in miniature: policies, their context paths, an authorizer and
// the cache, consulted the way the pipeline will.
class Gate {
 public:
  explicit Gate(std::string_view policies, DecisionCacheLimits limits = {}) : cache(limits) {
    load(policies);
  }
  void load(std::string_view policies) {
    auto set = cedar::parse_policies(policies);
    ASSERT_TRUE(set.ok()) << set.error().to_string();
    auto shared = std::make_shared<const cedar::PolicySet>(std::move(*set));
    paths = context_paths(*shared);
    authz = std::make_unique<cedar::Authorizer>(shared);
    ++versions.policies;
  }
  // Returns the decision and whether it came from the cache.
  std::pair<cedar::Decision, bool> decide(const cedar::Request& req) {
    auto key = make_decision_key(req, paths, versions);
    if (auto hit = cache.find(key)) return {hit->decision, true};
    auto response = authz->is_authorized(req, entities);
    cache.insert(key, response);
    return {response.decision, false};
  }

  DecisionCache cache;
  ContextPaths paths;
  std::unique_ptr<cedar::Authorizer> authz;
  cedar::Entities entities;
  Versions versions;
};

cedar::Request request(std::string_view ctx = "{}", std::string principal = "alice") {
  return cedar::Request{{"User", std::move(principal)}, {"Action", "read"}, {"Doc", "d"}, context(ctx)};
}

TEST(DecisionCache, SecondIdenticalRequestIsAHit) {
  Gate gate(R"(permit(principal == User::"alice", action, resource);)");
  EXPECT_EQ(gate.decide(request()), std::make_pair(cedar::Decision::kAllow, false));
  EXPECT_EQ(gate.decide(request()), std::make_pair(cedar::Decision::kAllow, true));
  auto s = gate.cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
}

TEST(DecisionCache, NeverReturnsAnAllowAfterAPolicyVersionBump) {
  Gate gate(R"(permit(principal, action, resource);)");
  EXPECT_EQ(gate.decide(request()).first, cedar::Decision::kAllow);
  EXPECT_TRUE(gate.decide(request()).second);
  gate.load(R"(permit(principal, action, resource); forbid(principal == User::"alice", action, resource);)");
  EXPECT_EQ(gate.decide(request()), std::make_pair(cedar::Decision::kDeny, false));
  EXPECT_EQ(gate.cache.stats().stale, 1u);
}

TEST(DecisionCache, EveryVersionComponentInvalidates) {
  Gate gate(R"(permit(principal, action, resource);)");
  for (uint64_t Versions::*field : {&Versions::policies, &Versions::entities, &Versions::revocations}) {
    gate.decide(request());
    EXPECT_TRUE(gate.decide(request()).second);
    ++(gate.versions.*field);
    EXPECT_FALSE(gate.decide(request()).second);
  }
}

TEST(DecisionCache, StaleEntryIsDroppedOnLookup) {
  DecisionCache cache;
  auto key = make_decision_key(request(), {}, Versions{1, 1, 1});
  ASSERT_TRUE(cache.insert(key, CachedDecision{cedar::Decision::kAllow, {"policy0"}, {}, {}}));
  auto newer = key;
  newer.versions.revocations = 2;
  EXPECT_FALSE(cache.find(newer));
  EXPECT_FALSE(cache.find(key)) << "the stale entry must be gone, not kept for old versions";
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(DecisionCache, ContextFieldAPolicyReadsChangesTheKey) {
  Gate gate(R"(permit(principal, action, resource) when { context.mfa };)");
  EXPECT_EQ(gate.decide(request(R"({"mfa": true})")), std::make_pair(cedar::Decision::kAllow, false));
  EXPECT_EQ(gate.decide(request(R"({"mfa": false})")), std::make_pair(cedar::Decision::kDeny, false));
  EXPECT_EQ(gate.decide(request(R"({"mfa": true})")), std::make_pair(cedar::Decision::kAllow, true));
}

TEST(DecisionCache, ContextFieldNoPolicyReadsDoesNotChangeTheKey) {
  Gate gate(R"(permit(principal, action, resource) when { context.mfa };)");
  EXPECT_FALSE(gate.decide(request(R"({"mfa": true, "nonce": "1"})")).second);
  EXPECT_TRUE(gate.decide(request(R"({"mfa": true, "nonce": "2"})")).second);
}

TEST(DecisionCache, WholeContextUseKeysOnEveryField) {
  Gate gate(R"(permit(principal, action, resource) when { context == {mfa: true} };)");
  EXPECT_TRUE(gate.paths.whole);
  EXPECT_EQ(gate.decide(request(R"({"mfa": true})")), std::make_pair(cedar::Decision::kAllow, false));
  EXPECT_EQ(gate.decide(request(R"({"mfa": true, "nonce": "2"})")),
            std::make_pair(cedar::Decision::kDeny, false));
}

TEST(DecisionCache, PrincipalActionResourceAreInTheKey) {
  Gate gate(R"(permit(principal == User::"alice", action, resource);)");
  EXPECT_EQ(gate.decide(request("{}", "alice")).first, cedar::Decision::kAllow);
  EXPECT_EQ(gate.decide(request("{}", "bob")), std::make_pair(cedar::Decision::kDeny, false));
  // Uids whose parts would concatenate alike must not share a key.
  auto a = make_decision_key(cedar::Request{{"A", "b:c"}, {"Action", "x"}, {"R", "r"}, nullptr}, {}, {});
  auto b = make_decision_key(cedar::Request{{"A:b", "c"}, {"Action", "x"}, {"R", "r"}, nullptr}, {}, {});
  EXPECT_NE(a.request, b.request);
}

TEST(DecisionCache, ResponsesWithEvaluationErrorsAreNotCached) {
  // The forbid errors on a missing attribute and is skipped: the allow holds
  // only because evaluation broke, so it is re-evaluated every time.
  Gate gate(R"(permit(principal, action, resource);
               forbid(principal, action, resource) when { context.risk > 5 };)");
  EXPECT_EQ(gate.decide(request("{}")), std::make_pair(cedar::Decision::kAllow, false));
  EXPECT_EQ(gate.decide(request("{}")), std::make_pair(cedar::Decision::kAllow, false));
  EXPECT_EQ(gate.cache.stats().entries, 0u);
}

TEST(DecisionCache, KeepsDecisionDeterminingPoliciesAndObligationsByValue) {
  Gate gate(R"(permit(principal, action, resource);
               @on_deny("step_up") forbid(principal, action, resource) unless { context.mfa };)");
  auto req = request(R"({"mfa": false})");
  gate.decide(req);
  auto key = make_decision_key(req, gate.paths, gate.versions);
  gate.load("permit(principal, action, resource);");  // the old PolicySet is freed
  auto hit = gate.cache.find(key);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->decision, cedar::Decision::kDeny);
  EXPECT_EQ(hit->determining, (std::vector<std::string>{"policy1"}));
  EXPECT_EQ(hit->obligations.on_deny, DenyObligation::kStepUp);
}

TEST(DecisionCache, EntryBoundHolds) {
  DecisionCache cache(DecisionCacheLimits{.max_entries = 64, .max_bytes = size_t{1} << 30, .shards = 4});
  for (int i = 0; i < 1000; ++i)
    cache.insert(make_decision_key(request("{}", "u" + std::to_string(i)), {}, {}),
                 CachedDecision{cedar::Decision::kAllow, {"policy0"}, {}, {}});
  auto s = cache.stats();
  EXPECT_LE(s.entries, 64u);
  EXPECT_EQ(s.entries + s.evictions, 1000u);
}

TEST(DecisionCache, ByteBoundHolds) {
  const size_t max_bytes = 64 * 1024;
  DecisionCache cache(DecisionCacheLimits{.max_entries = 1'000'000, .max_bytes = max_bytes, .shards = 2});
  for (int i = 0; i < 2000; ++i)
    cache.insert(make_decision_key(request("{}", std::string(200, 'x') + std::to_string(i)), {}, {}),
                 CachedDecision{cedar::Decision::kAllow, {"policy0"}, {}, {}});
  auto s = cache.stats();
  EXPECT_LE(s.bytes, max_bytes);
  EXPECT_GT(s.entries, 10u);
  EXPECT_GT(s.evictions, 0u);
}

TEST(DecisionCache, LeastRecentlyUsedIsEvictedFirst) {
  DecisionCache cache(DecisionCacheLimits{.max_entries = 2, .max_bytes = size_t{1} << 20, .shards = 1});
  auto k = [](const char* who) { return make_decision_key(request("{}", who), {}, {}); };
  CachedDecision allow{cedar::Decision::kAllow, {}, {}, {}};
  cache.insert(k("a"), allow);
  cache.insert(k("b"), allow);
  EXPECT_TRUE(cache.find(k("a")));  // a is now the most recent
  cache.insert(k("c"), allow);
  EXPECT_TRUE(cache.find(k("a")));
  EXPECT_FALSE(cache.find(k("b")));
  EXPECT_TRUE(cache.find(k("c")));
}

TEST(DecisionCache, OversizedKeyIsNotCached) {
  DecisionCache cache;
  auto key = make_decision_key(request("{}", std::string(kMaxDecisionKeyBytes, 'x')), {}, {});
  EXPECT_FALSE(cache.insert(key, CachedDecision{}));
  EXPECT_FALSE(cache.find(key));
}

TEST(DecisionCache, ConcurrentUseKeepsCountsConsistent) {
  DecisionCache cache(DecisionCacheLimits{.max_entries = 128, .max_bytes = size_t{1} << 20, .shards = 8});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        auto key = make_decision_key(request("{}", "u" + std::to_string((i * 7 + t) % 300)), {}, {});
        if (!cache.find(key)) cache.insert(key, CachedDecision{cedar::Decision::kAllow, {}, {}, {}});
      }
    });
  for (auto& th : threads) th.join();
  auto s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, 8000u);
  EXPECT_LE(s.entries, 128u);
}

}  // namespace
}  // namespace ztgate::pipeline
