#include "common/metrics/process_metrics.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "gtest/gtest.h"

namespace bastion::metrics {
namespace {

// The value of the single-child family `name`, failing the test if it is not reported.
double Scrape(const Registry& registry, const std::string& name) {
  for (const MetricFamily& family : registry.Collect()) {
    if (family.name == name && family.metric.size() == 1) return family.metric[0].value;
  }
  ADD_FAILURE() << name << " was not reported";
  return -1;
}

class ProcessMetricsTest : public testing::Test {
 protected:
  ProcessMetricsTest() { RegisterProcessMetrics(registry_); }
  Registry registry_;
};

TEST_F(ProcessMetricsTest, OpenFdsFollowsDescriptorsOpenedAndClosed) {
  double before = Scrape(registry_, "process_open_fds");
  int first[2], second[2];
  ASSERT_EQ(pipe(first), 0);
  ASSERT_EQ(pipe(second), 0);
  double during = Scrape(registry_, "process_open_fds");
  for (int fd : {first[0], first[1], second[0], second[1]}) close(fd);

  EXPECT_EQ(during - before, 4);
  EXPECT_EQ(Scrape(registry_, "process_open_fds"), before);
}

TEST_F(ProcessMetricsTest, CpuSecondsCountsTimeSpentComputing) {
  double before = Scrape(registry_, "process_cpu_seconds_total");
  std::clock_t start = std::clock();
  volatile double sink = 0;
  while (std::clock() - start < CLOCKS_PER_SEC / 4) sink = sink + 1;
  double after = Scrape(registry_, "process_cpu_seconds_total");

  EXPECT_GE(after - before, 0.2);  // /proc counts in 10 ms ticks
  EXPECT_LT(after - before, 5);
}

TEST_F(ProcessMetricsTest, ResidentMemoryGrowsWhenPagesAreTouched) {
  constexpr size_t kSize = 64 << 20;
  double before = Scrape(registry_, "process_resident_memory_bytes");
  char* block = static_cast<char*>(std::malloc(kSize));
  ASSERT_NE(block, nullptr);
  // Volatile writes, so the compiler cannot drop stores to memory that is never read.
  volatile char* touch = block;
  for (size_t i = 0; i < kSize; i += 4096) touch[i] = 1;
  double after = Scrape(registry_, "process_resident_memory_bytes");
  std::free(block);

  EXPECT_GT(before, 1 << 20);
  EXPECT_GE(after - before, kSize / 2);
}

TEST_F(ProcessMetricsTest, StartTimeIsWhenThisTestStarted) {
  double now = static_cast<double>(std::time(nullptr));
  double start = Scrape(registry_, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 600);  // the test binary started moments ago
}

}  // namespace
}  // namespace bastion::metrics
