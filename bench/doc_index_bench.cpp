// The retrieval proxy's embedded index (data/doc_index.h): a search's cost
// (the best 40 candidates, ids and scores, as POST /v1/retrieval/search asks
// for k 10 with overfetch 4) over 10,000 and 100,000 synthetic documents of
// ~120 words each, fetching one document's fields, and the rate of upserts
// in one ingest transaction. Figures: docs/PERFORMANCE.md "Retrieval search".
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "data/doc_index.h"

namespace {

using namespace ztgate::data;

// A vocabulary with a Zipf-like use: a few words are everywhere, most rare.
std::string word(std::mt19937& rng) {
  static const std::vector<std::string> vocabulary = [] {
    std::vector<std::string> v;
    for (int i = 0; i < 5000; ++i) v.push_back("w" + std::to_string(i * 7919 % 100003));
    return v;
  }();
  std::uniform_real_distribution<double> u(0, 1);
  double x = u(rng);
  return vocabulary[static_cast<size_t>(x * x * x * vocabulary.size()) % vocabulary.size()];
}

IndexedDocument document(int i, std::mt19937& rng) {
  IndexedDocument d;
  d.id = "doc-" + std::to_string(i);
  for (int w = 0; w < 6; ++w) d.title += word(rng) + " ";
  for (int w = 0; w < 20; ++w) d.summary += word(rng) + " ";
  for (int w = 0; w < 120; ++w) d.text += word(rng) + (w % 15 == 14 ? ".\n" : " ");
  d.source_path = "docs/" + d.id + ".md";
  d.hash = std::to_string(i);
  d.acl = "acl";
  return d;
}

std::string path_for(int documents) {
  return (std::filesystem::temp_directory_path() /
          ("ztgate-doc-index-bench-" + std::to_string(::getpid()) + "-" + std::to_string(documents) + ".db"))
      .string();
}

DocIndex& index_of(int documents) {
  static std::map<int, std::unique_ptr<DocIndex>> built;
  auto& slot = built[documents];
  if (!slot) {
    std::string path = path_for(documents);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto opened = DocIndex::open(path, false);
    if (!opened) std::abort();
    slot = std::move(*opened);
    std::mt19937 rng(42);
    if (!slot->begin()) std::abort();
    for (int i = 0; i < documents; ++i)
      if (!slot->upsert(document(i, rng))) std::abort();
    if (!slot->commit()) std::abort();
  }
  return *slot;
}

void BM_Search40(benchmark::State& state) {
  DocIndex& index = index_of(static_cast<int>(state.range(0)));
  std::mt19937 rng(7);
  std::vector<std::string> queries;
  for (int i = 0; i < 256; ++i) queries.push_back(word(rng) + " " + word(rng) + " " + word(rng));
  size_t q = 0, hits = 0;
  for (auto _ : state) {
    auto r = index.search(queries[q++ % queries.size()], 40);
    if (!r) std::abort();
    hits += r->size();
  }
  state.counters["hits_per_search"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Search40)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime();

void BM_GetOne(benchmark::State& state) {
  DocIndex& index = index_of(10'000);
  int i = 0;
  for (auto _ : state) {
    auto d = index.get("doc-" + std::to_string(i++ % 10'000));
    if (!d || !*d) std::abort();
  }
}
BENCHMARK(BM_GetOne)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime();

void BM_IngestUpserts(benchmark::State& state) {
  std::mt19937 rng(1);
  std::vector<IndexedDocument> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(document(i, rng));
  std::string path = path_for(-1);
  for (auto _ : state) {
    state.PauseTiming();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto index = DocIndex::open(path, false);
    if (!index) std::abort();
    state.ResumeTiming();
    if (!(*index)->begin()) std::abort();
    for (const auto& d : docs)
      if (!(*index)->upsert(d)) std::abort();
    if (!(*index)->commit()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_IngestUpserts)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
