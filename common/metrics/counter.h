// A value that only goes up (requests served, errors seen), updated without locks.
#pragma once

#include <atomic>

#include "common/metrics/metric_family.h"

namespace bastion::metrics {

class Counter {
 public:
  static constexpr MetricType kType = MetricType::kCounter;

  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment() { Increment(1.0); }
  // Negative and NaN amounts are ignored, as in prometheus-cpp: a counter that goes down reads
  // as a process restart to rate().
  void Increment(double amount);
  double Value() const;

  ClientMetric Collect() const;

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace bastion::metrics
