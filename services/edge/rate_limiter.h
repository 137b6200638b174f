// Token buckets by key (tenant, user, credential): a request takes one token; a key with none
// left is refused until its bucket refills. Memory stays bounded by evicting idle full buckets.
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/time/clock.h"

namespace bastion::edge {

class RateLimiter {
 public:
  // `per_second` tokens are added each second up to `burst`. per_second <= 0 disables limiting.
  RateLimiter(double per_second, double burst, const Clock& clock)
      : rate_(per_second), burst_(burst), clock_(clock) {}

  // Takes a token for `key`. When none is left, returns false and, if asked, how long until one
  // will be (so a client can be told when to retry).
  bool Allow(const std::string& key, absl::Duration* retry_after = nullptr) {
    if (rate_ <= 0) return true;
    const absl::Time now = clock_.Now();
    absl::MutexLock lock(&mu_);
    if (buckets_.size() > 100000) Evict(now);
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    b.tokens = std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.updated) * rate_);
    b.updated = now;
    if (b.tokens < 1) {
      if (retry_after != nullptr) *retry_after = absl::Seconds((1 - b.tokens) / rate_);
      return false;
    }
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };

  void Evict(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Duration full_after = absl::Seconds(burst_ / rate_);
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (now - it->second.updated > full_after) {
        buckets_.erase(it++);
      } else {
        ++it;
      }
    }
  }

  const double rate_;
  const double burst_;
  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::edge
