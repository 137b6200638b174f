// A distribution of observations (latencies, sizes) in fixed buckets, updated without locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/metrics/metric_family.h"

namespace bastion::metrics {

class Histogram {
 public:
  static constexpr MetricType kType = MetricType::kHistogram;
  using BucketBoundaries = std::vector<double>;

  // Upper bounds, strictly increasing (aborts otherwise: they are constants in code). The +Inf
  // bucket is always there; a trailing +Inf in `boundaries` is dropped rather than doubled.
  explicit Histogram(BucketBoundaries boundaries);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);

  ClientMetric Collect() const;

 private:
  const BucketBoundaries boundaries_;
  // One per boundary plus +Inf, each counting only its own bucket: an observation touches one
  // counter, and Collect makes them cumulative.
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::atomic<double> sum_{0.0};
};

// Request latency buckets in seconds, 1 ms to 10 s.
Histogram::BucketBoundaries DefaultLatencyBuckets();

}  // namespace bastion::metrics
