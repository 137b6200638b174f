#include "common/metrics/counter.h"

#include "common/metrics/atomic_double.h"

namespace bastion::metrics {

void Counter::Increment(double amount) {
  if (!(amount >= 0)) return;
  detail::AtomicAdd(value_, amount);
}

double Counter::Value() const { return value_.load(std::memory_order_relaxed); }

ClientMetric Counter::Collect() const {
  ClientMetric metric;
  metric.value = Value();
  return metric;
}

}  // namespace bastion::metrics
