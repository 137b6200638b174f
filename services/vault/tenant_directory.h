// Tenants as the vault's RPCs name them (id or slug), resolved through the tenant service and
// cached briefly, and the admin rule of the vault's admin RPCs: the operator or an admin of the
// named tenant, and never a service identity.
#pragma once

#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/time/clock.h"
#include "services/tenant/client/tenant_client.h"

namespace bastion::vault {

struct TenantRef {
  std::string id;
  std::string slug;
};

class TenantDirectory {
 public:
  TenantDirectory(tenant::TenantClient& tenants, const Clock& clock,
                  absl::Duration cache_ttl = absl::Minutes(5))
      : tenants_(tenants), clock_(clock), ttl_(cache_ttl) {}

  // NotFound for an unknown tenant; Unavailable when the tenant service cannot be reached.
  absl::StatusOr<TenantRef> Resolve(const std::string& ref);
  // The tenant if `caller` may administer it. A service identity is refused outright, before
  // anything else is looked at; a tenant user naming another tenant gets the NotFound an
  // unknown tenant gets.
  absl::StatusOr<TenantRef> AdminTenant(const auth::Caller& caller, const std::string& ref);
  // Drops every cached resolution (after a tenant is deleted its slug may name a new tenant).
  void Forget();

 private:
  tenant::TenantClient& tenants_;
  const Clock& clock_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::pair<TenantRef, absl::Time>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
