#include "common/metrics/registry.h"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace bastion::metrics {
namespace {

std::vector<std::uint64_t> CumulativeCounts(const ClientMetric& metric) {
  std::vector<std::uint64_t> counts;
  for (const auto& bucket : metric.buckets) counts.push_back(bucket.cumulative_count);
  return counts;
}

TEST(Registry, SameLabelsReturnTheSameMetric) {
  Registry registry;
  auto& family = BuildCounter().Name("bastion_test_requests_total").Help("h").Register(registry);
  Counter& first = family.Add({{"method", "tools/call"}, {"outcome", "ok"}});
  Counter& again = family.Add({{"outcome", "ok"}, {"method", "tools/call"}});
  Counter& other = family.Add({{"method", "tools/list"}, {"outcome", "ok"}});
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &other);

  first.Increment();
  again.Increment();
  EXPECT_EQ(first.Value(), 2);
  EXPECT_EQ(other.Value(), 0);
  EXPECT_TRUE(family.Has({{"method", "tools/list"}, {"outcome", "ok"}}));
  EXPECT_FALSE(family.Has({{"method", "ping"}, {"outcome", "ok"}}));
}

TEST(Registry, RegisteringANameTwiceReturnsTheSameFamily) {
  Registry registry;
  auto& first = BuildGauge().Name("bastion_test_in_flight").Help("h").Register(registry);
  auto& second = BuildGauge().Name("bastion_test_in_flight").Help("h").Register(registry);
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(registry.Collect().size(), 1u);
}

TEST(Registry, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  Counter& counter =
      BuildCounter().Name("bastion_test_requests_total").Help("h").Register(registry).Add({});
  Gauge& gauge = BuildGauge().Name("bastion_test_in_flight").Help("h").Register(registry).Add({});
  Histogram& histogram = BuildHistogram()
                             .Name("bastion_test_latency_seconds")
                             .Help("h")
                             .Register(registry)
                             .Add({}, DefaultLatencyBuckets());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        gauge.Increment(2);
        gauge.Decrement();
        histogram.Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(counter.Value(), kThreads * kPerThread);
  EXPECT_EQ(gauge.Value(), kThreads * kPerThread);
  ClientMetric observed = histogram.Collect();
  EXPECT_EQ(observed.sample_count, kThreads * kPerThread);
  EXPECT_EQ(observed.sample_sum, kThreads * kPerThread * 0.5);
}

TEST(Registry, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  Histogram histogram({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 3.0, 3.0, 100.0}) histogram.Observe(v);

  ClientMetric metric = histogram.Collect();
  ASSERT_EQ(metric.buckets.size(), 4u);
  EXPECT_EQ(metric.buckets[2].upper_bound, 5);
  EXPECT_TRUE(std::isinf(metric.buckets[3].upper_bound));
  EXPECT_EQ(CumulativeCounts(metric), (std::vector<std::uint64_t>{2, 3, 5, 6}));
  EXPECT_EQ(metric.sample_count, 6u);
  EXPECT_EQ(metric.sample_sum, 109);
}

TEST(Registry, HistogramPutsNaNInTheInfBucketAndKeepsOneInfBucket) {
  Histogram histogram({1, std::numeric_limits<double>::infinity()});
  histogram.Observe(std::nan(""));
  EXPECT_EQ(CumulativeCounts(histogram.Collect()), (std::vector<std::uint64_t>{0, 1}));
}

TEST(Registry, CounterIgnoresNegativeIncrements) {
  Counter counter;
  counter.Increment(2.5);
  counter.Increment(-1);
  counter.Increment(std::nan(""));
  EXPECT_EQ(counter.Value(), 2.5);
}

TEST(Registry, GaugeMovesBothWays) {
  Gauge gauge;
  gauge.Set(10);
  gauge.Decrement(4);
  gauge.Increment();
  EXPECT_EQ(gauge.Value(), 7);
  gauge.Set(-3);
  EXPECT_EQ(gauge.Value(), -3);
}

TEST(Registry, ConstantLabelsAreOnEveryChild) {
  Registry registry;
  auto& family = BuildCounter()
                     .Name("bastion_test_requests_total")
                     .Help("h")
                     .Labels({{"service", "edge"}})
                     .Register(registry);
  family.Add({{"method", "ping"}});
  std::vector<MetricFamily> collected = registry.Collect();
  ASSERT_EQ(collected.size(), 1u);
  ASSERT_EQ(collected[0].metric.size(), 1u);
  EXPECT_EQ(collected[0].metric[0].labels, (Labels{{"method", "ping"}, {"service", "edge"}}));
}

TEST(Registry, CollectSortsFamiliesByNameAndChildrenByLabels) {
  Registry registry;
  auto& z = BuildGauge().Name("bastion_test_z").Help("h").Register(registry);
  z.Add({{"k", "b"}});
  z.Add({{"k", "a"}});
  registry.RegisterCollectable([] {
    return std::vector<MetricFamily>{{"bastion_test_m", "h", MetricType::kGauge, {{}}}};
  });
  BuildGauge().Name("bastion_test_a").Help("h").Register(registry).Add({});

  std::vector<MetricFamily> collected = registry.Collect();
  ASSERT_EQ(collected.size(), 3u);
  EXPECT_EQ(collected[0].name, "bastion_test_a");
  EXPECT_EQ(collected[1].name, "bastion_test_m");
  EXPECT_EQ(collected[2].name, "bastion_test_z");
  EXPECT_EQ(collected[2].metric[0].labels.at("k"), "a");
  EXPECT_EQ(collected[2].metric[1].labels.at("k"), "b");
}

TEST(RegistryDeathTest, CounterWithoutTotalSuffixAborts) {
  Registry registry;
  EXPECT_DEATH(BuildCounter().Name("bastion_test_requests").Help("h").Register(registry),
               "counter \"bastion_test_requests\" must end in _total");
}

TEST(RegistryDeathTest, SameNameWithAnotherTypeAborts) {
  Registry registry;
  BuildGauge().Name("bastion_test_x_total").Help("h").Register(registry);
  EXPECT_DEATH(BuildCounter().Name("bastion_test_x_total").Help("h").Register(registry),
               "registered as gauge and again as counter");
}

TEST(RegistryDeathTest, InvalidNamesAbort) {
  Registry registry;
  EXPECT_DEATH(BuildGauge().Name("1bad").Help("h").Register(registry), "invalid metric name");
  EXPECT_DEATH(BuildGauge().Name("bad-name").Help("h").Register(registry), "invalid metric name");
  auto& family = BuildGauge().Name("bastion:test_ok").Help("h").Register(registry);
  EXPECT_DEATH(family.Add({{"__reserved", "x"}}), "invalid label name \"__reserved\"");
  EXPECT_DEATH(family.Add({{"a:b", "x"}}), "invalid label name");
  EXPECT_DEATH(BuildGauge().Name("bastion_test_g").Labels({{"9", "x"}}).Register(registry),
               "invalid label name \"9\"");
}

TEST(RegistryDeathTest, HistogramRejectsUnsortedBucketsAndTheLeLabel) {
  EXPECT_DEATH(Histogram({1, 0.5}), "strictly increasing");
  EXPECT_DEATH(Histogram({1, 1}), "strictly increasing");
  Registry registry;
  auto& family = BuildHistogram().Name("bastion_test_seconds").Help("h").Register(registry);
  EXPECT_DEATH(family.Add({{"le", "1"}}, DefaultLatencyBuckets()), "cannot have a label named le");
}

TEST(RegistryDeathTest, CollectableReusingARegisteredNameAborts) {
  Registry registry;
  BuildGauge().Name("bastion_test_g").Help("h").Register(registry).Add({});
  registry.RegisterCollectable([] {
    return std::vector<MetricFamily>{{"bastion_test_g", "h", MetricType::kGauge, {{}}}};
  });
  EXPECT_DEATH(registry.Collect(), "bastion_test_g is reported twice");
}

}  // namespace
}  // namespace bastion::metrics
