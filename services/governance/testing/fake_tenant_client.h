// A TenantClient for governance logic tests: tenants, catalog switches, users and groups held
// in memory, answering the way the tenant service does (NotFound for unknown references).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "services/tenant/client/tenant_client.h"

namespace bastion::governance {

class FakeTenantClient : public tenant::TenantClient {
 public:
  // Adds an active tenant with the pagerduty catalog entry enabled; returns its id.
  std::string AddTenant(const std::string& slug) {
    absl::MutexLock l(&mu_);
    tenant::v1::Tenant t;
    t.set_id(crypto::NewUuid());
    t.set_slug(slug);
    t.set_display_name(slug);
    t.set_ai_access_active(true);
    t.set_version(1);
    t.mutable_settings()->set_default_tool_state(tenant::v1::TOOL_STATE_PENDING_REVIEW);
    tenants_[t.id()] = t;
    catalog_[t.id()] = true;
    return t.id();
  }
  void Update(const std::string& tenant_id, const std::function<void(tenant::v1::Tenant&)>& f) {
    absl::MutexLock l(&mu_);
    f(tenants_.at(tenant_id));
    tenants_.at(tenant_id).set_version(tenants_.at(tenant_id).version() + 1);
  }
  void SetCatalogEnabled(const std::string& tenant_id, bool enabled) {
    absl::MutexLock l(&mu_);
    catalog_[tenant_id] = enabled;
  }
  std::string AddUser(const std::string& tenant_id, const std::string& email) {
    absl::MutexLock l(&mu_);
    tenant::v1::User u;
    u.set_id(crypto::NewUuid());
    u.set_tenant_id(tenant_id);
    u.set_email(email);
    users_[u.id()] = u;
    return u.id();
  }
  std::string AddGroup(const std::string& tenant_id, const std::string& name) {
    absl::MutexLock l(&mu_);
    tenant::v1::Group g;
    g.set_id(crypto::NewUuid());
    g.set_tenant_id(tenant_id);
    g.set_name(name);
    groups_[g.id()] = g;
    return g.id();
  }
  void SetUnavailable(bool down) {
    absl::MutexLock l(&mu_);
    down_ = down;
  }

  absl::StatusOr<tenant::v1::Identity> Authenticate(const std::string&) override {
    return absl::UnauthenticatedError("the fake tenant client issues no tokens");
  }
  absl::StatusOr<tenant::v1::CheckAccessResponse> CheckAccess(const std::string& ref) override {
    ASSIGN_OR_RETURN(tenant::v1::Tenant t, GetTenant(ref));
    tenant::v1::CheckAccessResponse r;
    r.set_allowed(t.ai_access_active() && !t.kill_switch());
    r.set_tenant_id(t.id());
    r.set_active(t.ai_access_active());
    r.set_kill_switch(t.kill_switch());
    r.set_tenant_version(t.version());
    return r;
  }
  absl::StatusOr<tenant::v1::Tenant> GetTenant(const std::string& ref) override {
    absl::MutexLock l(&mu_);
    ++get_tenant_calls;
    if (down_) return absl::UnavailableError("tenant service down");
    for (const auto& [id, t] : tenants_) {
      if (id == ref || t.slug() == ref) return t;
    }
    return absl::NotFoundError("tenant not found");
  }
  absl::StatusOr<bool> CatalogEnabled(const std::string& tenant, const std::string& key) override {
    absl::MutexLock l(&mu_);
    if (key != "pagerduty") return false;
    auto it = catalog_.find(tenant);
    return it != catalog_.end() && it->second;
  }
  absl::StatusOr<tenant::v1::User> GetUser(const std::string& tenant,
                                           const std::string& user) override {
    absl::MutexLock l(&mu_);
    for (const auto& [id, u] : users_) {
      if (u.tenant_id() == tenant && (id == user || u.email() == user)) return u;
    }
    return absl::NotFoundError("user not found");
  }
  absl::StatusOr<std::vector<tenant::v1::Group>> ListGroups(const std::string& tenant) override {
    absl::MutexLock l(&mu_);
    std::vector<tenant::v1::Group> out;
    for (const auto& [id, g] : groups_) {
      if (g.tenant_id() == tenant) out.push_back(g);
    }
    return out;
  }

  int get_tenant_calls = 0;

 private:
  absl::Mutex mu_;
  std::map<std::string, tenant::v1::Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> catalog_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, tenant::v1::User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, tenant::v1::Group> groups_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace bastion::governance
