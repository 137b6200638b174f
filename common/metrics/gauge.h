// A value that goes up and down (calls in flight, pool size), updated without locks.
#pragma once

#include <atomic>

#include "common/metrics/metric_family.h"

namespace bastion::metrics {

class Gauge {
 public:
  static constexpr MetricType kType = MetricType::kGauge;

  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value);
  void Increment() { Increment(1.0); }
  void Increment(double amount);
  void Decrement() { Increment(-1.0); }
  void Decrement(double amount) { Increment(-amount); }
  double Value() const;

  ClientMetric Collect() const;

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace bastion::metrics
