// Lock-free add on std::atomic<double>, which has no fetch_add before C++20.
#pragma once

#include <atomic>

namespace bastion::metrics::detail {

static_assert(std::atomic<double>::is_always_lock_free, "metric updates must not take a lock");

// Relaxed order: a metric is a statistic, nothing synchronizes through it.
inline void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

}  // namespace bastion::metrics::detail
