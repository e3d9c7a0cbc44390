// DLP throughput (src/inspect/dlp.h, redact.h, stream_redactor.h) with the
// shipped pack (rules/dlp), on mixed text: the injection dev set's texts
// (../shared/datasets/injection/dev.jsonl; built-in prose when missing)
// with a secret or a piece of PII planted every ~400 bytes (cards, IBANs,
// emails, phones, IPs, provider keys, JWTs, passwords) — far denser than
// real output, so findings cost their validation and RE2 spans.
//
//   build/bench/inspect_dlp_bench [--dataset PATH] [--rules DIR]
//
// BM_DlpScan/<bytes>      scan() of 1 KiB, 16 KiB and 256 KiB inputs
// BM_DlpScanClean/<bytes> the same texts without planted values
// BM_DlpRedact/<bytes>    scan() + redact() (mask)
// BM_DlpStream/<bytes>    StreamRedactor fed 64-byte chunks, then finish()
// bytes_per_second is CPU-time throughput (M is MiB); p50_us / p99_us are
// per-call latencies in thread CPU time.
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
#include "inspect/dlp.h"
#include "inspect/redact.h"
#include "inspect/stream_redactor.h"

namespace {

using namespace ztgate::inspect;

std::string g_clean;
std::string g_mixed;
std::unique_ptr<DlpScanner> g_scanner;

const char* const kPlanted[] = {
    "card 4111 1111 1111 1111",
    "IBAN DE89 3704 0044 0532 0130 00",
    "mail jane.doe@example.com",
    "call +44 20 7946 0958",
    "host 203.0.113.42",
    "key sk-proj-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76UMFx",
    "token ghp_fZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZ",
    "password=Xq7!kP2#vL9z",
    "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.EM9YpvujA-C5Q52ryFlwRlO",
    "SSN 536-22-1234",
    "invoice 2024-0117, total 1234.56 EUR, order 99812231",
};

void build_mixed() {
  size_t k = 0;
  for (size_t pos = 0; pos < g_clean.size(); pos += 400) {
    const size_t end = std::min(g_clean.size(), pos + 400);
    g_mixed.append(g_clean, pos, end - pos);
    g_mixed += " ";
    g_mixed += kPlanted[k++ % (sizeof(kPlanted) / sizeof(kPlanted[0]))];
    g_mixed += " ";
  }
}

template <class F>
void run(benchmark::State& state, const std::string& input, F&& body) {
  std::vector<double> us;
  us.reserve(1 << 16);
  for (auto _ : state) {
    const double t0 = ztgate::bench::thread_cpu_us();
    body();
    if (us.size() < us.capacity()) us.push_back(ztgate::bench::thread_cpu_us() - t0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  ztgate::bench::report_latency(state, us);
}

void BM_DlpScan(benchmark::State& state) {
  const std::string input = ztgate::bench::input_of(g_mixed, static_cast<size_t>(state.range(0)));
  size_t found = 0;
  run(state, input, [&] {
    auto f = g_scanner->scan(input);
    found = f.size();
    benchmark::DoNotOptimize(f);
  });
  state.counters["findings"] = static_cast<double>(found);
}

void BM_DlpScanClean(benchmark::State& state) {
  const std::string input = ztgate::bench::input_of(g_clean, static_cast<size_t>(state.range(0)));
  run(state, input, [&] { benchmark::DoNotOptimize(g_scanner->scan(input)); });
}

void BM_DlpRedact(benchmark::State& state) {
  const std::string input = ztgate::bench::input_of(g_mixed, static_cast<size_t>(state.range(0)));
  const RedactionPolicy policy;
  const RedactKeys keys{"h", "p"};
  run(state, input, [&] {
    benchmark::DoNotOptimize(redact(input, g_scanner->scan(input), policy, keys, nullptr));
  });
}

void BM_DlpStream(benchmark::State& state) {
  const std::string input = ztgate::bench::input_of(g_mixed, static_cast<size_t>(state.range(0)));
  const RedactionPolicy policy;
  run(state, input, [&] {
    StreamRedactor stream(*g_scanner, policy, RedactKeys{"h", "p"}, nullptr);
    size_t out = 0;
    for (size_t i = 0; i < input.size(); i += 64) out += stream.feed(input.substr(i, 64)).size();
    out += stream.finish().size();
    benchmark::DoNotOptimize(out);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataset, rules_dir = "rules/dlp";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dataset") == 0 && i + 1 < argc)
      dataset = argv[++i];
    else if (std::strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
      rules_dir = argv[++i];
    else
      rest.push_back(argv[i]);
  }
  if (dataset.empty()) {
    const char* env = std::getenv("ZTGATE_BENCH_DATASET");
    dataset = env != nullptr ? env : "../shared/datasets/injection/dev.jsonl";
  }
  ztgate::bench::DevSet dev;
  if (ztgate::bench::load_dev_set(dataset, dev, size_t{1} << 20)) {
    g_clean = std::move(dev.joined);
  } else {
    for (int i = 0; i < 2000; ++i)
      g_clean += "The quarterly report covers revenue, hiring and the roadmap for next year. ";
  }
  build_mixed();
  DlpOptions options;
  options.rules_dir = rules_dir;
  auto scanner = DlpScanner::load(options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "inspect_dlp_bench: %s (--rules DIR)\n", scanner.error().message.c_str());
    return 1;
  }
  g_scanner = std::make_unique<DlpScanner>(std::move(*scanner));
  for (int64_t size : {1 << 10, 16 << 10, 256 << 10}) {
    benchmark::RegisterBenchmark("BM_DlpScan", BM_DlpScan)->Arg(size)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_DlpScanClean", BM_DlpScanClean)
        ->Arg(size)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_DlpRedact", BM_DlpRedact)->Arg(size)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_DlpStream", BM_DlpStream)->Arg(size)->Unit(benchmark::kMicrosecond);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
