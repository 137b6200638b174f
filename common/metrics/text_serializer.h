// Renders metric families in the Prometheus text exposition format 0.0.4, for /metrics.
#pragma once

#include <string>
#include <vector>

#include "common/metrics/metric_family.h"
#include "common/metrics/registry.h"

namespace bastion::metrics {

// The Content-Type to serve SerializeText's output with.
inline constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Families are written in the order given; families without children are left out.
std::string SerializeText(const std::vector<MetricFamily>& families);
// Everything `registry` holds, in its deterministic Collect order.
std::string SerializeText(const Registry& registry);

}  // namespace bastion::metrics
