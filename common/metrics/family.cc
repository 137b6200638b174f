#include "common/metrics/family.h"

#include "absl/strings/str_cat.h"
#include "common/metrics/naming.h"

namespace bastion::metrics {

FamilyBase::FamilyBase(std::string name, std::string help, Labels constant_labels,
                       MetricType type)
    : name_(std::move(name)),
      help_(std::move(help)),
      constant_labels_(std::move(constant_labels)),
      type_(type) {
  detail::CheckFamilyName(name_, type_);
  for (const auto& [label, value] : constant_labels_) detail::CheckLabelName(name_, label, type_);
}

Labels FamilyBase::MergeLabels(const Labels& labels) const {
  Labels merged = constant_labels_;
  for (const auto& [label, value] : labels) {
    detail::CheckLabelName(name_, label, type_);
    if (!merged.emplace(label, value).second) {
      detail::Die(absl::StrCat("label ", label, " on ", name_, " is also a constant label"));
    }
  }
  return merged;
}

}  // namespace bastion::metrics
