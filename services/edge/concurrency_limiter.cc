#include "services/edge/concurrency_limiter.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace bastion::edge {
namespace {

// A user id is unique on its own; the tenant prefix keeps the key readable in a debugger.
std::string UserKey(const std::string& tenant_id, const std::string& user_id) {
  return absl::StrCat(tenant_id, "/", user_id);
}

}  // namespace

ConcurrencyLimiter::Slot::Slot(Slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      tenant_(std::move(other.tenant_)),
      user_(std::move(other.user_)),
      refusal_(other.refusal_),
      limit_(other.limit_) {}

ConcurrencyLimiter::Slot::~Slot() {
  if (owner_ != nullptr) owner_->Release(tenant_, user_);
}

std::string ConcurrencyLimiter::Slot::Message() const {
  switch (refusal_) {
    case Refusal::kNone:
      return "";
    case Refusal::kTenant:
      return absl::StrCat("Your organization already has ", limit_,
                          " tool calls running at once, the most Bastion allows; wait for some to "
                          "finish, then retry this call. Nothing was sent to PagerDuty.");
    case Refusal::kUser:
      return absl::StrCat("You already have ", limit_,
                          " tool calls running at once, the most Bastion allows per user; wait for "
                          "one to finish, then retry this call. Nothing was sent to PagerDuty.");
  }
  return "";
}

ConcurrencyLimiter::Slot ConcurrencyLimiter::TryAcquire(const std::string& tenant_id,
                                                        const std::string& user_id) {
  std::string user_key = UserKey(tenant_id, user_id);
  absl::MutexLock lock(&mu_);
  const int tenant_now = tenants_.contains(tenant_id) ? tenants_.at(tenant_id) : 0;
  const int user_now = users_.contains(user_key) ? users_.at(user_key) : 0;
  // The user's own limit is checked first: it names the cause the caller can fix.
  if (per_user_ > 0 && user_now >= per_user_) {
    return Slot(nullptr, tenant_id, user_key, Refusal::kUser, per_user_);
  }
  if (per_tenant_ > 0 && tenant_now >= per_tenant_) {
    return Slot(nullptr, tenant_id, user_key, Refusal::kTenant, per_tenant_);
  }
  ++tenants_[tenant_id];
  ++users_[user_key];
  return Slot(this, tenant_id, std::move(user_key), Refusal::kNone, 0);
}

int ConcurrencyLimiter::InFlightForTenant(const std::string& tenant_id) const {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant_id);
  return it == tenants_.end() ? 0 : it->second;
}

void ConcurrencyLimiter::Release(const std::string& tenant_id, const std::string& user_key) {
  absl::MutexLock lock(&mu_);
  if (auto it = tenants_.find(tenant_id); it != tenants_.end() && --it->second <= 0) {
    tenants_.erase(it);
  }
  if (auto it = users_.find(user_key); it != users_.end() && --it->second <= 0) users_.erase(it);
}

}  // namespace bastion::edge
