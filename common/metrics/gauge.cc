#include "common/metrics/gauge.h"

#include "common/metrics/atomic_double.h"

namespace bastion::metrics {

void Gauge::Set(double value) { value_.store(value, std::memory_order_relaxed); }

void Gauge::Increment(double amount) { detail::AtomicAdd(value_, amount); }

double Gauge::Value() const { return value_.load(std::memory_order_relaxed); }

ClientMetric Gauge::Collect() const {
  ClientMetric metric;
  metric.value = Value();
  return metric;
}

}  // namespace bastion::metrics
