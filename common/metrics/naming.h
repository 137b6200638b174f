// Prometheus naming rules for metrics and labels, and the abort used when code breaks them.
// Names are constants in code, so a bad one is a programming error, not input to report.
#pragma once

#include "absl/strings/string_view.h"

#include "common/metrics/metric_family.h"

namespace bastion::metrics::detail {

// Prints "bastion::metrics: <message>" to stderr and aborts.
[[noreturn]] void Die(absl::string_view message);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(absl::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus itself).
bool IsValidLabelName(absl::string_view name);

// Aborts unless `name` is a valid metric name, and, for counters, ends in "_total".
void CheckFamilyName(absl::string_view name, MetricType type);
// Aborts unless `name` is a valid label name that `type` allows ("le" is the histogram's own).
void CheckLabelName(absl::string_view family, absl::string_view name, MetricType type);

}  // namespace bastion::metrics::detail
