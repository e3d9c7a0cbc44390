// Decision cache hit vs miss (issue 4, benchmark c). Self-contained: a
// generated 100-policy set whose conditions read context and entity
// attributes, 1000 users in 100 groups, 1000 documents in 100 folders.
//
//   build/bench/pipeline_bench
//
// BM_DecisionCacheHit  = build the key (uids + observed context) + lookup.
// BM_DecisionCacheMiss = build the key + lookup that misses (a version bump
//                        made the entry stale) + Authorizer::is_authorized
//                        on the 100 policies + insert.
// BM_DecisionKeyOnly   = building the key alone.
// BM_AuthorizeOnly     = Authorizer::is_authorized alone, for reference.
// Each runs on /scoped:1 and /scoped:0 policy sets (see policy_text).
#include <benchmark/benchmark.h>

#include <string>

#include "cedar/authorizer.h"
#include "pipeline/context_paths.h"
#include "pipeline/decision_cache.h"

using namespace ztgate;

namespace {

constexpr int kPolicies = 100;
constexpr int kUsers = 1000;

// scoped: group and folder in the scope, so the Authorizer's index prunes
// to the few policies that can match. unscoped: the same tests in `when`
// clauses, so all 100 policies are evaluated on every request.
std::string policy_text(bool scoped) {
  std::string text;
  for (int i = 0; i < kPolicies; ++i) {
    std::string g = std::to_string(i);
    std::string who = "principal in Group::\"g" + g + "\"";
    std::string what = "resource in Folder::\"f" + g + "\"";
    std::string scope = scoped ? "(" + who + ", action, " + what + ") when { "
                               : "(principal, action, resource) when { " + who + " && " + what + " && ";
    if (i % 10 == 9)
      text += "@on_deny(\"step_up\") forbid" + scope + "context.risk > 7 };\n";
    else
      text += "@redact(\"pii\") permit" + scope +
              "context.mfa && resource.level <= principal.level && context has device };\n";
  }
  return text;
}

cedar::Entities make_entities() {
  std::vector<cedar::Entity> entities;
  for (int i = 0; i < kUsers; ++i) {
    std::string n = std::to_string(i), g = std::to_string(i % kPolicies);
    entities.push_back({{"User", "u" + n}, {{"level", int64_t{i % 5}}}, {}, {{"Group", "g" + g}}, {}});
    entities.push_back({{"Doc", "d" + n}, {{"level", int64_t{i % 3}}}, {}, {{"Folder", "f" + g}}, {}});
  }
  return std::move(*cedar::Entities::build(std::move(entities)));
}

struct Fixture {
  explicit Fixture(bool scoped)
      : set(std::make_shared<const cedar::PolicySet>(std::move(*cedar::parse_policies(policy_text(scoped))))) {}
  std::shared_ptr<const cedar::PolicySet> set;
  pipeline::ContextPaths paths = pipeline::context_paths(*set);
  cedar::Authorizer authz{set};
  cedar::Entities entities = make_entities();
  cedar::Request request{{"User", "u7"}, {"Action", "read"}, {"Doc", "d7"},
                         *cedar::parse_context_json(
                             R"({"mfa": true, "risk": 2, "device": {"os": "linux"},
                                 "nonce": "6f1c2a", "ts": 1732400000})",
                             nullptr, {"Action", "read"})};
};

// state.range(0): 1 = scoped policies, 0 = unscoped.
Fixture& fixture(const benchmark::State& state) {
  static Fixture scoped(true), unscoped(false);
  return state.range(0) ? scoped : unscoped;
}

void BM_DecisionCacheHit(benchmark::State& state) {
  auto& f = fixture(state);
  pipeline::DecisionCache cache;
  pipeline::Versions versions{1, 1, 1};
  cache.insert(pipeline::make_decision_key(f.request, f.paths, versions),
               f.authz.is_authorized(f.request, f.entities));
  for (auto _ : state) {
    auto hit = cache.find(pipeline::make_decision_key(f.request, f.paths, versions));
    benchmark::DoNotOptimize(hit);
  }
  if (cache.stats().misses != 0) state.SkipWithError("expected only hits");
}

void BM_DecisionCacheMiss(benchmark::State& state) {
  auto& f = fixture(state);
  pipeline::DecisionCache cache;
  pipeline::Versions versions{1, 1, 1};
  for (auto _ : state) {
    ++versions.entities;  // every lookup finds a stale entry
    auto key = pipeline::make_decision_key(f.request, f.paths, versions);
    if (!cache.find(key)) {
      auto response = f.authz.is_authorized(f.request, f.entities);
      cache.insert(key, response);
      benchmark::DoNotOptimize(response);
    }
  }
  if (cache.stats().hits != 0) state.SkipWithError("expected only misses");
}

void BM_DecisionKeyOnly(benchmark::State& state) {
  auto& f = fixture(state);
  for (auto _ : state) {
    auto key = pipeline::make_decision_key(f.request, f.paths, pipeline::Versions{1, 1, 1});
    benchmark::DoNotOptimize(key);
  }
}

void BM_AuthorizeOnly(benchmark::State& state) {
  auto& f = fixture(state);
  for (auto _ : state) {
    auto response = f.authz.is_authorized(f.request, f.entities);
    benchmark::DoNotOptimize(response);
  }
}

}  // namespace

BENCHMARK(BM_DecisionCacheHit)->ArgName("scoped")->Arg(1)->Arg(0);
BENCHMARK(BM_DecisionCacheMiss)->ArgName("scoped")->Arg(1)->Arg(0);
BENCHMARK(BM_DecisionKeyOnly)->ArgName("scoped")->Arg(1)->Arg(0);
BENCHMARK(BM_AuthorizeOnly)->ArgName("scoped")->Arg(1)->Arg(0);
BENCHMARK_MAIN();
