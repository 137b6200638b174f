// An in-memory VaultStore for logic tests: same contract as PgVaultStore (NotFound,
// AlreadyExists, Aborted on a stale version, tenant scoping, one locked update of a grant at a
// time), no database.
#pragma once

#include <map>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "services/vault/vault_store.h"

namespace bastion::vault {

class FakeVaultStore : public VaultStore {
 public:
  absl::StatusOr<WrappedDataKey> GetDataKey(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    auto it = data_keys_.find(tenant_id);
    if (it == data_keys_.end()) return absl::NotFoundError("data key not found");
    return it->second;
  }
  absl::Status InsertDataKeyIfAbsent(const WrappedDataKey& key) override {
    absl::MutexLock l(&mu_);
    data_keys_.emplace(key.tenant_id, key);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<WrappedDataKey>> ListDataKeys() override {
    absl::MutexLock l(&mu_);
    std::vector<WrappedDataKey> out;
    for (auto& [id, k] : data_keys_) out.push_back(k);
    return out;
  }
  absl::StatusOr<bool> RewrapDataKey(const std::string& tenant_id, const Rewrap& rewrap) override {
    absl::MutexLock l(&mu_);
    auto it = data_keys_.find(tenant_id);
    if (it == data_keys_.end()) return absl::NotFoundError("data key not found");
    auto next = rewrap(it->second);
    if (!next.ok()) return next.status();
    if (!next->has_value()) return false;
    it->second = **next;
    return true;
  }

  absl::Status InsertCredential(const Credential& c) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, x] : credentials_) {
      if (x.tenant_id == c.tenant_id && x.server == c.server) return absl::AlreadyExistsError("taken");
    }
    credentials_[c.id] = c;
    return absl::OkStatus();
  }
  absl::StatusOr<Credential> GetCredential(const std::string& tenant_id,
                                           const std::string& server) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, c] : credentials_) {
      if (c.tenant_id == tenant_id && c.server == server) return c;
    }
    return absl::NotFoundError("credential not found");
  }
  absl::StatusOr<Credential> GetCredentialById(const std::string& tenant_id,
                                               const std::string& id) override {
    absl::MutexLock l(&mu_);
    auto it = credentials_.find(id);
    if (it == credentials_.end() || it->second.tenant_id != tenant_id) {
      return absl::NotFoundError("credential not found");
    }
    return it->second;
  }
  absl::StatusOr<Credential> UpdateCredential(const Credential& c, int64_t expected_version,
                                              bool drop_grants) override {
    absl::MutexLock l(&mu_);
    auto it = credentials_.find(c.id);
    if (it == credentials_.end() || it->second.tenant_id != c.tenant_id) {
      return absl::NotFoundError("credential not found");
    }
    if (it->second.version != expected_version) return absl::AbortedError("changed; retry");
    Credential next = c;
    next.created_at = it->second.created_at;
    next.server = it->second.server;
    next.version = expected_version + 1;
    it->second = next;
    if (drop_grants) DropGrantsLocked(c.id);
    return next;
  }
  absl::StatusOr<int> DeleteCredential(const std::string& tenant_id,
                                       const std::string& credential_id) override {
    absl::MutexLock l(&mu_);
    auto it = credentials_.find(credential_id);
    if (it == credentials_.end() || it->second.tenant_id != tenant_id) {
      return absl::NotFoundError("credential not found");
    }
    credentials_.erase(it);
    return DropGrantsLocked(credential_id);
  }

  absl::Status UpsertGrant(const UserGrant& g) override {
    absl::MutexLock l(&mu_);
    for (auto it = grants_.begin(); it != grants_.end(); ++it) {
      if (it->second.credential_id == g.credential_id && it->second.user_id == g.user_id) {
        UserGrant next = g;
        next.version = it->second.version + 1;
        next.created_at = it->second.created_at;
        grants_.erase(it);
        grants_[next.id] = next;
        return absl::OkStatus();
      }
    }
    UserGrant next = g;
    next.version = 1;
    grants_[g.id] = next;
    return absl::OkStatus();
  }
  absl::StatusOr<UserGrant> GetGrant(const std::string& tenant_id, const std::string& credential_id,
                                     const std::string& user) override {
    absl::MutexLock l(&mu_);
    for (auto& [id, g] : grants_) {
      if (g.tenant_id == tenant_id && g.credential_id == credential_id &&
          (g.user_id == user || g.user_email == absl::AsciiStrToLower(user))) {
        return WithServer(g);
      }
    }
    return absl::NotFoundError("grant not found");
  }
  absl::StatusOr<std::vector<UserGrant>> ListGrants(const std::string& tenant_id,
                                                    const std::string& credential_id,
                                                    const std::string& user_id) override {
    absl::MutexLock l(&mu_);
    std::vector<UserGrant> out;
    for (auto& [id, g] : grants_) {
      if (g.tenant_id == tenant_id && (credential_id.empty() || g.credential_id == credential_id) &&
          (user_id.empty() || g.user_id == user_id)) {
        out.push_back(WithServer(g));
      }
    }
    return out;
  }
  absl::StatusOr<UserGrant> DeleteGrant(const std::string& tenant_id,
                                        const std::string& credential_id,
                                        const std::string& user_id) override {
    absl::MutexLock l(&mu_);
    for (auto it = grants_.begin(); it != grants_.end(); ++it) {
      if (it->second.tenant_id == tenant_id && it->second.credential_id == credential_id &&
          it->second.user_id == user_id) {
        UserGrant g = WithServer(it->second);
        grants_.erase(it);
        return g;
      }
    }
    return absl::NotFoundError("grant not found");
  }
  absl::StatusOr<UserGrant> UpdateGrantLocked(const std::string& tenant_id,
                                              const std::string& grant_id,
                                              const GrantUpdate& update) override {
    // Plays the row lock: one update at a time, while the data stays readable.
    absl::MutexLock row(&row_lock_);
    UserGrant current;
    {
      absl::MutexLock l(&mu_);
      auto it = grants_.find(grant_id);
      if (it == grants_.end() || it->second.tenant_id != tenant_id) {
        return absl::NotFoundError("grant not found");
      }
      current = WithServer(it->second);
    }
    auto next = update(current);
    if (!next.ok()) return next.status();
    if (!next->has_value()) return current;
    absl::MutexLock l(&mu_);
    auto it = grants_.find(grant_id);
    if (it == grants_.end()) return absl::NotFoundError("grant not found");
    UserGrant written = **next;
    written.version = it->second.version + 1;
    it->second = written;
    return WithServer(written);
  }

  absl::Status InsertAuthorizationState(const AuthorizationState& s) override {
    absl::MutexLock l(&mu_);
    states_[s.state_hash] = s;
    return absl::OkStatus();
  }
  absl::StatusOr<AuthorizationState> TakeAuthorizationState(const std::string& state_hash) override {
    absl::MutexLock l(&mu_);
    auto it = states_.find(state_hash);
    if (it == states_.end()) return absl::NotFoundError("authorization state not found");
    AuthorizationState s = it->second;
    states_.erase(it);
    return s;
  }
  absl::StatusOr<int> DeleteExpiredAuthorizationStates(absl::Time now) override {
    absl::MutexLock l(&mu_);
    int n = 0;
    for (auto it = states_.begin(); it != states_.end();) {
      if (it->second.expires_at < now) {
        it = states_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  // For tests that tamper with storage, as someone with database access could.
  void MutateGrant(const std::string& grant_id, const std::function<void(UserGrant&)>& f) {
    absl::MutexLock l(&mu_);
    f(grants_.at(grant_id));
  }
  void MutateCredential(const std::string& id, const std::function<void(Credential&)>& f) {
    absl::MutexLock l(&mu_);
    f(credentials_.at(id));
  }
  int state_count() {
    absl::MutexLock l(&mu_);
    return static_cast<int>(states_.size());
  }

 private:
  UserGrant WithServer(UserGrant g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = credentials_.find(g.credential_id);
    if (it != credentials_.end()) g.server = it->second.server;
    return g;
  }
  absl::StatusOr<std::pair<int, bool>> DeleteTenantSecrets(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    int n = 0;
    for (auto it = credentials_.begin(); it != credentials_.end();) {
      if (it->second.tenant_id == tenant_id) {
        DropGrantsLocked(it->first);
        it = credentials_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    for (auto it = states_.begin(); it != states_.end();) {
      it = it->second.tenant_id == tenant_id ? states_.erase(it) : std::next(it);
    }
    return std::make_pair(n, data_keys_.erase(tenant_id) > 0);
  }

  int DropGrantsLocked(const std::string& credential_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int n = 0;
    for (auto it = grants_.begin(); it != grants_.end();) {
      if (it->second.credential_id == credential_id) {
        it = grants_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    for (auto it = states_.begin(); it != states_.end();) {
      it = it->second.credential_id == credential_id ? states_.erase(it) : std::next(it);
    }
    return n;
  }

  absl::Mutex row_lock_;
  absl::Mutex mu_;
  std::map<std::string, WrappedDataKey> data_keys_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Credential> credentials_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, UserGrant> grants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AuthorizationState> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
