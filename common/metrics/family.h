// One metric name with its help text and one child metric per label set, as in prometheus-cpp:
// `family.Add({{"method", "tools/call"}}).Increment()`.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/metric_family.h"

namespace bastion::metrics {

// What a Registry needs from a family without knowing its metric type.
class FamilyBase {
 public:
  // Aborts on an invalid name or constant label name (see naming.h).
  FamilyBase(std::string name, std::string help, Labels constant_labels, MetricType type);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& GetName() const { return name_; }
  const Labels& GetConstantLabels() const { return constant_labels_; }
  MetricType type() const { return type_; }

  // A snapshot of every child, ordered by label set.
  virtual MetricFamily Collect() const = 0;

 protected:
  // The constant labels plus `labels`; aborts on an invalid name or one given twice.
  Labels MergeLabels(const Labels& labels) const;

  const std::string name_;
  const std::string help_;
  const Labels constant_labels_;
  const MetricType type_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Labels constant_labels)
      : FamilyBase(std::move(name), std::move(help), std::move(constant_labels), T::kType) {}

  // The child for `labels`, built from `args` on first use (e.g. a Histogram's boundaries).
  // Later calls with the same labels return the same object and ignore `args`; the reference
  // stays valid as long as the family, so callers look it up once and keep it.
  template <typename... Args>
  T& Add(const Labels& labels, Args&&... args) {
    Labels key = MergeLabels(labels);
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = metrics_.try_emplace(std::move(key));
    if (inserted) it->second = std::make_unique<T>(std::forward<Args>(args)...);
    return *it->second;
  }

  bool Has(const Labels& labels) const {
    Labels key = MergeLabels(labels);
    absl::MutexLock lock(&mu_);
    return metrics_.count(key) > 0;
  }

  MetricFamily Collect() const override {
    MetricFamily family{name_, help_, type_, {}};
    absl::MutexLock lock(&mu_);
    for (const auto& [labels, metric] : metrics_) {
      family.metric.push_back(metric->Collect());
      family.metric.back().labels = labels;
    }
    return family;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<Labels, std::unique_ptr<T>> metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::metrics
