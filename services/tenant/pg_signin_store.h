// SignInStore on Postgres (schema `tenant`, migration 0003_signin.sql). Every statement is a
// named constant; one-use steps (consent, code redemption, refresh rotation) are single
// conditional statements, so concurrent callers cannot both win.
#pragma once

#include "common/pg/pool.h"
#include "services/tenant/signin_store.h"

namespace bastion::tenant {

class PgSignInStore : public SignInStore {
 public:
  explicit PgSignInStore(pg::Pool& pool, absl::Duration timeout = absl::Seconds(5))
      : pool_(pool), timeout_(timeout) {}

  absl::StatusOr<SignInPolicy> GetPolicy(const std::string& tenant_id) override;
  absl::Status PutPolicy(const SignInPolicy& policy) override;

  absl::Status CreateClient(const OAuthClient& client, absl::Time now) override;
  absl::Status PutClient(const OAuthClient& client) override;
  absl::StatusOr<OAuthClient> GetClient(const std::string& tenant_id, const std::string& client_id,
                                        absl::Time now) override;
  absl::Status ExtendClient(const std::string& tenant_id, const std::string& client_id,
                            absl::Time expires_at) override;
  absl::StatusOr<int> CountLiveRegistrations(const std::string& tenant_id, absl::Time now) override;
  absl::StatusOr<int> CountRegistrationsSince(const std::string& tenant_id, absl::Time since) override;

  absl::Status CreatePending(const PendingAuthorization& pending, absl::Time now) override;
  absl::StatusOr<PendingAuthorization> GetPending(const std::string& id) override;
  absl::Status SetPendingUser(const std::string& id, const std::string& user_id,
                              const std::string& consent_token_hash) override;
  absl::Status ConsumePending(const std::string& id, const std::string& consent_token_hash) override;

  absl::Status CreateCode(const AuthorizationCode& code) override;
  absl::StatusOr<AuthorizationCode> GetCode(const std::string& code_hash) override;
  absl::StatusOr<int> RedeemCode(const std::string& code_hash) override;

  absl::Status CreateGrant(const OAuthGrant& grant) override;
  absl::StatusOr<OAuthGrant> GetGrant(const std::string& tenant_id, const std::string& id) override;
  absl::StatusOr<std::vector<OAuthGrant>> ListGrants(const std::string& tenant_id, const std::string& user_id,
                                                     bool include_revoked) override;
  absl::StatusOr<OAuthGrant> RevokeGrant(const std::string& tenant_id, const std::string& id,
                                         const std::string& reason, absl::Time now) override;
  absl::Status TouchGrant(const std::string& id, absl::Time now) override;

  absl::Status CreateRefreshToken(const RefreshToken& token) override;
  absl::StatusOr<RefreshToken> GetRefreshToken(const std::string& token_hash) override;
  absl::StatusOr<bool> RetireRefreshToken(const std::string& token_hash, absl::Time now) override;

 private:
  absl::StatusOr<pg::Result> Run(const pg::Statement& stmt, const pg::Params& params);

  pg::Pool& pool_;
  absl::Duration timeout_;
};

}  // namespace bastion::tenant
