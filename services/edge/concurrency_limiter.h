// Bounds the tool calls running at once per tenant and per user, so one member or one tenant
// cannot hold every edge worker with slow calls while others wait (issue 11, defect 3).
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace bastion::edge {

class ConcurrencyLimiter {
 public:
  // A limit <= 0 means unlimited.
  ConcurrencyLimiter(int per_tenant, int per_user) : per_tenant_(per_tenant), per_user_(per_user) {}
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  enum class Refusal { kNone, kTenant, kUser };

  // One admitted call's place; the call leaves when its Slot is destroyed. A refused Slot holds
  // nothing and says which limit refused it.
  class Slot {
   public:
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&&) = delete;
    ~Slot();

    explicit operator bool() const { return owner_ != nullptr; }
    Refusal refusal() const { return refusal_; }
    // For the model: which limit, how high, and what to do.
    std::string Message() const;

   private:
    friend class ConcurrencyLimiter;
    Slot(ConcurrencyLimiter* owner, std::string tenant, std::string user, Refusal refusal, int limit)
        : owner_(owner), tenant_(std::move(tenant)), user_(std::move(user)), refusal_(refusal),
          limit_(limit) {}

    ConcurrencyLimiter* owner_;  // null when refused or moved from
    std::string tenant_;
    std::string user_;
    Refusal refusal_;
    int limit_;
  };

  // Admits the call unless its tenant or its user already has as many calls in flight as the
  // limit allows. Never blocks: a refusal is immediate.
  Slot TryAcquire(const std::string& tenant_id, const std::string& user_id);

  int InFlightForTenant(const std::string& tenant_id) const;

 private:
  void Release(const std::string& tenant_id, const std::string& user_key);

  const int per_tenant_;
  const int per_user_;
  mutable absl::Mutex mu_;
  // Only keys with calls in flight are kept, so memory follows the load, not the key space.
  absl::flat_hash_map<std::string, int> tenants_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> users_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::edge
