// Retrieval authorization: the post-filter per batch of candidates (the
// shipped policies, no decision cache: every decision evaluated; mean and
// per-call p99 of thread CPU time), the pre-filter for users in 100 to
// 4,000 groups, the ingest rate of ACL updates (DocumentCatalog::apply,
// CatalogHolder::apply, and JSON Lines parsed then applied), and the
// memory of 1M documents (RSS delta). Figures: docs/PERFORMANCE.md,
// "Retrieval authorization", and docs/RETRIEVAL.md "Cost".
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"
#include "data/access_filter.h"
#include "data/catalog_jsonl.h"
#include "data/post_filter.h"

namespace {

using namespace ztgate;
using namespace ztgate::data;

constexpr int kDocuments = 100'000;
constexpr int kGroups = 8'000;  // 1,000 chains of 8

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

// Groups nest in chains of 8; user-in-<n> is in n groups transitively:
// directly in the last group of n/8 chains (user-in-1: one group).
std::vector<CatalogChange> groups_and_users() {
  std::vector<CatalogChange> changes;
  for (int g = 0; g < kGroups; ++g) {
    GroupRecord r{"g" + std::to_string(g), {}};
    if (g % 8 != 0) r.parents.push_back("g" + std::to_string(g - 1));
    changes.emplace_back(r);
  }
  for (int groups : {1, 10, 100, 1000, 4000}) {
    UserRecord u{"user-in-" + std::to_string(groups), {}, 3, "acme"};
    if (groups < 8) u.groups.push_back("g0");
    for (int k = 0; k < groups / 8; ++k) u.groups.push_back("g" + std::to_string(k * 8 + 7));
    changes.emplace_back(u);
  }
  return changes;
}

const DocumentCatalog& catalog() {
  static const DocumentCatalog c = [] {
    std::vector<CatalogChange> changes = groups_and_users();
    for (int i = 0; i < kDocuments; ++i) changes.emplace_back(document(i));
    return *DocumentCatalog().apply(changes);
  }();
  return c;
}

double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// Resident set size, from /proc/self/statm.
double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
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
  std::vector<double> cpu_us;  // per call: the p99 is the target's measure
  for (auto _ : state) {
    double t0 = thread_cpu_us();
    auto d = authorize_candidates(c, reader, candidates, nullptr, base, decide);
    cpu_us.push_back(thread_cpu_us() - t0);
    for (const auto& item : d) allowed += item.allow;
    benchmark::DoNotOptimize(allowed);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  std::sort(cpu_us.begin(), cpu_us.end());
  state.counters["p50_cpu_us"] = cpu_us[cpu_us.size() / 2];
  state.counters["p99_cpu_us"] = cpu_us[std::min(cpu_us.size() - 1, cpu_us.size() * 99 / 100)];
  state.counters["cpu_us_per_candidate"] = cpu_us[cpu_us.size() / 2] / static_cast<double>(state.range(0));
  state.counters["allowed_share"] = static_cast<double>(allowed) / static_cast<double>(state.iterations() * state.range(0));
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
BENCHMARK(BM_PreFilter)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->Arg(4000)->Unit(benchmark::kMicrosecond);

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

// ACL updates as the admin API and a reload apply them: batches through
// CatalogHolder::apply (a version published per batch), and the same
// batches as JSON Lines, parsed then applied. items/s is records/s.
std::string document_line(const DocumentRecord& d) {
  std::string line = R"({"kind":"document","id":")" + d.id + R"(","owner":")" + d.owner + R"(","readers":["user:)" +
                     d.reader_users[0] + R"(","group:)" + d.reader_groups[0] + R"(","group:)" + d.reader_groups[1] +
                     R"("],"classification":"public","tenant":"acme","source":"wiki","tags":[")" + d.tags[0] +
                     R"("],"parent":{"type":"Folder","id":")" + d.parent->id + "\"}}\n";
  return line;
}

void BM_CatalogHolderIngest(benchmark::State& state) {
  CatalogHolder holder(catalog());
  const bool jsonl = state.range(1) != 0;
  std::vector<CatalogChange> batch;
  std::string text;
  for (int64_t i = 0; i < state.range(0); ++i) {
    DocumentRecord d = document(static_cast<int>((i * 97) % kDocuments));
    d.classification = 0;
    text += document_line(d);
    batch.emplace_back(std::move(d));
  }
  for (auto _ : state) {
    if (jsonl) {
      auto parsed = parse_catalog_jsonl(text, holder.current()->scale());
      if (!parsed) state.SkipWithError(parsed.error().message.c_str());
      auto v = holder.apply(parsed->changes);
      benchmark::DoNotOptimize(v);
    } else {
      auto v = holder.apply(batch);
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetLabel(jsonl ? "jsonl" : "records");
}
BENCHMARK(BM_CatalogHolderIngest)->Args({1, 0})->Args({1000, 0})->Args({1000, 1})->Args({10000, 1})->Unit(benchmark::kMicrosecond);

// 1M documents (the shape of document(): owner, three readers, tenant,
// source, a tag, a parent folder) built into a catalog: the RSS it adds.
// Run it alone and once (--benchmark_filter=Memory): a repetition reuses
// the memory the first one freed. Measured with glibc malloc (mallinfo2).
void BM_CatalogMemory1M(benchmark::State& state) {
  constexpr int kMillion = 1'000'000;
  for (auto _ : state) {
    malloc_trim(0);
    double before = rss_bytes();
    double heap_before = static_cast<double>(mallinfo2().uordblks);
    std::vector<CatalogChange> changes;
    auto c = DocumentCatalog().apply(groups_and_users());
    // Applied in batches of 100,000 (the changes are never all in memory
    // at once); what malloc keeps of a batch's freed changes counts too.
    for (int start = 0; start < kMillion; start += 100'000) {
      changes.clear();
      for (int i = start; i < start + 100'000; ++i) changes.emplace_back(document(i));
      c = c->apply(changes);
    }
    changes = {};
    malloc_trim(0);  // what malloc still holds of freed shard copies and changes goes back first
    double after = rss_bytes();
    double heap = static_cast<double>(mallinfo2().uordblks) - heap_before;
    state.counters["rss_delta_MiB"] = (after - before) / (1 << 20);
    state.counters["bytes_per_document"] = (after - before) / kMillion;
    // glibc's bytes in use (0 under another allocator, e.g. LD_PRELOADed tcmalloc).
    state.counters["heap_in_use_MiB"] = heap / (1 << 20);
    // An ACL update batch into the 1M catalog: 1,000 scattered upserts
    // touch nearly every shard, and a shard now holds ~3,900 records.
    changes.clear();
    for (int i = 0; i < 1000; ++i) changes.emplace_back(document(i * 997));
    double t0 = thread_cpu_us();
    auto next = c->apply(changes);
    state.counters["upsert_1000_into_1M_cpu_ms"] = (thread_cpu_us() - t0) / 1000;
    benchmark::DoNotOptimize(next);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_CatalogMemory1M)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
