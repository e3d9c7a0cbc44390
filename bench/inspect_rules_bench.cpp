// Injection rule layer throughput (src/inspect/rules.h): normalize() then
// RuleSet::scan() with the shipped pack, on the texts of the injection dev
// set (../shared/datasets/injection/dev.jsonl, 46% attacks: findings cost
// their start searches too).
//
//   build/bench/inspect_rules_bench [--dataset PATH] [--rules DIR]
//       (or ZTGATE_BENCH_DATASET, ZTGATE_RULES_DIR; run from the repository root)
//
// BM_NormalizeScan/<bytes>  normalize + scan, inputs of 1 KiB, 16 KiB and
//                           256 KiB cut from the dev texts joined by blank lines
// BM_ScanOnly/<bytes>       scan of the same inputs already normalized
// BM_NormalizeScanDevSet    every dev text on its own (per-call costs included)
// BM_CompilePack            loading and compiling the pack
// bytes_per_second is CPU-time throughput (Google Benchmark's M is MiB);
// p50_us / p99_us are per-call latencies in thread CPU time.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "inspect_inputs.h"
#include "inspect/normalize.h"
#include "inspect/rules.h"

namespace {

using ztgate::inspect::load_rule_set;
using ztgate::inspect::normalize;
using ztgate::inspect::RuleSet;

ztgate::bench::DevSet g_dev;
std::string g_rules_dir;
std::unique_ptr<RuleSet> g_rules;

std::string input_of(size_t size) { return ztgate::bench::input_of(g_dev.joined, size); }

void BM_NormalizeScan(benchmark::State& state) {
  const std::string input = input_of(static_cast<size_t>(state.range(0)));
  std::vector<double> us;
  us.reserve(1 << 16);
  size_t findings = 0;
  for (auto _ : state) {
    const double t0 = ztgate::bench::thread_cpu_us();
    auto n = normalize(input);
    auto scan = g_rules->scan(*n);
    const double t1 = ztgate::bench::thread_cpu_us();
    findings = scan->findings.size();
    benchmark::DoNotOptimize(scan);
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.counters["findings"] = static_cast<double>(findings);
  ztgate::bench::report_latency(state, us);
}

void BM_ScanOnly(benchmark::State& state) {
  const std::string input = input_of(static_cast<size_t>(state.range(0)));
  const auto n = normalize(input);
  for (auto _ : state) {
    auto scan = g_rules->scan(*n);
    benchmark::DoNotOptimize(scan);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}

void BM_NormalizeScanDevSet(benchmark::State& state) {
  size_t bytes = 0;
  for (const std::string& t : g_dev.texts) bytes += t.size();
  for (auto _ : state) {
    for (const std::string& t : g_dev.texts) {
      auto n = normalize(t);
      auto scan = g_rules->scan(*n);
      benchmark::DoNotOptimize(scan);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["texts"] = static_cast<double>(g_dev.texts.size());
}

void BM_CompilePack(benchmark::State& state) {
  for (auto _ : state) {
    auto set = load_rule_set(g_rules_dir);
    benchmark::DoNotOptimize(set);
  }
  state.counters["rules"] = static_cast<double>(g_rules->rules().size());
  state.counters["db_bytes"] = static_cast<double>(g_rules->database_bytes());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataset;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dataset") == 0 && i + 1 < argc) {
      dataset = argv[++i];
    } else if (std::strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
      g_rules_dir = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (dataset.empty()) {
    const char* env = std::getenv("ZTGATE_BENCH_DATASET");
    dataset = env != nullptr ? env : "../shared/datasets/injection/dev.jsonl";
  }
  if (g_rules_dir.empty()) {
    const char* env = std::getenv("ZTGATE_RULES_DIR");
    g_rules_dir = env != nullptr ? env : "rules/injection";
  }
  if (!ztgate::bench::load_dev_set(dataset, g_dev) &&
      !ztgate::bench::load_dev_set("/work/shared/datasets/injection/dev.jsonl", g_dev)) {
    std::fprintf(stderr, "inspect_rules_bench: cannot read the dev set %s (--dataset PATH)\n",
                 dataset.c_str());
    return 1;
  }
  auto rules = load_rule_set(g_rules_dir);
  if (!rules.ok()) {
    std::fprintf(stderr, "inspect_rules_bench: %s (--rules DIR)\n", rules.error().message.c_str());
    return 1;
  }
  g_rules = std::make_unique<RuleSet>(std::move(*rules));
  // The steady state: a rule's start-search database compiles the first
  // time one of its findings needs a start (rules.cpp), once per process.
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10}) {
    auto n = normalize(input_of(static_cast<size_t>(size)));
    if (n) benchmark::DoNotOptimize(g_rules->scan(*n));
  }
  for (const std::string& t : g_dev.texts)
    if (auto n = normalize(t)) benchmark::DoNotOptimize(g_rules->scan(*n));
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10}) {
    benchmark::RegisterBenchmark("BM_NormalizeScan", BM_NormalizeScan)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_ScanOnly", BM_ScanOnly)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_NormalizeScanDevSet", BM_NormalizeScanDevSet)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_CompilePack", BM_CompilePack)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
