// An in-memory SignInStore for logic tests: same contract as PgSignInStore (NotFound,
// AlreadyExists, tenant scoping, one-use consumption), no database.
#pragma once

#include <algorithm>
#include <map>

#include "absl/synchronization/mutex.h"
#include "services/tenant/signin_store.h"

namespace bastion::tenant {

class FakeSignInStore : public SignInStore {
 public:
  absl::StatusOr<SignInPolicy> GetPolicy(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    auto it = policies_.find(tenant_id);
    if (it == policies_.end()) return absl::NotFoundError("no policy");
    return it->second;
  }
  absl::Status PutPolicy(const SignInPolicy& p) override {
    absl::MutexLock l(&mu_);
    policies_[p.tenant_id] = p;
    return absl::OkStatus();
  }

  absl::Status CreateClient(const OAuthClient& c, absl::Time now) override {
    absl::MutexLock l(&mu_);
    for (auto it = clients_.begin(); it != clients_.end();) {
      it = it->second.tenant_id == c.tenant_id && it->second.expires_at < now ? clients_.erase(it) : std::next(it);
    }
    if (!clients_.emplace(Key(c.tenant_id, c.client_id), c).second) return absl::AlreadyExistsError("client id taken");
    return absl::OkStatus();
  }
  absl::Status PutClient(const OAuthClient& c) override {
    absl::MutexLock l(&mu_);
    clients_[Key(c.tenant_id, c.client_id)] = c;
    return absl::OkStatus();
  }
  absl::StatusOr<OAuthClient> GetClient(const std::string& tenant_id, const std::string& client_id,
                                        absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = clients_.find(Key(tenant_id, client_id));
    if (it == clients_.end() || it->second.expires_at <= now) return absl::NotFoundError("no client");
    return it->second;
  }
  absl::Status ExtendClient(const std::string& tenant_id, const std::string& client_id,
                            absl::Time expires_at) override {
    absl::MutexLock l(&mu_);
    auto it = clients_.find(Key(tenant_id, client_id));
    if (it != clients_.end() && it->second.kind == OAuthClientKind::kRegistration) {
      it->second.expires_at = std::max(it->second.expires_at, expires_at);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int> CountLiveRegistrations(const std::string& tenant_id, absl::Time now) override {
    absl::MutexLock l(&mu_);
    return static_cast<int>(std::count_if(clients_.begin(), clients_.end(), [&](auto& e) {
      return e.second.tenant_id == tenant_id && e.second.kind == OAuthClientKind::kRegistration &&
             e.second.expires_at > now;
    }));
  }
  absl::StatusOr<int> CountRegistrationsSince(const std::string& tenant_id, absl::Time since) override {
    absl::MutexLock l(&mu_);
    return static_cast<int>(std::count_if(clients_.begin(), clients_.end(), [&](auto& e) {
      return e.second.tenant_id == tenant_id && e.second.kind == OAuthClientKind::kRegistration &&
             e.second.created_at > since;
    }));
  }

  absl::Status CreatePending(const PendingAuthorization& p, absl::Time now) override {
    absl::MutexLock l(&mu_);
    pending_[p.id] = p;
    return absl::OkStatus();
  }
  absl::StatusOr<PendingAuthorization> GetPending(const std::string& id) override {
    absl::MutexLock l(&mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return absl::NotFoundError("no pending authorization");
    return it->second;
  }
  absl::Status SetPendingUser(const std::string& id, const std::string& user_id,
                              const std::string& consent_token_hash) override {
    absl::MutexLock l(&mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return absl::NotFoundError("no pending authorization");
    if (!it->second.user_id.empty()) return absl::FailedPreconditionError("already signed in");
    it->second.user_id = user_id;
    it->second.consent_token_hash = consent_token_hash;
    return absl::OkStatus();
  }
  absl::Status ConsumePending(const std::string& id, const std::string& consent_token_hash) override {
    absl::MutexLock l(&mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.consent_token_hash != consent_token_hash) {
      return absl::NotFoundError("no pending authorization");
    }
    pending_.erase(it);
    return absl::OkStatus();
  }

  absl::Status CreateCode(const AuthorizationCode& c) override {
    absl::MutexLock l(&mu_);
    codes_[c.code_hash] = c;
    return absl::OkStatus();
  }
  absl::StatusOr<AuthorizationCode> GetCode(const std::string& code_hash) override {
    absl::MutexLock l(&mu_);
    auto it = codes_.find(code_hash);
    if (it == codes_.end()) return absl::NotFoundError("no code");
    return it->second;
  }
  absl::StatusOr<int> RedeemCode(const std::string& code_hash) override {
    absl::MutexLock l(&mu_);
    auto it = codes_.find(code_hash);
    if (it == codes_.end()) return absl::NotFoundError("no code");
    return ++it->second.redemptions;
  }

  absl::Status CreateGrant(const OAuthGrant& g) override {
    absl::MutexLock l(&mu_);
    if (!grants_.emplace(g.id, g).second) return absl::AlreadyExistsError("grant id taken");
    return absl::OkStatus();
  }
  absl::StatusOr<OAuthGrant> GetGrant(const std::string& tenant_id, const std::string& id) override {
    absl::MutexLock l(&mu_);
    auto it = grants_.find(id);
    if (it == grants_.end() || it->second.tenant_id != tenant_id) return absl::NotFoundError("no grant");
    return it->second;
  }
  absl::StatusOr<std::vector<OAuthGrant>> ListGrants(const std::string& tenant_id, const std::string& user_id,
                                                     bool include_revoked) override {
    absl::MutexLock l(&mu_);
    std::vector<OAuthGrant> out;
    for (auto& [id, g] : grants_) {
      if (g.tenant_id == tenant_id && (user_id.empty() || g.user_id == user_id) &&
          (include_revoked || !g.revoked_at.has_value())) {
        out.push_back(g);
      }
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created_at > b.created_at; });
    return out;
  }
  absl::StatusOr<OAuthGrant> RevokeGrant(const std::string& tenant_id, const std::string& id,
                                         const std::string& reason, absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = grants_.find(id);
    if (it == grants_.end() || it->second.tenant_id != tenant_id) return absl::NotFoundError("no grant");
    if (!it->second.revoked_at.has_value()) {
      it->second.revoked_at = now;
      it->second.revoked_reason = reason;
    }
    return it->second;
  }
  absl::Status TouchGrant(const std::string& id, absl::Time now) override {
    absl::MutexLock l(&mu_);
    if (auto it = grants_.find(id); it != grants_.end()) it->second.last_used_at = now;
    return absl::OkStatus();
  }

  absl::Status CreateRefreshToken(const RefreshToken& t) override {
    absl::MutexLock l(&mu_);
    refresh_[t.token_hash] = t;
    return absl::OkStatus();
  }
  absl::StatusOr<RefreshToken> GetRefreshToken(const std::string& token_hash) override {
    absl::MutexLock l(&mu_);
    auto it = refresh_.find(token_hash);
    if (it == refresh_.end()) return absl::NotFoundError("no refresh token");
    return it->second;
  }
  absl::StatusOr<bool> RetireRefreshToken(const std::string& token_hash, absl::Time now) override {
    absl::MutexLock l(&mu_);
    auto it = refresh_.find(token_hash);
    if (it == refresh_.end() || it->second.retired_at.has_value()) return false;
    it->second.retired_at = now;
    return true;
  }

  // What tests inspect: every stored secret is a hash.
  std::vector<std::string> StoredRefreshHashes() {
    absl::MutexLock l(&mu_);
    std::vector<std::string> out;
    for (auto& [h, t] : refresh_) out.push_back(h);
    return out;
  }

 private:
  static std::pair<std::string, std::string> Key(const std::string& t, const std::string& c) { return {t, c}; }

  absl::Mutex mu_;
  std::map<std::string, SignInPolicy> policies_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, OAuthClient> clients_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PendingAuthorization> pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AuthorizationCode> codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, OAuthGrant> grants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RefreshToken> refresh_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::tenant
