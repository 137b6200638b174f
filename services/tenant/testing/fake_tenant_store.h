// An in-memory TenantStore for logic tests: same contract as PgTenantStore (NotFound,
// AlreadyExists, tenant scoping), no database.
#pragma once

#include <algorithm>
#include <map>
#include <set>

#include "absl/synchronization/mutex.h"
#include "services/tenant/tenant_store.h"

namespace bastion::tenant {

class FakeTenantStore : public TenantStore {
 public:
  FakeTenantStore() { catalog_["pagerduty"] = {"pagerduty", "PagerDuty", "PagerDuty REST API", false}; }

  absl::Status CreateTenant(const Tenant& t) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, x] : tenants_) {
      if (x.slug == t.slug) return absl::AlreadyExistsError("slug taken");
    }
    tenants_[t.id] = t;
    return absl::OkStatus();
  }
  absl::StatusOr<Tenant> GetTenantById(const std::string& id) override {
    absl::MutexLock l(&mu_);
    auto it = tenants_.find(id);
    if (it == tenants_.end()) return absl::NotFoundError("tenant not found");
    return it->second;
  }
  absl::StatusOr<Tenant> GetTenantBySlug(const std::string& slug) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, t] : tenants_) {
      if (t.slug == slug) return t;
    }
    return absl::NotFoundError("tenant not found");
  }
  absl::StatusOr<std::vector<Tenant>> ListTenants(const std::string& after, int limit) override {
    absl::MutexLock l(&mu_);
    std::vector<Tenant> out;
    for (auto& [id, t] : tenants_) {
      if (t.slug > after) out.push_back(t);
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.slug < b.slug; });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }
  absl::Status DeleteTenant(const std::string& id) override {
    absl::MutexLock l(&mu_);
    if (tenants_.erase(id) == 0) return absl::NotFoundError("tenant not found");
    for (auto it = users_.begin(); it != users_.end();) {
      it = it->second.tenant_id == id ? users_.erase(it) : std::next(it);
    }
    for (auto it = groups_.begin(); it != groups_.end();) {
      it = it->second.tenant_id == id ? groups_.erase(it) : std::next(it);
    }
    for (auto it = tokens_.begin(); it != tokens_.end();) {
      it = it->second.first.tenant_id == id ? tokens_.erase(it) : std::next(it);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Tenant> UpdateTenant(const Tenant& t, absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = tenants_.find(t.id);
    if (it == tenants_.end()) return absl::NotFoundError("tenant not found");
    const int64_t version = it->second.version + 1;
    it->second = t;
    it->second.version = version;
    it->second.updated_at = now;
    return it->second;
  }

  absl::StatusOr<std::vector<CatalogEntry>> ListCatalog(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    std::vector<CatalogEntry> out;
    for (auto& [key, e] : catalog_) {
      CatalogEntry c = e;
      c.enabled = enabled_.count({tenant_id, key}) > 0;
      out.push_back(c);
    }
    return out;
  }
  absl::Status SetCatalogEnabled(const std::string& tenant_id, const std::string& key,
                                 bool enabled) override {
    absl::MutexLock l(&mu_);
    if (!catalog_.count(key)) return absl::NotFoundError("no such entry");
    if (enabled) {
      enabled_.insert({tenant_id, key});
    } else {
      enabled_.erase({tenant_id, key});
    }
    return absl::OkStatus();
  }

  absl::Status CreateUser(const User& u) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, x] : users_) {
      if (x.tenant_id == u.tenant_id && x.email == u.email) return absl::AlreadyExistsError("taken");
    }
    users_[u.id] = u;
    return absl::OkStatus();
  }
  absl::StatusOr<User> GetUserById(const std::string& tenant_id, const std::string& id) override {
    absl::MutexLock l(&mu_);
    auto it = users_.find(id);
    if (it == users_.end() || it->second.tenant_id != tenant_id) return absl::NotFoundError("no user");
    return WithGroups(it->second);
  }
  absl::StatusOr<User> GetUserByEmail(const std::string& tenant_id, const std::string& email) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, u] : users_) {
      if (u.tenant_id == tenant_id && u.email == email) return WithGroups(u);
    }
    return absl::NotFoundError("no user");
  }
  absl::StatusOr<std::vector<User>> ListUsers(const std::string& tenant_id, const std::string& after,
                                              int limit) override {
    absl::MutexLock l(&mu_);
    std::vector<User> out;
    for (auto& [id, u] : users_) {
      if (u.tenant_id == tenant_id && u.email > after) out.push_back(WithGroups(u));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.email < b.email; });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }
  absl::Status SetUserDisabled(const std::string& tenant_id, const std::string& user_id,
                               bool disabled) override {
    absl::MutexLock l(&mu_);
    auto it = users_.find(user_id);
    if (it == users_.end() || it->second.tenant_id != tenant_id) return absl::NotFoundError("no user");
    it->second.disabled = disabled;
    return absl::OkStatus();
  }

  absl::Status CreateGroup(const Group& g) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, x] : groups_) {
      if (x.tenant_id == g.tenant_id && x.name == g.name) return absl::AlreadyExistsError("taken");
    }
    groups_[g.id] = g;
    return absl::OkStatus();
  }
  absl::StatusOr<Group> GetGroupById(const std::string& tenant_id, const std::string& id) override {
    absl::MutexLock l(&mu_);
    auto it = groups_.find(id);
    if (it == groups_.end() || it->second.tenant_id != tenant_id) return absl::NotFoundError("no group");
    return it->second;
  }
  absl::StatusOr<Group> GetGroupByName(const std::string& tenant_id, const std::string& name) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, g] : groups_) {
      if (g.tenant_id == tenant_id && g.name == name) return g;
    }
    return absl::NotFoundError("no group");
  }
  absl::StatusOr<std::vector<Group>> ListGroups(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    std::vector<Group> out;
    for (auto& [id, g] : groups_) {
      if (g.tenant_id == tenant_id) out.push_back(g);
    }
    return out;
  }
  absl::Status AddGroupMember(const std::string& tenant_id, const std::string& group_id,
                              const std::string& user_id) override {
    absl::MutexLock l(&mu_);
    auto& members = groups_.at(group_id).member_user_ids;
    if (std::find(members.begin(), members.end(), user_id) == members.end()) members.push_back(user_id);
    return absl::OkStatus();
  }
  absl::Status RemoveGroupMember(const std::string& tenant_id, const std::string& group_id,
                                 const std::string& user_id) override {
    absl::MutexLock l(&mu_);
    auto& members = groups_.at(group_id).member_user_ids;
    members.erase(std::remove(members.begin(), members.end(), user_id), members.end());
    return absl::OkStatus();
  }

  absl::Status CreateToken(const ClientToken& t, const std::string& hash) override {
    absl::MutexLock l(&mu_);
    tokens_[t.id] = {t, hash};
    return absl::OkStatus();
  }
  absl::StatusOr<TokenLookup> FindTokenByHash(const std::string& hash) override {
    absl::MutexLock l(&mu_);
    ++token_lookups;
    for (auto& [id, entry] : tokens_) {
      if (entry.second == hash) {
        return TokenLookup{entry.first, hash, WithGroups(users_.at(entry.first.user_id)),
                           tenants_.at(entry.first.tenant_id)};
      }
    }
    return absl::NotFoundError("no token");
  }
  absl::StatusOr<std::vector<ClientToken>> ListTokens(const std::string& tenant_id,
                                                      const std::string& user_id) override {
    absl::MutexLock l(&mu_);
    std::vector<ClientToken> out;
    for (auto& [id, entry] : tokens_) {
      if (entry.first.tenant_id == tenant_id && (user_id.empty() || entry.first.user_id == user_id)) {
        out.push_back(entry.first);
      }
    }
    return out;
  }
  absl::StatusOr<ClientToken> RevokeToken(const std::string& tenant_id, const std::string& token_id,
                                          absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = tokens_.find(token_id);
    if (it == tokens_.end() || it->second.first.tenant_id != tenant_id) {
      return absl::NotFoundError("no token");
    }
    if (!it->second.first.revoked_at) it->second.first.revoked_at = now;
    return it->second.first;
  }
  absl::Status TouchTokens(const absl::flat_hash_map<std::string, absl::Time>& used) override {
    absl::MutexLock l(&mu_);
    ++touch_batches;
    for (auto& [id, at] : used) {
      auto it = tokens_.find(id);
      if (it != tokens_.end()) it->second.first.last_used_at = at;
    }
    return absl::OkStatus();
  }

  absl::Status EndSession(const std::string& hash, absl::Time expires_at, absl::Time now) override {
    absl::MutexLock l(&mu_);
    for (auto& e : ended_) {
      if (e.session_hash == hash) return absl::OkStatus();
    }
    ended_.push_back({static_cast<int64_t>(ended_.size()) + 1, hash, expires_at});
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(int64_t after, int limit, absl::Time now) override {
    absl::MutexLock l(&mu_);
    std::vector<EndedSession> out;
    for (auto& e : ended_) {
      if (e.seq > after && e.expires_at >= now && static_cast<int>(out.size()) < limit) out.push_back(e);
    }
    return out;
  }

  absl::Status AddRevocation(const Revocation& r, absl::Time now) override {
    absl::MutexLock l(&mu_);
    Revocation added = r;
    added.seq = static_cast<int64_t>(revocations_.size()) + 1;
    added.revoked_at = now;
    revocations_.push_back(added);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Revocation>> ListRevocations(int64_t after, int limit, absl::Time now) override {
    absl::MutexLock l(&mu_);
    std::vector<Revocation> out;
    for (auto& r : revocations_) {
      if (r.seq > after && r.expires_at >= now && static_cast<int>(out.size()) < limit) out.push_back(r);
    }
    return out;
  }

  int token_lookups = 0;
  int touch_batches = 0;

 private:
  User WithGroups(User u) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    u.group_ids.clear();
    for (auto& [id, g] : groups_) {
      if (std::find(g.member_user_ids.begin(), g.member_user_ids.end(), u.id) != g.member_user_ids.end()) {
        u.group_ids.push_back(id);
      }
    }
    return u;
  }

  absl::Mutex mu_;
  std::map<std::string, Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CatalogEntry> catalog_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> enabled_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Group> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<ClientToken, std::string>> tokens_ ABSL_GUARDED_BY(mu_);
  std::vector<EndedSession> ended_ ABSL_GUARDED_BY(mu_);
  std::vector<Revocation> revocations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::tenant
