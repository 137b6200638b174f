// An in-memory TenantClient for other services' tests: tenants (active, PagerDuty enabled),
// users by id or email, groups, client tokens that authenticate to identities, and an outage
// switch — answering the way the tenant service does (NotFound for unknown references).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "services/tenant/client/tenant_client.h"

namespace bastion::tenant {

class FakeTenantClient : public TenantClient {
 public:
  // Adds an active tenant with the pagerduty catalog entry enabled; returns its id.
  std::string AddTenant(const std::string& slug) {
    absl::MutexLock l(&mu_);
    v1::Tenant t;
    t.set_id(crypto::NewUuid());
    t.set_slug(slug);
    t.set_display_name(slug);
    t.set_ai_access_active(true);
    t.set_version(1);
    t.mutable_settings()->set_default_tool_state(v1::TOOL_STATE_PENDING_REVIEW);
    tenants_[t.id()] = t;
    catalog_[t.id()] = true;
    return t.id();
  }
  void Update(const std::string& tenant_id, const std::function<void(v1::Tenant&)>& f) {
    absl::MutexLock l(&mu_);
    f(tenants_.at(tenant_id));
    tenants_.at(tenant_id).set_version(tenants_.at(tenant_id).version() + 1);
  }
  void SetCatalogEnabled(const std::string& tenant_id, bool enabled) {
    absl::MutexLock l(&mu_);
    catalog_[tenant_id] = enabled;
  }
  // Returns the new user; `token` (if given) authenticates as them.
  v1::User AddUser(const std::string& tenant_id, const std::string& email, bool admin = false,
                   const std::string& token = "") {
    absl::MutexLock l(&mu_);
    v1::User u;
    u.set_id(crypto::NewUuid());
    u.set_tenant_id(tenant_id);
    u.set_email(absl::AsciiStrToLower(email));
    u.set_role(admin ? v1::ROLE_ADMIN : v1::ROLE_MEMBER);
    users_[u.id()] = u;
    if (!token.empty()) tokens_[token] = u.id();
    return u;
  }
  void DisableUser(const std::string& user_id) {
    absl::MutexLock l(&mu_);
    users_.at(user_id).set_disabled(true);
  }
  std::string AddGroup(const std::string& tenant_id, const std::string& name) {
    absl::MutexLock l(&mu_);
    v1::Group g;
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
  int get_tenant_calls() {
    absl::MutexLock l(&mu_);
    return get_tenant_calls_;
  }

  absl::StatusOr<v1::Identity> Authenticate(const std::string& token) override {
    absl::MutexLock l(&mu_);
    if (down_) return absl::UnavailableError("tenant service down");
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return absl::UnauthenticatedError("unknown token");
    const v1::User& u = users_.at(it->second);
    v1::Identity id;
    id.set_tenant_id(u.tenant_id());
    id.set_tenant_slug(tenants_.at(u.tenant_id()).slug());
    id.set_user_id(u.id());
    id.set_email(u.email());
    id.set_role(u.role());
    return id;
  }
  absl::StatusOr<v1::CheckAccessResponse> CheckAccess(const std::string& ref) override {
    ASSIGN_OR_RETURN(v1::Tenant t, GetTenant(ref));
    v1::CheckAccessResponse r;
    r.set_allowed(t.ai_access_active() && !t.kill_switch());
    r.set_tenant_id(t.id());
    r.set_active(t.ai_access_active());
    r.set_kill_switch(t.kill_switch());
    r.set_tenant_version(t.version());
    return r;
  }
  absl::StatusOr<v1::Tenant> GetTenant(const std::string& ref) override {
    absl::MutexLock l(&mu_);
    ++get_tenant_calls_;
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
  absl::StatusOr<v1::User> GetUser(const std::string& tenant_ref, const std::string& user) override {
    absl::MutexLock l(&mu_);
    if (down_) return absl::UnavailableError("tenant service down");
    for (const auto& [id, u] : users_) {
      const v1::Tenant& t = tenants_.at(u.tenant_id());
      if ((t.id() == tenant_ref || t.slug() == tenant_ref) &&
          (id == user || u.email() == absl::AsciiStrToLower(user))) {
        return u;
      }
    }
    return absl::NotFoundError("user not found");
  }
  absl::StatusOr<std::vector<v1::Group>> ListGroups(const std::string& tenant) override {
    absl::MutexLock l(&mu_);
    std::vector<v1::Group> out;
    for (const auto& [id, g] : groups_) {
      if (g.tenant_id() == tenant) out.push_back(g);
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int get_tenant_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, v1::Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> catalog_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Group> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> tokens_ ABSL_GUARDED_BY(mu_);  // token -> user id
};

}  // namespace bastion::tenant
