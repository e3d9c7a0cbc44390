// A small metrics registry rendered in the Prometheus text exposition format
// 0.0.4 (what `/metrics` serves, Content-Type kMetricsContentType).
//
// Counters and latency histograms, each a family (name, help, type) with any
// number of labelled series. Registration takes a lock and returns a
// reference that stays valid for the registry's lifetime; the hot path
// (Counter::inc, Histogram::observe) is lock-free: relaxed atomic adds on
// cache-line-padded cells spread over threads.
//
// Error codes (registration; names are code, not input, but a mistake must
// not produce an unparseable /metrics):
//   invalid_metric_name  name not [a-zA-Z_:][a-zA-Z0-9_:]*, or a label name
//                        not [a-zA-Z_][a-zA-Z0-9_]* or starting with "__",
//                        or a label name repeated, or "le" on a histogram
//   metric_type_conflict the name is already registered as another type or
//                        with other label names
//   too_many_series      more than kMaxSeries series in the registry
//
// Bounds: kMaxSeries series; label values longer than kMaxLabelValueBytes are
// refused (invalid_metric_name) so an unbounded value cannot bloat a scrape.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ztgate::pipeline {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr size_t kMaxSeries = 10'000;
inline constexpr size_t kMaxLabelValueBytes = 256;

using Labels = std::vector<std::pair<std::string, std::string>>;  // name, value

namespace internal {
inline constexpr size_t kCells = 8;
struct alignas(64) Cell {
  std::atomic<uint64_t> value{0};
};
size_t this_thread_cell();  // stable per thread, < kCells
}  // namespace internal

class Counter {
 public:
  void inc(uint64_t n = 1) {
    cells_[internal::this_thread_cell()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const;

 private:
  std::array<internal::Cell, internal::kCells> cells_;
};

// Latency histogram with fixed buckets from 10 µs to 10 s (upper bounds in
// kLatencyBucketsSeconds, plus +Inf). The sum is kept in nanoseconds.
inline constexpr std::array<double, 19> kLatencyBucketsSeconds{
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,     0.1,     0.25,   0.5,     1.0,    2.5,   5.0,    10.0};

class Histogram {
 public:
  void observe(std::chrono::nanoseconds latency);

  struct Snapshot {
    std::array<uint64_t, kLatencyBucketsSeconds.size() + 1> buckets{};  // per bucket, last = +Inf
    uint64_t count = 0;
    uint64_t sum_ns = 0;
  };
  Snapshot snapshot() const;

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kLatencyBucketsSeconds.size() + 1> buckets{};
    std::atomic<uint64_t> sum_ns{0};
  };
  std::array<Shard, internal::kCells> shards_;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The series `name{labels}`, created on first use. The same name must keep
  // its type, help and label names.
  Result<Counter*> counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Result<Histogram*> histogram(std::string_view name, std::string_view help,
                               const Labels& labels = {});

  // Families sorted by name, series in registration order.
  std::string render() const;

 private:
  struct Family;
  Result<void*> series(std::string_view name, std::string_view help, const Labels& labels,
                       bool is_histogram);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  size_t series_count_ = 0;
};

}  // namespace ztgate::pipeline
