// Cost of the hot-path updates, alone and with threads contending for one metric.
#include "benchmark/benchmark.h"
#include "common/metrics/registry.h"

namespace bastion::metrics {
namespace {

Registry& SharedRegistry() {
  static auto* registry = new Registry;
  return *registry;
}

auto& RequestsFamily() {
  return BuildCounter().Name("bastion_bench_requests_total").Help("h").Register(SharedRegistry());
}

void BM_CounterIncrement(benchmark::State& state) {
  Counter& counter = RequestsFamily().Add({{"method", "tools/call"}});
  for (auto _ : state) counter.Increment();
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2)->Threads(4);

void BM_HistogramObserve(benchmark::State& state) {
  Histogram& histogram = BuildHistogram()
                             .Name("bastion_bench_latency_seconds")
                             .Help("h")
                             .Register(SharedRegistry())
                             .Add({}, DefaultLatencyBuckets());
  double value = 0;
  for (auto _ : state) {
    histogram.Observe(value);
    value = value < 10 ? value + 0.013 : 0;  // spread over the buckets
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->Threads(4);

// What a caller pays for looking the child up on every request instead of keeping the reference.
void BM_FamilyAddExistingLabels(benchmark::State& state) {
  auto& family = RequestsFamily();
  for (auto _ : state) family.Add({{"method", "tools/call"}}).Increment();
}
BENCHMARK(BM_FamilyAddExistingLabels)->Threads(1)->Threads(4);

}  // namespace
}  // namespace bastion::metrics
