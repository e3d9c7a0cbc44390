#include "pipeline/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace ztgate::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(Metrics, CounterRendersHelpTypeAndSortedLabels) {
  MetricsRegistry registry;
  auto allow = registry.counter("ztgate_decisions_total", "Authorization decisions.",
                                {{"result", "allow"}, {"cache", "hit"}});
  auto deny = registry.counter("ztgate_decisions_total", "Authorization decisions.",
                               {{"result", "deny"}, {"cache", "miss"}});
  ASSERT_TRUE(allow.ok() && deny.ok());
  (*allow)->inc();
  (*allow)->inc(2);
  (*deny)->inc();
  EXPECT_EQ(registry.render(),
            "# HELP ztgate_decisions_total Authorization decisions.\n"
            "# TYPE ztgate_decisions_total counter\n"
            "ztgate_decisions_total{cache=\"hit\",result=\"allow\"} 3\n"
            "ztgate_decisions_total{cache=\"miss\",result=\"deny\"} 1\n");
}

TEST(Metrics, SameSeriesIsReturnedAgain) {
  MetricsRegistry registry;
  auto a = registry.counter("requests_total", "Requests.", {{"route", "/v1"}});
  auto b = registry.counter("requests_total", "Requests.", {{"route", "/v1"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(Metrics, FamiliesAreSortedAndUnlabelledSeriesHaveNoBraces) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.counter("b_total", "B.").ok());
  ASSERT_TRUE(registry.counter("a_total", "A.").ok());
  EXPECT_EQ(registry.render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
            "# HELP b_total B.\n# TYPE b_total counter\nb_total 0\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  auto c = registry.counter("upstream_errors_total", "Errors \\ by\nupstream.",
                            {{"upstream", "a\"b\\c\nd"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(registry.render(),
            "# HELP upstream_errors_total Errors \\\\ by\\nupstream.\n"
            "# TYPE upstream_errors_total counter\n"
            "upstream_errors_total{upstream=\"a\\\"b\\\\c\\nd\"} 0\n");
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  auto h = registry.histogram("stage_seconds", "Stage latency.", {{"stage", "authz"}});
  ASSERT_TRUE(h.ok());
  (*h)->observe(5us);     // <= 1e-05
  (*h)->observe(10us);    // <= 1e-05 (upper bounds are inclusive)
  (*h)->observe(300us);   // <= 0.0005
  (*h)->observe(20s);     // +Inf only
  const std::string text = registry.render();
  const std::string expected =
      "# HELP stage_seconds Stage latency.\n"
      "# TYPE stage_seconds histogram\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"1e-05\"} 2\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"2.5e-05\"} 2\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"5e-05\"} 2\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.0001\"} 2\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.00025\"} 2\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.0005\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.001\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.0025\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.005\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.01\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.025\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.05\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.1\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.25\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"0.5\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"1\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"2.5\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"5\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"10\"} 3\n"
      "stage_seconds_bucket{stage=\"authz\",le=\"+Inf\"} 4\n"
      "stage_seconds_sum{stage=\"authz\"} 20.000315\n"
      "stage_seconds_count{stage=\"authz\"} 4\n";
  EXPECT_EQ(text, expected);
}

TEST(Metrics, InvalidNamesAreRefused) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.counter("9lives", "x").error().code, "invalid_metric_name");
  EXPECT_EQ(registry.counter("a-b", "x").error().code, "invalid_metric_name");
  EXPECT_EQ(registry.counter("ok", "x", {{"__reserved", "v"}}).error().code, "invalid_metric_name");
  EXPECT_EQ(registry.counter("ok", "x", {{"a", "1"}, {"a", "2"}}).error().code, "invalid_metric_name");
  EXPECT_EQ(registry.histogram("h", "x", {{"le", "1"}}).error().code, "invalid_metric_name");
  EXPECT_EQ(registry.counter("ok", "x", {{"a", std::string(kMaxLabelValueBytes + 1, 'v')}}).error().code,
            "invalid_metric_name");
  EXPECT_TRUE(registry.counter("ns:ok_total", "x", {{"_a1", "v"}}).ok());
}

TEST(Metrics, ReusingANameDifferentlyIsAConflict) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.counter("m", "help", {{"a", "1"}}).ok());
  EXPECT_EQ(registry.histogram("m", "help", {{"a", "1"}}).error().code, "metric_type_conflict");
  EXPECT_EQ(registry.counter("m", "help", {{"b", "1"}}).error().code, "metric_type_conflict");
  EXPECT_EQ(registry.counter("m", "other help", {{"a", "2"}}).error().code, "metric_type_conflict");
}

TEST(Metrics, SeriesCountIsBounded) {
  MetricsRegistry registry;
  for (size_t i = 0; i < kMaxSeries; ++i)
    ASSERT_TRUE(registry.counter("c", "c", {{"i", std::to_string(i)}}).ok());
  EXPECT_EQ(registry.counter("c", "c", {{"i", "one more"}}).error().code, "too_many_series");
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  Counter* c = *registry.counter("c_total", "c");
  Histogram* h = *registry.histogram("h_seconds", "h");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([c, h] {
      for (int i = 0; i < 10000; ++i) {
        c->inc();
        h->observe(1ms);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(c->value(), 40000u);
  EXPECT_EQ(h->snapshot().count, 40000u);
  EXPECT_EQ(h->snapshot().sum_ns, uint64_t{40000} * 1'000'000);
}

}  // namespace
}  // namespace ztgate::pipeline
