// An in-memory TenantClient for the vault's tests: tenants and users by id, slug or email, and
// client tokens that authenticate to identities. Counts calls so tests can see caching.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/crypto.h"
#include "services/tenant/client/tenant_client.h"

namespace bastion::vault {

class FakeTenantClient : public tenant::TenantClient {
 public:
  // Returns the new tenant's id.
  std::string AddTenant(const std::string& slug) {
    absl::MutexLock l(&mu_);
    tenant::v1::Tenant t;
    t.set_id(crypto::NewUuid());
    t.set_slug(slug);
    t.set_ai_access_active(true);
    tenants_[t.id()] = t;
    return t.id();
  }
  // Returns the new user; `token` (if given) authenticates as them.
  tenant::v1::User AddUser(const std::string& tenant_id, const std::string& email, bool admin,
                           const std::string& token = "") {
    absl::MutexLock l(&mu_);
    tenant::v1::User u;
    u.set_id(crypto::NewUuid());
    u.set_tenant_id(tenant_id);
    u.set_email(absl::AsciiStrToLower(email));
    u.set_role(admin ? tenant::v1::ROLE_ADMIN : tenant::v1::ROLE_MEMBER);
    users_[u.id()] = u;
    if (!token.empty()) tokens_[token] = u.id();
    return u;
  }
  void DisableUser(const std::string& user_id) {
    absl::MutexLock l(&mu_);
    users_.at(user_id).set_disabled(true);
  }
  void SetUnavailable(bool down) {
    absl::MutexLock l(&mu_);
    down_ = down;
  }
  int get_tenant_calls() {
    absl::MutexLock l(&mu_);
    return get_tenant_calls_;
  }

  absl::StatusOr<tenant::v1::Identity> Authenticate(const std::string& token) override {
    absl::MutexLock l(&mu_);
    if (down_) return absl::UnavailableError("tenant service down");
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return absl::UnauthenticatedError("unknown token");
    const tenant::v1::User& u = users_.at(it->second);
    tenant::v1::Identity id;
    id.set_tenant_id(u.tenant_id());
    id.set_tenant_slug(tenants_.at(u.tenant_id()).slug());
    id.set_user_id(u.id());
    id.set_email(u.email());
    id.set_role(u.role());
    return id;
  }
  absl::StatusOr<tenant::v1::CheckAccessResponse> CheckAccess(const std::string& tenant) override {
    return absl::UnimplementedError("not used by the vault");
  }
  absl::StatusOr<tenant::v1::Tenant> GetTenant(const std::string& ref) override {
    absl::MutexLock l(&mu_);
    ++get_tenant_calls_;
    if (down_) return absl::UnavailableError("tenant service down");
    for (auto& [id, t] : tenants_) {
      if (id == ref || t.slug() == ref) return t;
    }
    return absl::NotFoundError("tenant not found");
  }
  absl::StatusOr<bool> CatalogEnabled(const std::string&, const std::string&) override {
    return true;
  }
  absl::StatusOr<tenant::v1::User> GetUser(const std::string& tenant_ref,
                                           const std::string& user) override {
    absl::MutexLock l(&mu_);
    if (down_) return absl::UnavailableError("tenant service down");
    for (auto& [id, u] : users_) {
      const tenant::v1::Tenant& t = tenants_.at(u.tenant_id());
      if ((t.id() == tenant_ref || t.slug() == tenant_ref) &&
          (id == user || u.email() == absl::AsciiStrToLower(user))) {
        return u;
      }
    }
    return absl::NotFoundError("user not found");
  }
  absl::StatusOr<std::vector<tenant::v1::Group>> ListGroups(const std::string&) override {
    return std::vector<tenant::v1::Group>{};
  }

 private:
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int get_tenant_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, tenant::v1::Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, tenant::v1::User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> tokens_ ABSL_GUARDED_BY(mu_);  // token -> user id
};

}  // namespace bastion::vault
