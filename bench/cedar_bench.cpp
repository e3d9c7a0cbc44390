// Benchmarks of the Cedar engine on the inputs of bench/inputs/generate.mjs:
// authorization latency (median and p99 per request, parsing excluded) for
// every (policy set, entity store) pair, policy parse time, entity load time
// and memory per 10k entities.
//
//   node bench/inputs/generate.mjs --out /tmp/ztgate-bench
//   build/bench/cedar_bench --inputs /tmp/ztgate-bench [--decisions wasm-results.json]
//                           [--benchmark_format=json ...]
//
// bench/run.sh runs this and the cedar-wasm baseline in one go.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/policy_set.h"

using namespace ztgate::cedar;

namespace {

std::string g_inputs;

std::string read_file(const std::string& name) {
  std::ifstream in(g_inputs + "/" + name, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << g_inputs << "/" << name
              << " (generate inputs with: node bench/inputs/generate.mjs --out DIR)\n";
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Store {
  Entities entities;
  std::vector<Request> requests;
  size_t retained_bytes = 0;
};

size_t heap_in_use() { return mallinfo2().uordblks; }

Store& store(const std::string& size) {
  static std::map<std::string, Store> cache;
  auto it = cache.find(size);
  if (it != cache.end()) return it->second;
  Store s;
  std::string text = read_file("entities_" + size + ".json");
  size_t before = heap_in_use();
  auto parsed = parse_entities_json(text);
  if (!parsed) {
    std::cerr << "entities_" << size << ": " << parsed.error().message << "\n";
    std::exit(2);
  }
  s.entities = std::move(*parsed);
  s.retained_bytes = heap_in_use() - before;
  auto reqs = boost::json::parse(read_file("requests_" + size + ".json"));
  for (const auto& r : reqs.as_array()) {
    const auto& o = r.as_object();
    auto uid = [&](const char* k) { return *parse_entity_uid_json(boost::json::serialize(o.at(k))); };
    Request req{uid("principal"), uid("action"), uid("resource"), nullptr};
    auto ctx = parse_context_json(boost::json::serialize(o.at("context")), nullptr, req.action);
    req.context = *ctx;
    s.requests.push_back(std::move(req));
  }
  return cache.emplace(size, std::move(s)).first->second;
}

std::shared_ptr<const PolicySet> policies(int n) {
  static std::map<int, std::shared_ptr<const PolicySet>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  auto parsed = parse_policies(read_file("policies_" + std::to_string(n) + ".cedar"));
  if (!parsed) {
    std::cerr << "policies_" << n << ": " << parsed.error().to_string() << "\n";
    std::exit(2);
  }
  auto ptr = std::make_shared<const PolicySet>(std::move(*parsed));
  cache.emplace(n, ptr);
  return ptr;
}

// Per-request latency distribution, measured once per pair with a clock read
// around each call (the clock costs ~20 ns, included).
struct Latency {
  double median_us, p99_us, allow_fraction;
};
Latency measure_latency(const Authorizer& authz, const Store& s) {
  constexpr size_t kSamples = 20000;
  std::vector<double> ns;
  ns.reserve(kSamples);
  size_t allows = 0;
  for (size_t i = 0; i < kSamples; ++i) {
    const Request& r = s.requests[i % s.requests.size()];
    auto t0 = std::chrono::steady_clock::now();
    Response resp = authz.is_authorized(r, s.entities);
    auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(resp);
    allows += resp.decision == Decision::kAllow;
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  return {ns[ns.size() / 2] / 1000.0, ns[ns.size() * 99 / 100] / 1000.0,
          double(allows) / double(kSamples)};
}

// The benchmark loop over the store's requests, plus the latency
// distribution as counters. Returns the distribution for extra counters.
Latency time_authorize(benchmark::State& state, const Authorizer& authz, const Store& s) {
  Latency lat = measure_latency(authz, s);
  size_t i = 0;
  for (auto _ : state) {
    Response resp = authz.is_authorized(s.requests[i++ % s.requests.size()], s.entities);
    benchmark::DoNotOptimize(resp);
  }
  state.counters["median_us"] = lat.median_us;
  state.counters["p99_us"] = lat.p99_us;
  return lat;
}

void BM_Authorize(benchmark::State& state, int n_policies, std::string size) {
  Store& s = store(size);
  Authorizer authz(policies(n_policies));
  Latency lat = time_authorize(state, authz, s);
  state.counters["allow_pct"] = lat.allow_fraction * 100;
}

// The scope index at work: the 10-policy set plus N policies whose scopes
// name principals, groups or resources that no request uses. Latency must
// stay flat as N grows.
void BM_UnmatchableScopes(benchmark::State& state, int extra) {
  std::string text = read_file("policies_10.cedar");
  for (int i = 0; i < extra; ++i) {
    std::string n = std::to_string(i);
    switch (i % 4) {
      case 0: text += "permit(principal == User::\"ghost-" + n + "\", action, resource);\n"; break;
      case 1: text += "forbid(principal in Group::\"ghost-" + n + "\", action, resource) when { context has x };\n"; break;
      case 2: text += "permit(principal, action, resource == Document::\"ghost-" + n + "\");\n"; break;
      default: text += "permit(principal is Agent, action, resource in Folder::\"ghost-" + n + "\");\n"; break;
    }
  }
  auto parsed = parse_policies(text);
  if (!parsed) {
    std::cerr << parsed.error().to_string() << "\n";
    std::exit(2);
  }
  Authorizer authz(std::make_shared<const PolicySet>(std::move(*parsed)));
  Store& s = store("10k");
  time_authorize(state, authz, s);
  state.counters["policies"] = 10 + extra;
}

void BM_ParsePolicies(benchmark::State& state, int n_policies) {
  std::string text = read_file("policies_" + std::to_string(n_policies) + ".cedar");
  for (auto _ : state) {
    auto parsed = parse_policies(text);
    benchmark::DoNotOptimize(parsed);
  }
  state.counters["policies"] = n_policies;
}

void BM_LoadEntities(benchmark::State& state, std::string size) {
  std::string text = read_file("entities_" + size + ".json");
  Store& s = store(size);
  for (auto _ : state) {
    auto parsed = parse_entities_json(text);
    benchmark::DoNotOptimize(parsed);
  }
  double per_entity = double(s.retained_bytes) / double(s.entities.size());
  state.counters["bytes_per_entity"] = per_entity;
  state.counters["MiB_per_10k"] = per_entity * 10000 / (1024.0 * 1024.0);
}

// Checks our decisions against those cedar-wasm recorded for the same
// inputs (bench/wasm/bench.mjs --out FILE): the comparison is only fair if
// both engines answer the same. Returns the number of disagreements.
size_t check_decisions(const std::string& wasm_results) {
  std::ifstream in(wasm_results);
  std::ostringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto doc = boost::json::parse(ss.str(), ec);
  if (ec || !doc.is_object()) {
    std::cerr << "cannot read " << wasm_results << "\n";
    std::exit(2);
  }
  size_t checked = 0, wrong = 0;
  for (const auto& r : doc.at("results").as_array()) {
    const auto& o = r.as_object();
    if (!o.contains("decisions")) continue;
    int n = static_cast<int>(o.at("policies").to_number<int64_t>());
    std::string size(o.at("entities").as_string());
    std::string want(o.at("decisions").as_string());
    Store& s = store(size);
    Authorizer authz(policies(n));
    // One outcome per request: A (allow), D (deny) or F (call failed),
    // followed by `!` when some policy errored.
    size_t req = 0;
    for (size_t i = 0; i < want.size() && req < s.requests.size(); ++i) {
      char c = want[i];
      if (c == '!') continue;
      const Request& request = s.requests[req++];
      if (c != 'A' && c != 'D') continue;
      char got = authz.is_authorized(request, s.entities).decision == Decision::kAllow ? 'A' : 'D';
      ++checked;
      wrong += got != c;
    }
  }
  std::cerr << "decisions checked against cedar-wasm: " << checked << ", disagreements: " << wrong << "\n";
  return wrong;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  std::string decisions;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--inputs") == 0 && i + 1 < argc) {
      g_inputs = argv[++i];
    } else if (std::strcmp(argv[i], "--decisions") == 0 && i + 1 < argc) {
      decisions = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (g_inputs.empty()) {
    const char* env = std::getenv("ZTGATE_BENCH_INPUTS");
    g_inputs = env ? env : "/tmp/ztgate-bench";
  }
  for (const char* size : {"10k", "100k"}) {
    for (int n : {10, 100, 1000}) {
      benchmark::RegisterBenchmark(
          ("Authorize/policies:" + std::to_string(n) + "/entities:" + size).c_str(), BM_Authorize,
          n, std::string(size))
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (int extra : {0, 1000, 10000, 100000})
    benchmark::RegisterBenchmark(("UnmatchableScopes/extra:" + std::to_string(extra)).c_str(),
                                 BM_UnmatchableScopes, extra)
        ->Unit(benchmark::kMicrosecond);
  for (int n : {10, 100, 1000})
    benchmark::RegisterBenchmark(("ParsePolicies/policies:" + std::to_string(n)).c_str(),
                                 BM_ParsePolicies, n)
        ->Unit(benchmark::kMicrosecond);
  for (const char* size : {"10k", "100k"})
    benchmark::RegisterBenchmark((std::string("LoadEntities/entities:") + size).c_str(),
                                 BM_LoadEntities, std::string(size))
        ->Unit(benchmark::kMillisecond);
  if (!decisions.empty() && check_decisions(decisions) != 0) return 1;
  int bargc = static_cast<int>(rest.size());
  benchmark::Initialize(&bargc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
