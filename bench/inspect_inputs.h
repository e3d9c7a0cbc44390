// What the inspection benchmarks share: the texts of a labelled JSONL
// dataset (the dev set) as input, inputs of a given size cut back to a UTF-8
// boundary, the calling thread's CPU time, and p50/p99 counters.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace ztgate::bench {

struct DevSet {
  std::vector<std::string> texts;
  std::string joined;  // every text followed by a blank line
};

// Reads the "text" of every row of `path` until `max_bytes` are joined.
// False when the file cannot be read or holds no text.
inline bool load_dev_set(const std::string& path, DevSet& out, size_t max_bytes = SIZE_MAX) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line) && out.joined.size() < max_bytes) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    if (const auto* text = v.as_object().if_contains("text"); text != nullptr && text->is_string()) {
      out.texts.emplace_back(text->as_string().c_str(), text->as_string().size());
      out.joined += out.texts.back();
      out.joined += "\n\n";
    }
  }
  return !out.texts.empty();
}

// The first `size` bytes of `source` repeated, cut back to a UTF-8 boundary.
inline std::string input_of(const std::string& source, size_t size) {
  std::string s;
  while (s.size() < size) s += source;
  size_t cut = size;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

inline double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// p50_us and p99_us of the per-call times in `us` (sorted in place).
inline void report_latency(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

}  // namespace ztgate::bench
