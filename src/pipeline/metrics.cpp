#include "pipeline/metrics.h"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace ztgate::pipeline {

namespace internal {
size_t this_thread_cell() {
  static std::atomic<size_t> next{0};
  thread_local const size_t cell = next.fetch_add(1, std::memory_order_relaxed) % kCells;
  return cell;
}
}  // namespace internal

namespace {

bool valid_name(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

// Shortest round-trip digits, fixed notation for 1e-4 <= |v| < 1e6 and
// scientific otherwise: what the Go client prints (strconv 'g', -1).
std::string format_double(double v) {
  char buf[64];
  const double magnitude = v < 0 ? -v : v;
  const auto format = (v == 0 || (magnitude >= 1e-4 && magnitude < 1e6)) ? std::chars_format::fixed
                                                                         : std::chars_format::scientific;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
  return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
}

// `{a="x",b="y"}` with `extra` (le="...") appended; empty when there are no labels.
std::string label_text(const Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name + "=\"" + escape(value, true) + '"';
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  return out + "}";
}

std::vector<std::string> label_names(const Labels& labels) {
  std::vector<std::string> names;
  for (const auto& l : labels) names.push_back(l.first);
  return names;
}

}  // namespace

uint64_t Counter::value() const {
  uint64_t sum = 0;
  for (const auto& c : cells_) sum += c.value.load(std::memory_order_relaxed);
  return sum;
}

void Histogram::observe(std::chrono::nanoseconds latency) {
  const int64_t ns = std::max<int64_t>(0, latency.count());
  const double seconds = static_cast<double>(ns) / 1e9;
  size_t bucket = 0;
  while (bucket < kLatencyBucketsSeconds.size() && seconds > kLatencyBucketsSeconds[bucket]) ++bucket;
  Shard& shard = shards_[internal::this_thread_cell()];
  shard.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  shard.sum_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  for (const auto& shard : shards_) {
    for (size_t i = 0; i < s.buckets.size(); ++i)
      s.buckets[i] += shard.buckets[i].load(std::memory_order_relaxed);
    s.sum_ns += shard.sum_ns.load(std::memory_order_relaxed);
  }
  for (uint64_t b : s.buckets) s.count += b;
  return s;
}

struct MetricsRegistry::Family {
  std::string help;
  bool is_histogram = false;
  std::vector<std::string> label_names;  // sorted
  struct Series {
    Labels labels;  // sorted by name
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
  };
  std::vector<Series> series;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

Result<Counter*> MetricsRegistry::counter(std::string_view name, std::string_view help,
                                          const Labels& labels) {
  auto s = series(name, help, labels, false);
  if (!s) return s.error();
  return static_cast<Counter*>(*s);
}

Result<Histogram*> MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                              const Labels& labels) {
  auto s = series(name, help, labels, true);
  if (!s) return s.error();
  return static_cast<Histogram*>(*s);
}

Result<void*> MetricsRegistry::series(std::string_view name, std::string_view help,
                                      const Labels& labels, bool is_histogram) {
  if (!valid_name(name, true))
    return make_error("invalid_metric_name", "invalid metric name \"" + escape(name, true) + "\"");
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [label, value] = sorted[i];
    if (!valid_name(label, false) || label.starts_with("__") || (is_histogram && label == "le") ||
        (i > 0 && sorted[i - 1].first == label))
      return make_error("invalid_metric_name",
                        "invalid or repeated label name \"" + escape(label, true) + "\" on " +
                            std::string(name));
    if (value.size() > kMaxLabelValueBytes)
      return make_error("invalid_metric_name", "label value of " + label + " on " +
                                                   std::string(name) + " is too long");
  }

  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<Family>();
    family->help = help;
    family->is_histogram = is_histogram;
    family->label_names = label_names(sorted);
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = *it->second;
  if (family.is_histogram != is_histogram || family.help != help ||
      family.label_names != label_names(sorted))
    return make_error("metric_type_conflict",
                      "metric " + std::string(name) + " is already registered differently");
  for (auto& s : family.series)
    if (s.labels == sorted)
      return is_histogram ? static_cast<void*>(s.histogram.get()) : static_cast<void*>(s.counter.get());
  if (series_count_ >= kMaxSeries)
    return make_error("too_many_series", "more than " + std::to_string(kMaxSeries) + " metric series");
  Family::Series s;
  s.labels = std::move(sorted);
  if (is_histogram)
    s.histogram = std::make_unique<Histogram>();
  else
    s.counter = std::make_unique<Counter>();
  family.series.push_back(std::move(s));
  ++series_count_;
  auto& added = family.series.back();
  return is_histogram ? static_cast<void*>(added.histogram.get()) : static_cast<void*>(added.counter.get());
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + ' ' + escape(family->help, false) + '\n';
    out += "# TYPE " + name + (family->is_histogram ? " histogram\n" : " counter\n");
    for (const auto& s : family->series) {
      if (!family->is_histogram) {
        out += name + label_text(s.labels) + ' ' + std::to_string(s.counter->value()) + '\n';
        continue;
      }
      auto snap = s.histogram->snapshot();
      uint64_t cumulative = 0;
      for (size_t i = 0; i < snap.buckets.size(); ++i) {
        cumulative += snap.buckets[i];
        std::string le = i < kLatencyBucketsSeconds.size() ? format_double(kLatencyBucketsSeconds[i])
                                                           : std::string("+Inf");
        out += name + "_bucket" + label_text(s.labels, "le=\"" + le + '"') + ' ' +
               std::to_string(cumulative) + '\n';
      }
      out += name + "_sum" + label_text(s.labels) + ' ' +
             format_double(static_cast<double>(snap.sum_ns) / 1e9) + '\n';
      out += name + "_count" + label_text(s.labels) + ' ' + std::to_string(snap.count) + '\n';
    }
  }
  return out;
}

}  // namespace ztgate::pipeline
