// The injection detector end to end (src/inspect/injection.h): what the
// gateway pays per text — normalize(), the rule pack over every view, the
// classifier — on the texts of the injection dev set
// (../shared/datasets/injection/dev.jsonl), the shipped pack and model.
//
//   build/bench/inspect_detector_bench [--dataset PATH] [--rules DIR] [--model PATH]
//
// BM_Detect/<bytes>     InjectionDetector::inspect() on inputs of 1 KiB,
//                       16 KiB and 256 KiB cut from the dev texts joined by
//                       blank lines (channel retrieved_doc)
// BM_DetectDevSet       every dev text inspected on its own
// bytes_per_second is CPU-time throughput on one core (M is MiB); p50_us /
// p99_us are per-call latencies in thread CPU time.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "inspect/injection.h"
#include "inspect_inputs.h"

namespace {

using ztgate::inspect::Channel;
using ztgate::inspect::InjectionDetector;

ztgate::bench::DevSet g_dev;
std::shared_ptr<const InjectionDetector> g_detector;

void BM_Detect(benchmark::State& state) {
  const std::string input = ztgate::bench::input_of(g_dev.joined, static_cast<size_t>(state.range(0)));
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const double t0 = ztgate::bench::thread_cpu_us();
    auto v = g_detector->inspect(input, Channel::retrieved_doc);
    benchmark::DoNotOptimize(v);
    const double t1 = ztgate::bench::thread_cpu_us();
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  ztgate::bench::report_latency(state, us);
}

void BM_DetectDevSet(benchmark::State& state) {
  int64_t bytes = 0;
  for (const std::string& t : g_dev.texts) bytes += static_cast<int64_t>(t.size());
  for (auto _ : state)
    for (const std::string& t : g_dev.texts) {
      auto v = g_detector->inspect(t, Channel::user_prompt);
      benchmark::DoNotOptimize(v);
    }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["texts"] = static_cast<double>(g_dev.texts.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataset, rules = "rules/injection", model = "models/injection.bin";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dataset") == 0 && i + 1 < argc) {
      dataset = argv[++i];
    } else if (std::strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
      rules = argv[++i];
    } else if (std::strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
      model = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (dataset.empty()) {
    const char* env = std::getenv("ZTGATE_BENCH_DATASET");
    dataset = env != nullptr ? env : "../shared/datasets/injection/dev.jsonl";
  }
  if (!ztgate::bench::load_dev_set(dataset, g_dev) &&
      !ztgate::bench::load_dev_set("/work/shared/datasets/injection/dev.jsonl", g_dev)) {
    std::fprintf(stderr, "inspect_detector_bench: cannot read the dev set %s (--dataset PATH)\n", dataset.c_str());
    return 1;
  }
  ztgate::inspect::InjectionOptions options;
  options.rules_dir = rules;
  options.model_path = model;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/')
    options.cache_dir = std::string(home) + "/.cache/ztgate";
  auto loaded = InjectionDetector::load(options);
  if (!loaded) {
    std::fprintf(stderr, "inspect_detector_bench: %s (--rules DIR, --model PATH)\n", loaded.error().message.c_str());
    return 1;
  }
  g_detector = *loaded;
  // The steady state: a rule's start-search database compiles the first
  // time one of its findings needs a start (rules.cpp), once per process.
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10})
    benchmark::DoNotOptimize(
        g_detector->inspect(ztgate::bench::input_of(g_dev.joined, static_cast<size_t>(size)), Channel::retrieved_doc));
  for (const std::string& t : g_dev.texts) benchmark::DoNotOptimize(g_detector->inspect(t, Channel::user_prompt));
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10})
    benchmark::RegisterBenchmark("BM_Detect", BM_Detect)->Arg(size)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_DetectDevSet", BM_DetectDevSet)->Unit(benchmark::kMillisecond);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
