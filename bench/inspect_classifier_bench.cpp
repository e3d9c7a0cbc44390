// Injection classifier speed (src/inspect/classifier.h), on the texts of the
// injection dev set (../shared/datasets/injection/dev.jsonl) and the shipped
// model (models/injection.bin).
//
//   build/bench/inspect_classifier_bench [--dataset PATH] [--model PATH]
//
// BM_ClassifierLogit/<bytes>     InjectionModel::logit() on normalized text
//                                (the model alone)
// BM_NormalizeAndScore/<bytes>   normalize() + score(): what the pipeline
//                                pays per text, without the rules layer
// on inputs of 1 KiB, 16 KiB and 256 KiB cut from the dev texts joined by
// blank lines, and BM_ScoreDevSet: every dev text normalized and scored on
// its own. bytes_per_second is CPU-time throughput (M is MiB); p50_us /
// p99_us are per-call latencies in thread CPU time.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "inspect/classifier.h"
#include "inspect_inputs.h"
#include "inspect/normalize.h"

namespace {

using namespace ztgate::inspect;

ztgate::bench::DevSet g_dev;
std::optional<InjectionModel> g_model;

std::string input_of(size_t size) { return ztgate::bench::input_of(g_dev.joined, size); }

void BM_ClassifierLogit(benchmark::State& state) {
  auto n = normalize(input_of(static_cast<size_t>(state.range(0))));
  if (!n) {
    state.SkipWithError("normalize failed");
    return;
  }
  const std::string& text = n->text().text;
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const double t0 = ztgate::bench::thread_cpu_us();
    float z = g_model->logit(text, Channel::retrieved_doc);
    const double t1 = ztgate::bench::thread_cpu_us();
    benchmark::DoNotOptimize(z);
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  ztgate::bench::report_latency(state, us);
}

void BM_NormalizeAndScore(benchmark::State& state) {
  const std::string input = input_of(static_cast<size_t>(state.range(0)));
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const double t0 = ztgate::bench::thread_cpu_us();
    auto n = normalize(input);
    Score s = n ? g_model->score(*n, Channel::retrieved_doc) : Score{};
    const double t1 = ztgate::bench::thread_cpu_us();
    benchmark::DoNotOptimize(s);
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  ztgate::bench::report_latency(state, us);
}

void BM_ScoreDevSet(benchmark::State& state) {
  size_t bytes = 0;
  for (const std::string& t : g_dev.texts) bytes += t.size();
  for (auto _ : state) {
    for (const std::string& t : g_dev.texts) {
      auto n = normalize(t);
      Score s = n ? g_model->score(*n, Channel::user_prompt) : Score{};
      benchmark::DoNotOptimize(s);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["texts"] = static_cast<double>(g_dev.texts.size());
}

std::string flag_value(std::vector<char*>& rest, int argc, char** argv, const char* name) {
  std::string value;
  rest.clear();
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0 && i + 1 < argc) {
      value = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc), rest;
  std::string dataset = flag_value(rest, static_cast<int>(args.size()), args.data(), "--dataset");
  args = rest;
  std::string model = flag_value(rest, static_cast<int>(args.size()), args.data(), "--model");
  if (dataset.empty()) {
    const char* env = std::getenv("ZTGATE_BENCH_DATASET");
    dataset = env != nullptr ? env : "../shared/datasets/injection/dev.jsonl";
  }
  if (model.empty()) model = "models/injection.bin";
  if (!ztgate::bench::load_dev_set(dataset, g_dev) &&
      !ztgate::bench::load_dev_set("/work/shared/datasets/injection/dev.jsonl", g_dev)) {
    std::fprintf(stderr, "inspect_classifier_bench: cannot read the dev set %s (--dataset PATH)\n",
                 dataset.c_str());
    return 1;
  }
  auto loaded = InjectionModel::load(model);
  if (!loaded) {
    std::fprintf(stderr, "inspect_classifier_bench: %s (--model PATH)\n",
                 loaded.error().message.c_str());
    return 1;
  }
  g_model.emplace(std::move(loaded).value());
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10}) {
    benchmark::RegisterBenchmark("BM_ClassifierLogit", BM_ClassifierLogit)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_NormalizeAndScore", BM_NormalizeAndScore)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_ScoreDevSet", BM_ScoreDevSet)->Unit(benchmark::kMillisecond);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
