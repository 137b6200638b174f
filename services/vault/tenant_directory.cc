#include "services/vault/tenant_directory.h"

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace bastion::vault {

absl::StatusOr<TenantRef> TenantDirectory::Resolve(const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("tenant must name a tenant id or slug");
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(ref);
    if (it != cache_.end() && it->second.second > now) return it->second.first;
  }
  auto t = tenants_.GetTenant(ref);
  if (t.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
  }
  if (!t.ok()) {
    log::Warn("cannot resolve a tenant through the tenant service", {{"error", t.status().message()}});
    return absl::UnavailableError("cannot reach the tenant service right now; retry");
  }
  TenantRef out{t->id(), t->slug()};
  absl::MutexLock lock(&mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[ref] = {out, now + ttl_};
  return out;
}

absl::StatusOr<TenantRef> TenantDirectory::AdminTenant(const auth::Caller& caller,
                                                       const std::string& ref) {
  switch (caller.kind) {
    case auth::Caller::Kind::kNone:
      return absl::UnauthenticatedError("a bearer token is required");
    case auth::Caller::Kind::kService:
      // Services act for users, never as an admin: refused whatever the tenant.
      return absl::PermissionDeniedError("services may not call admin APIs");
    case auth::Caller::Kind::kOperator:
      return Resolve(ref);
    case auth::Caller::Kind::kTenantAdmin:
    case auth::Caller::Kind::kTenantMember:
      break;
  }
  if (ref != caller.tenant_id && ref != caller.tenant_slug) {
    return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
  }
  RETURN_IF_ERROR(auth::RequireTenantAdmin(caller, caller.tenant_id, ref));
  return TenantRef{caller.tenant_id, caller.tenant_slug};
}

void TenantDirectory::Forget() {
  absl::MutexLock lock(&mu_);
  cache_.clear();
}

}  // namespace bastion::vault
