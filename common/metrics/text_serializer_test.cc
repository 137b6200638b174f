#include "common/metrics/text_serializer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "gtest/gtest.h"

namespace bastion::metrics {
namespace {

constexpr char kPromtool[] = "/usr/bin/promtool";

// A counter, a gauge and a histogram, with help text and label values that need escaping.
void FillSmallRegistry(Registry& registry) {
  auto& requests = BuildCounter()
                       .Name("bastion_test_requests_total")
                       .Help("Requests served.\nBy method; a \\ stays a \\.")
                       .Register(registry);
  requests.Add({{"method", "tools/call"}, {"outcome", "ok"}}).Increment(3);
  requests.Add({{"method", "say \"hi\"\n\\"}, {"outcome", "error"}}).Increment();

  BuildGauge()
      .Name("bastion_test_in_flight")
      .Help("Calls in flight.")
      .Register(registry)
      .Add({})
      .Set(2.5);

  Histogram& latency = BuildHistogram()
                           .Name("bastion_test_latency_seconds")
                           .Help("Call latency.")
                           .Register(registry)
                           .Add({{"method", "tools/list"}}, Histogram::BucketBoundaries{0.25, 1});
  for (double v : {0.125, 0.25, 0.5, 3.0}) latency.Observe(v);
}

TEST(SerializeText, WritesTheExpositionFormat) {
  Registry registry;
  FillSmallRegistry(registry);
  BuildGauge().Name("bastion_test_unused").Help("Never given a child.").Register(registry);

  EXPECT_EQ(SerializeText(registry),
            R"(# HELP bastion_test_in_flight Calls in flight.
# TYPE bastion_test_in_flight gauge
bastion_test_in_flight 2.5
# HELP bastion_test_latency_seconds Call latency.
# TYPE bastion_test_latency_seconds histogram
bastion_test_latency_seconds_bucket{method="tools/list",le="0.25"} 2
bastion_test_latency_seconds_bucket{method="tools/list",le="1"} 3
bastion_test_latency_seconds_bucket{method="tools/list",le="+Inf"} 4
bastion_test_latency_seconds_sum{method="tools/list"} 3.875
bastion_test_latency_seconds_count{method="tools/list"} 4
# HELP bastion_test_requests_total Requests served.\nBy method; a \\ stays a \\.
# TYPE bastion_test_requests_total counter
bastion_test_requests_total{method="say \"hi\"\n\\",outcome="error"} 1
bastion_test_requests_total{method="tools/call",outcome="ok"} 3
)");
}

TEST(SerializeText, WritesNumbersPrometheusParses) {
  Registry registry;
  auto& family = BuildGauge().Name("bastion_test_value").Help("h").Register(registry);
  family.Add({{"case", "a_fraction"}}).Set(0.1);
  family.Add({{"case", "b_whole"}}).Set(1000000);
  family.Add({{"case", "c_negative"}}).Set(-7);
  family.Add({{"case", "d_huge"}}).Set(1e21);
  family.Add({{"case", "e_tiny"}}).Set(1.5e-9);
  family.Add({{"case", "f_inf"}}).Set(std::numeric_limits<double>::infinity());
  family.Add({{"case", "g_minus_inf"}}).Set(-std::numeric_limits<double>::infinity());
  family.Add({{"case", "h_nan"}}).Set(std::numeric_limits<double>::quiet_NaN());

  EXPECT_EQ(SerializeText(registry), R"(# HELP bastion_test_value h
# TYPE bastion_test_value gauge
bastion_test_value{case="a_fraction"} 0.1
bastion_test_value{case="b_whole"} 1000000
bastion_test_value{case="c_negative"} -7
bastion_test_value{case="d_huge"} 1e+21
bastion_test_value{case="e_tiny"} 1.5e-09
bastion_test_value{case="f_inf"} +Inf
bastion_test_value{case="g_minus_inf"} -Inf
bastion_test_value{case="h_nan"} NaN
)");
}

// Runs `promtool check metrics` on `text`; returns its exit code and puts its output in `output`.
int RunPromtool(const std::string& text, std::string& output) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(tmpdir ? tmpdir : "/tmp") + "/metrics.txt";
  std::ofstream(path) << text;
  std::string command = std::string(kPromtool) + " check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SerializeText, PromtoolAcceptsEveryMetricType) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: install Debian's prometheus package";
  Registry registry;
  FillSmallRegistry(registry);
  RegisterProcessMetrics(registry);
  auto& odd = BuildGauge().Name("bastion_test_odd_values").Help("Odd values.").Register(registry);
  odd.Add({{"case", "nan"}}).Set(std::numeric_limits<double>::quiet_NaN());
  odd.Add({{"case", "inf"}}).Set(-std::numeric_limits<double>::infinity());
  odd.Add({{"case", "tiny"}}).Set(1.5e-9);
  std::string text = SerializeText(registry);
  ASSERT_NE(text.find("process_open_fds "), std::string::npos) << text;

  std::string output;
  EXPECT_EQ(RunPromtool(text, output), 0) << output << "\n--- input ---\n" << text;
}

// Proves the check above can fail: promtool must reject what is not the exposition format.
TEST(SerializeText, PromtoolRejectsMalformedText) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: install Debian's prometheus package";
  std::string output;
  EXPECT_NE(RunPromtool("# TYPE bastion_test_x counter\nbastion_test_x{a=\"b} 1\n", output), 0)
      << output;
}

}  // namespace
}  // namespace bastion::metrics
