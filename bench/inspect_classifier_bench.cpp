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
#include "inspect/normalize.h"

namespace {

using namespace ztgate::inspect;

std::vector<std::string> g_texts;
std::string g_joined;
std::optional<InjectionModel> g_model;

bool load_dataset(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    if (const auto* text = v.as_object().if_contains("text"); text != nullptr && text->is_string())
      g_texts.emplace_back(text->as_string().c_str(), text->as_string().size());
  }
  for (const std::string& t : g_texts) {
    g_joined += t;
    g_joined += "\n\n";
  }
  return !g_texts.empty();
}

std::string input_of(size_t size) {
  std::string s;
  while (s.size() < size) s += g_joined;
  size_t cut = size;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void report_latency(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

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
    const double t0 = thread_cpu_us();
    float z = g_model->logit(text, Channel::retrieved_doc);
    const double t1 = thread_cpu_us();
    benchmark::DoNotOptimize(z);
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  report_latency(state, us);
}

void BM_NormalizeAndScore(benchmark::State& state) {
  const std::string input = input_of(static_cast<size_t>(state.range(0)));
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const double t0 = thread_cpu_us();
    auto n = normalize(input);
    Score s = n ? g_model->score(*n, Channel::retrieved_doc) : Score{};
    const double t1 = thread_cpu_us();
    benchmark::DoNotOptimize(s);
    if (us.size() < us.capacity()) us.push_back(t1 - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  report_latency(state, us);
}

void BM_ScoreDevSet(benchmark::State& state) {
  size_t bytes = 0;
  for (const std::string& t : g_texts) bytes += t.size();
  for (auto _ : state) {
    for (const std::string& t : g_texts) {
      auto n = normalize(t);
      Score s = n ? g_model->score(*n, Channel::user_prompt) : Score{};
      benchmark::DoNotOptimize(s);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["texts"] = static_cast<double>(g_texts.size());
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
  if (!load_dataset(dataset) && !load_dataset("/work/shared/datasets/injection/dev.jsonl")) {
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
