#include "common/metrics/registry.h"

#include <algorithm>
#include <utility>

namespace bastion::metrics {

void Registry::RegisterCollectable(CollectCallback callback) {
  absl::MutexLock lock(&mu_);
  callbacks_.push_back(std::move(callback));
}

std::vector<MetricFamily> Registry::Collect() const {
  std::vector<MetricFamily> families;
  std::vector<CollectCallback> callbacks;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, family] : families_) families.push_back(family->Collect());
    callbacks = callbacks_;
  }
  auto by_labels = [](const ClientMetric& a, const ClientMetric& b) { return a.labels < b.labels; };
  for (const CollectCallback& callback : callbacks) {
    for (MetricFamily& family : callback()) {
      detail::CheckFamilyName(family.name, family.type);
      for (const ClientMetric& metric : family.metric) {
        for (const auto& [label, value] : metric.labels) {
          detail::CheckLabelName(family.name, label, family.type);
        }
      }
      std::sort(family.metric.begin(), family.metric.end(), by_labels);
      families.push_back(std::move(family));
    }
  }
  std::sort(families.begin(), families.end(),
            [](const MetricFamily& a, const MetricFamily& b) { return a.name < b.name; });
  auto duplicate = std::adjacent_find(
      families.begin(), families.end(),
      [](const MetricFamily& a, const MetricFamily& b) { return a.name == b.name; });
  if (duplicate != families.end()) {
    detail::Die(absl::StrCat("metric ", duplicate->name, " is reported twice"));
  }
  return families;
}

}  // namespace bastion::metrics
