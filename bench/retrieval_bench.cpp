// Retrieval authorization: the post-filter per batch of candidates (the
// shipped policies, no decision cache: every decision evaluated), the
// pre-filter for users in many groups, and catalog upserts into a large
// catalog. Figures: docs/RETRIEVAL.md "Cost".
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <sstream>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"
#include "data/access_filter.h"
#include "data/post_filter.h"

namespace {

using namespace ztgate;
using namespace ztgate::data;

constexpr int kDocuments = 100'000;
constexpr int kGroups = 2'000;

DocumentRecord document(int i) {
  DocumentRecord d;
  d.id = "doc-" + std::to_string(i);
  d.owner = "user-" + std::to_string(i % 5000);
  d.reader_users = {"user-" + std::to_string((i * 7) % 5000)};
  d.reader_groups = {"g" + std::to_string(i % kGroups), "g" + std::to_string((i * 13) % kGroups)};
  d.classification = i % 4;
  d.tenant = "acme";
  d.source = "wiki";
  d.tags = {"tag-" + std::to_string(i % 50)};
  d.parent = ContainerRef{ContainerKind::kFolder, "folder-" + std::to_string(i % 2000)};
  return d;
}

// Groups nest in chains of 8; user-<n> is directly in `groups` of them.
const DocumentCatalog& catalog() {
  static const DocumentCatalog c = [] {
    std::vector<CatalogChange> changes;
    for (int g = 0; g < kGroups; ++g) {
      GroupRecord r{"g" + std::to_string(g), {}};
      if (g % 8 != 0) r.parents.push_back("g" + std::to_string(g - 1));
      changes.emplace_back(r);
    }
    for (int groups : {1, 10, 100, 1000}) {
      UserRecord u{"user-in-" + std::to_string(groups), {}, 3, "acme"};
      for (int k = 0; k < groups; ++k) u.groups.push_back("g" + std::to_string((k * 8 + 7) % kGroups));
      changes.emplace_back(u);
    }
    for (int i = 0; i < kDocuments; ++i) changes.emplace_back(document(i));
    return *DocumentCatalog().apply(changes);
  }();
  return c;
}

const cedar::Authorizer& authorizer() {
  static const cedar::Authorizer a = [] {
    std::ifstream in(std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval/policies.cedar");
    std::ostringstream s;
    s << in.rdbuf();
    return cedar::Authorizer(std::make_shared<const cedar::PolicySet>(*cedar::parse_policies(s.str())));
  }();
  return a;
}

void BM_PostFilterBatch(benchmark::State& state) {
  const auto& c = catalog();
  std::mt19937 rng(7);
  std::vector<Candidate> candidates;
  for (int64_t i = 0; i < state.range(0); ++i) candidates.push_back({"doc-" + std::to_string(rng() % kDocuments), std::nullopt});
  auto base = std::make_shared<const cedar::Entities>();
  Reader reader{{"User", "user-in-10"}, "user-in-10", {}};
  DocumentDecideFn decide = [](const cedar::Request& r, std::string_view, const EntitiesFn& entities) {
    auto resp = authorizer().is_authorized(r, **entities());
    return DecisionOutcome{resp.decision == cedar::Decision::kAllow, {}};
  };
  size_t allowed = 0;
  for (auto _ : state) {
    auto d = authorize_candidates(c, reader, candidates, nullptr, base, decide);
    for (const auto& item : d) allowed += item.allow;
    benchmark::DoNotOptimize(allowed);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PostFilterBatch)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_PreFilter(benchmark::State& state) {
  const auto& c = catalog();
  std::string user = "user-in-" + std::to_string(state.range(0));
  for (auto _ : state) {
    auto f = access_filter(c, user, {});
    auto sql = render_postgresql(*f);
    auto os = render_opensearch(*f);
    benchmark::DoNotOptimize(sql);
    benchmark::DoNotOptimize(os);
  }
  state.counters["acl_principals"] = static_cast<double>(access_filter(c, user, {})->acl_principals.size());
}
BENCHMARK(BM_PreFilter)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_CatalogUpsertBatch(benchmark::State& state) {
  const auto& c = catalog();
  std::vector<CatalogChange> batch;
  for (int64_t i = 0; i < state.range(0); ++i) {
    DocumentRecord d = document(static_cast<int>((i * 97) % kDocuments));
    d.classification = 0;
    batch.emplace_back(std::move(d));
  }
  for (auto _ : state) {
    auto next = c.apply(batch);
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CatalogUpsertBatch)->Arg(1)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
