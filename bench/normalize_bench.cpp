// Normalization throughput (src/inspect/normalize.h), on the texts of the
// injection dev set (../shared/datasets/injection/dev.jsonl).
//
//   build/bench/normalize_bench [--dataset PATH]   (or ZTGATE_BENCH_DATASET)
//
// BM_Normalize/full/<bytes>     normalize() with the defaults (HTML, decoding)
// BM_Normalize/text_only/<bytes> html = decode = false: UTF-8, invisible
//                                characters, NFKC and folding alone
// on inputs of 1 KiB, 16 KiB and 256 KiB cut from the dev texts joined by
// blank lines (at a character boundary), and
// BM_NormalizeDevSet            every dev text normalized on its own (the
//                               per-call overhead on short texts included).
// bytes_per_second is the throughput (CPU time; Google Benchmark's M is
// MiB); p50_us / p99_us are per-call latencies in thread CPU time, so that
// neighbours on a shared machine do not count (wall time is in "Time").
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "inspect_inputs.h"
#include "inspect/normalize.h"

namespace {

using ztgate::inspect::normalize;
using ztgate::inspect::NormalizeOptions;

ztgate::bench::DevSet g_dev;

std::string input_of(size_t size) { return ztgate::bench::input_of(g_dev.joined, size); }

void BM_Normalize(benchmark::State& state, NormalizeOptions options) {
  const std::string input = input_of(static_cast<size_t>(state.range(0)));
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const double t0 = ztgate::bench::thread_cpu_us();
    auto n = normalize(input, options);
    const double t1 = ztgate::bench::thread_cpu_us();
    benchmark::DoNotOptimize(n);
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  ztgate::bench::report_latency(state, us);
}

void BM_NormalizeDevSet(benchmark::State& state) {
  size_t bytes = 0;
  for (const std::string& t : g_dev.texts) bytes += t.size();
  for (auto _ : state) {
    for (const std::string& t : g_dev.texts) {
      auto n = normalize(t);
      benchmark::DoNotOptimize(n);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["texts"] = static_cast<double>(g_dev.texts.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataset;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dataset") == 0 && i + 1 < argc) {
      dataset = argv[++i];
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
    std::fprintf(stderr, "normalize_bench: cannot read the dev set %s (--dataset PATH)\n",
                 dataset.c_str());
    return 1;
  }
  NormalizeOptions full;
  NormalizeOptions text_only;
  text_only.html = false;
  text_only.decode = false;
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10}) {
    benchmark::RegisterBenchmark("BM_Normalize/full", BM_Normalize, full)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_Normalize/text_only", BM_Normalize, text_only)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_NormalizeDevSet", BM_NormalizeDevSet)
      ->Unit(benchmark::kMillisecond);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
