// Owns a process's metric families and the callbacks that report values at scrape time; built
// like prometheus-cpp: `BuildCounter().Name("..._total").Help("...").Register(registry)`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/counter.h"
#include "common/metrics/family.h"
#include "common/metrics/gauge.h"
#include "common/metrics/histogram.h"
#include "common/metrics/metric_family.h"
#include "common/metrics/naming.h"

namespace bastion::metrics {

template <typename T>
class Builder;

class Registry {
 public:
  // Produces families whose values are only known when asked (process stats, pool sizes).
  using CollectCallback = std::function<std::vector<MetricFamily>()>;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // `callback` runs on every Collect, outside the registry's lock. Its families obey the same
  // naming rules as registered ones and must not reuse their names (aborts otherwise).
  void RegisterCollectable(CollectCallback callback);

  // Every family, registered and from callbacks, sorted by name; children sorted by label set.
  std::vector<MetricFamily> Collect() const;

 private:
  template <typename T>
  friend class Builder;

  // Registering a name again returns the existing family if the type and constant labels match;
  // anything else is two pieces of code disagreeing about one metric, and aborts.
  template <typename T>
  Family<T>& Add(const std::string& name, const std::string& help, const Labels& constant_labels);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<CollectCallback> callbacks_ ABSL_GUARDED_BY(mu_);
};

template <typename T>
class Builder {
 public:
  Builder& Name(const std::string& name) {
    name_ = name;
    return *this;
  }
  Builder& Help(const std::string& help) {
    help_ = help;
    return *this;
  }
  // Labels every child of the family carries.
  Builder& Labels(const metrics::Labels& labels) {
    labels_ = labels;
    return *this;
  }
  Family<T>& Register(Registry& registry) const {
    return registry.Add<T>(name_, help_, labels_);
  }

 private:
  std::string name_;
  std::string help_;
  metrics::Labels labels_;
};

inline Builder<Counter> BuildCounter() { return {}; }
inline Builder<Gauge> BuildGauge() { return {}; }
inline Builder<Histogram> BuildHistogram() { return {}; }

template <typename T>
Family<T>& Registry::Add(const std::string& name, const std::string& help,
                         const metrics::Labels& constant_labels) {
  absl::MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<Family<T>>(name, help, constant_labels);
    Family<T>& result = *family;
    families_.emplace(name, std::move(family));
    return result;
  }
  FamilyBase& existing = *it->second;
  if (existing.type() != T::kType) {
    detail::Die(absl::StrCat("metric ", name, " registered as ", MetricTypeName(existing.type()),
                             " and again as ", MetricTypeName(T::kType)));
  }
  if (existing.GetConstantLabels() != constant_labels) {
    detail::Die(absl::StrCat("metric ", name, " registered twice with different constant labels"));
  }
  return static_cast<Family<T>&>(existing);
}

}  // namespace bastion::metrics
