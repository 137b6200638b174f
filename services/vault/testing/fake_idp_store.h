// An in-memory IdpStore for logic tests: same contract as PgIdpStore (NotFound, one take per
// sign-in, one current key per tenant), no database.
#pragma once

#include <algorithm>
#include <map>

#include "absl/synchronization/mutex.h"
#include "services/vault/idp_store.h"

namespace bastion::vault {

class FakeIdpStore : public IdpStore {
 public:
  absl::Status UpsertIdpClient(const IdpClient& c) override {
    absl::MutexLock l(&mu_);
    IdpClient next = c;
    auto it = clients_.find(c.tenant_id);
    if (it != clients_.end()) {
      next.created_at = it->second.created_at;
      next.last_tested_at.reset();
    }
    clients_[c.tenant_id] = next;
    return absl::OkStatus();
  }
  absl::StatusOr<IdpClient> GetIdpClient(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    auto it = clients_.find(tenant_id);
    if (it == clients_.end()) return absl::NotFoundError("identity provider client not found");
    return it->second;
  }
  absl::StatusOr<IdpClient> DeleteIdpClient(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    auto it = clients_.find(tenant_id);
    if (it == clients_.end()) return absl::NotFoundError("identity provider client not found");
    IdpClient gone = it->second;
    clients_.erase(it);
    for (auto s = sign_ins_.begin(); s != sign_ins_.end();) {
      s = s->second.tenant_id == tenant_id ? sign_ins_.erase(s) : std::next(s);
    }
    return gone;
  }
  absl::Status SetIdpClientTested(const std::string& tenant_id, absl::Time at) override {
    absl::MutexLock l(&mu_);
    auto it = clients_.find(tenant_id);
    if (it == clients_.end()) return absl::NotFoundError("identity provider client not found");
    it->second.last_tested_at = at;
    return absl::OkStatus();
  }

  absl::Status InsertIdpSignIn(const IdpSignIn& s) override {
    absl::MutexLock l(&mu_);
    if (!sign_ins_.emplace(s.state_hash, s).second) return absl::AlreadyExistsError("state taken");
    return absl::OkStatus();
  }
  absl::StatusOr<IdpSignIn> TakeIdpSignIn(const std::string& state_hash) override {
    absl::MutexLock l(&mu_);
    auto it = sign_ins_.find(state_hash);
    if (it == sign_ins_.end()) return absl::NotFoundError("sign-in not found");
    IdpSignIn out = it->second;
    sign_ins_.erase(it);
    return out;
  }
  absl::StatusOr<int> DeleteExpiredIdpSignIns(absl::Time now) override {
    absl::MutexLock l(&mu_);
    int n = 0;
    for (auto it = sign_ins_.begin(); it != sign_ins_.end();) {
      if (it->second.expires_at < now) {
        it = sign_ins_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  absl::StatusOr<std::vector<TokenKey>> ListTokenKeys(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    std::vector<TokenKey> out;
    for (const TokenKey& k : keys_) {
      if (k.tenant_id == tenant_id) out.push_back(k);
    }
    std::sort(out.begin(), out.end(), [](const TokenKey& a, const TokenKey& b) {
      if (a.retired_at.has_value() != b.retired_at.has_value()) return !a.retired_at.has_value();
      return a.created_at > b.created_at;
    });
    return out;
  }
  absl::Status InsertTokenKeyIfNoCurrent(const TokenKey& key) override {
    absl::MutexLock l(&mu_);
    for (const TokenKey& k : keys_) {
      if (k.tenant_id == key.tenant_id && !k.retired_at.has_value()) return absl::OkStatus();
    }
    keys_.push_back(key);
    return absl::OkStatus();
  }
  absl::Status RotateTokenKey(const TokenKey& key, absl::Time forget_retired_before) override {
    absl::MutexLock l(&mu_);
    for (TokenKey& k : keys_) {
      if (k.tenant_id == key.tenant_id && !k.retired_at.has_value()) k.retired_at = key.created_at;
    }
    keys_.erase(std::remove_if(keys_.begin(), keys_.end(),
                               [&](const TokenKey& k) {
                                 return k.tenant_id == key.tenant_id && k.retired_at.has_value() &&
                                        *k.retired_at < forget_retired_before;
                               }),
                keys_.end());
    TokenKey current = key;
    current.retired_at.reset();
    keys_.push_back(current);
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, IdpClient> clients_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, IdpSignIn> sign_ins_ ABSL_GUARDED_BY(mu_);
  std::vector<TokenKey> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
