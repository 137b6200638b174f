// Collapses concurrent calls for one key into one: the first caller runs the work, the callers
// that arrive while it runs wait and share its result. Used so that many calls needing one
// grant's refresh cause one request to the token endpoint.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace bastion::vault {

template <typename T>
class SingleFlight {
 public:
  T Do(const std::string& key, const std::function<T()>& work) {
    std::shared_ptr<Call> call;
    bool leader = false;
    {
      absl::MutexLock lock(&mu_);
      std::shared_ptr<Call>& slot = calls_[key];
      if (slot == nullptr) {
        slot = std::make_shared<Call>();
        leader = true;
      }
      call = slot;
    }
    if (leader) {
      T result = work();
      {
        absl::MutexLock lock(&mu_);
        calls_.erase(key);
      }
      absl::MutexLock lock(&call->mu);
      call->result = result;
      return result;
    }
    absl::MutexLock lock(&call->mu);
    ++call->waiters;
    call->mu.Await(absl::Condition(
        +[](std::optional<T>* r) { return r->has_value(); }, &call->result));
    return *call->result;
  }

  // Calls running now (tests).
  int in_flight() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(calls_.size());
  }

  // Callers waiting for the running call on `key` (tests).
  int waiting(const std::string& key) const {
    std::shared_ptr<Call> call;
    {
      absl::MutexLock lock(&mu_);
      auto it = calls_.find(key);
      if (it == calls_.end()) return 0;
      call = it->second;
    }
    absl::MutexLock lock(&call->mu);
    return call->waiters;
  }

 private:
  struct Call {
    absl::Mutex mu;
    std::optional<T> result ABSL_GUARDED_BY(mu);
    int waiters ABSL_GUARDED_BY(mu) = 0;
  };

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Call>> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
