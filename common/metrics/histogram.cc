#include "common/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/metrics/atomic_double.h"
#include "common/metrics/naming.h"

namespace bastion::metrics {
namespace {

Histogram::BucketBoundaries Validated(Histogram::BucketBoundaries boundaries) {
  if (!boundaries.empty() && boundaries.back() == std::numeric_limits<double>::infinity()) {
    boundaries.pop_back();
  }
  for (size_t i = 0; i < boundaries.size(); ++i) {
    if (std::isnan(boundaries[i]) || (i > 0 && !(boundaries[i - 1] < boundaries[i]))) {
      detail::Die(absl::StrCat("histogram bucket boundaries must be strictly increasing, got ",
                               boundaries[i], " at index ", i));
    }
  }
  return boundaries;
}

}  // namespace

Histogram::Histogram(BucketBoundaries boundaries)
    : boundaries_(Validated(std::move(boundaries))), counts_(boundaries_.size() + 1) {}

void Histogram::Observe(double value) {
  // First bucket whose bound is >= value (bounds are inclusive). Written as "not <=" so that a
  // NaN lands in +Inf, as in the Go client, instead of in the first bucket.
  auto it = std::partition_point(boundaries_.begin(), boundaries_.end(),
                                 [value](double bound) { return !(value <= bound); });
  counts_[it - boundaries_.begin()].fetch_add(1, std::memory_order_relaxed);
  detail::AtomicAdd(sum_, value);
}

ClientMetric Histogram::Collect() const {
  ClientMetric metric;
  std::uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    double bound =
        i < boundaries_.size() ? boundaries_[i] : std::numeric_limits<double>::infinity();
    metric.buckets.push_back({bound, cumulative});
  }
  // Count from the same loads as the buckets, so _count always equals the +Inf bucket even
  // while observations race with the scrape.
  metric.sample_count = cumulative;
  metric.sample_sum = sum_.load(std::memory_order_relaxed);
  return metric;
}

Histogram::BucketBoundaries DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace bastion::metrics
