// The snapshot a Registry hands to serializers at scrape time, shaped like prometheus-cpp's
// Labels / MetricType / ClientMetric / MetricFamily.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bastion::metrics {

// Sorted by label name, which gives every label set one spelling and the exposition one order.
using Labels = std::map<std::string, std::string>;

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge" or "histogram", as the exposition format's # TYPE line spells it.
absl::string_view MetricTypeName(MetricType type);

struct ClientMetric {
  struct Bucket {
    double upper_bound = 0;
    std::uint64_t cumulative_count = 0;
  };

  Labels labels;
  double value = 0;  // counter, gauge

  // Histogram only: cumulative, ascending, the last bucket's upper bound is +Inf.
  std::vector<Bucket> buckets;
  std::uint64_t sample_count = 0;
  double sample_sum = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<ClientMetric> metric;
};

}  // namespace bastion::metrics
