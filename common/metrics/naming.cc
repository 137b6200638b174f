#include "common/metrics/naming.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace bastion::metrics {

absl::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

namespace detail {
namespace {

bool IsValidName(absl::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = absl::ascii_isalpha(c) || c == '_' || (allow_colon && c == ':') ||
              (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void Die(absl::string_view message) {
  std::fprintf(stderr, "bastion::metrics: %.*s\n", static_cast<int>(message.size()),
               message.data());
  std::abort();
}

bool IsValidMetricName(absl::string_view name) { return IsValidName(name, true); }

bool IsValidLabelName(absl::string_view name) {
  return IsValidName(name, false) && !absl::StartsWith(name, "__");
}

void CheckFamilyName(absl::string_view name, MetricType type) {
  if (!IsValidMetricName(name)) {
    Die(absl::StrCat("invalid metric name \"", name, "\": must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  if (type == MetricType::kCounter && !absl::EndsWith(name, "_total")) {
    Die(absl::StrCat("counter \"", name, "\" must end in _total"));
  }
}

void CheckLabelName(absl::string_view family, absl::string_view name, MetricType type) {
  if (!IsValidLabelName(name)) {
    Die(absl::StrCat("invalid label name \"", name, "\" on ", family,
                     ": must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"));
  }
  if (type == MetricType::kHistogram && name == "le") {
    Die(absl::StrCat("histogram ", family, " cannot have a label named le"));
  }
}

}  // namespace detail
}  // namespace bastion::metrics
