#include "common/metrics/text_serializer.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace bastion::metrics {
namespace {

// Prometheus parses values with Go's ParseFloat: it takes +Inf/-Inf/NaN and exponents, but
// whole numbers read better without them ("1000000", not "1e+06").
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<std::int64_t>(value));
  }
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);  // shortest round-trip
  return std::string(buffer, result.ptr);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string& out, absl::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `le` is the histogram bucket's bound, written last; empty for every other sample.
void AppendSample(std::string& out, absl::string_view name, absl::string_view suffix,
                  const Labels& labels, absl::string_view le, absl::string_view value) {
  absl::StrAppend(&out, name, suffix);
  if (!labels.empty() || !le.empty()) {
    out += '{';
    absl::string_view separator;
    for (const auto& [label, label_value] : labels) {
      absl::StrAppend(&out, separator, label, "=\"");
      AppendEscaped(out, label_value, /*escape_quote=*/true);
      out += '"';
      separator = ",";
    }
    if (!le.empty()) absl::StrAppend(&out, separator, "le=\"", le, "\"");
    out += '}';
  }
  absl::StrAppend(&out, " ", value, "\n");
}

}  // namespace

std::string SerializeText(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& family : families) {
    if (family.metric.empty()) continue;
    if (!family.help.empty()) {
      absl::StrAppend(&out, "# HELP ", family.name, " ");
      AppendEscaped(out, family.help, /*escape_quote=*/false);
      out += '\n';
    }
    absl::StrAppend(&out, "# TYPE ", family.name, " ", MetricTypeName(family.type), "\n");
    for (const ClientMetric& metric : family.metric) {
      if (family.type != MetricType::kHistogram) {
        AppendSample(out, family.name, "", metric.labels, "", FormatValue(metric.value));
        continue;
      }
      for (const ClientMetric::Bucket& bucket : metric.buckets) {
        AppendSample(out, family.name, "_bucket", metric.labels, FormatValue(bucket.upper_bound),
                     absl::StrCat(bucket.cumulative_count));
      }
      AppendSample(out, family.name, "_sum", metric.labels, "", FormatValue(metric.sample_sum));
      AppendSample(out, family.name, "_count", metric.labels, "",
                   absl::StrCat(metric.sample_count));
    }
  }
  return out;
}

std::string SerializeText(const Registry& registry) { return SerializeText(registry.Collect()); }

}  // namespace bastion::metrics
