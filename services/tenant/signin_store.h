// Storage interface of sign-in (SignInService). Every read and write names the tenant.
// Implementations: PgSignInStore (Postgres) and, for logic tests, testing/fake_signin_store.h.
// Users, groups and the revocation feed stay in TenantStore.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/tenant/signin_types.h"

namespace bastion::tenant {

class SignInStore {
 public:
  virtual ~SignInStore() = default;

  // NotFound when the tenant never set one.
  virtual absl::StatusOr<SignInPolicy> GetPolicy(const std::string& tenant_id) = 0;
  virtual absl::Status PutPolicy(const SignInPolicy& policy) = 0;

  // Drops the tenant's expired clients, then inserts; AlreadyExists when the id is taken.
  virtual absl::Status CreateClient(const OAuthClient& client, absl::Time now) = 0;
  // Inserts or replaces a metadata-document client.
  virtual absl::Status PutClient(const OAuthClient& client) = 0;
  // NotFound when unknown or expired at `now`.
  virtual absl::StatusOr<OAuthClient> GetClient(const std::string& tenant_id,
                                                const std::string& client_id, absl::Time now) = 0;
  // Moves a registration's expiry later (never earlier); metadata documents keep theirs, so the
  // edge refetches them on time.
  virtual absl::Status ExtendClient(const std::string& tenant_id, const std::string& client_id,
                                    absl::Time expires_at) = 0;
  // Registrations (not metadata documents) of the tenant unexpired at `now`, and created since
  // `since`.
  virtual absl::StatusOr<int> CountLiveRegistrations(const std::string& tenant_id, absl::Time now) = 0;
  virtual absl::StatusOr<int> CountRegistrationsSince(const std::string& tenant_id, absl::Time since) = 0;

  // Drops expired pending authorizations and codes, then inserts.
  virtual absl::Status CreatePending(const PendingAuthorization& pending, absl::Time now) = 0;
  // NotFound when unknown (expiry is the caller's to check).
  virtual absl::StatusOr<PendingAuthorization> GetPending(const std::string& id) = 0;
  // Records the signed-in user once: FailedPrecondition when a user is already recorded.
  virtual absl::Status SetPendingUser(const std::string& id, const std::string& user_id,
                                      const std::string& consent_token_hash) = 0;
  // Deletes it if its consent token hash is still `consent_token_hash`; NotFound otherwise
  // (already decided), so each consent is used once.
  virtual absl::Status ConsumePending(const std::string& id, const std::string& consent_token_hash) = 0;

  virtual absl::Status CreateCode(const AuthorizationCode& code) = 0;
  // NotFound when unknown.
  virtual absl::StatusOr<AuthorizationCode> GetCode(const std::string& code_hash) = 0;
  // Counts a redemption atomically; returns how many there have been, this one included.
  virtual absl::StatusOr<int> RedeemCode(const std::string& code_hash) = 0;

  // AlreadyExists when the id is taken (e.g. a code reuse revoked it before it was created).
  virtual absl::Status CreateGrant(const OAuthGrant& grant) = 0;
  virtual absl::StatusOr<OAuthGrant> GetGrant(const std::string& tenant_id, const std::string& id) = 0;
  // Newest first; `user_id` empty: every user.
  virtual absl::StatusOr<std::vector<OAuthGrant>> ListGrants(const std::string& tenant_id,
                                                             const std::string& user_id,
                                                             bool include_revoked) = 0;
  // Sets revoked_at and the reason unless already revoked; returns the row. NotFound when unknown.
  virtual absl::StatusOr<OAuthGrant> RevokeGrant(const std::string& tenant_id, const std::string& id,
                                                 const std::string& reason, absl::Time now) = 0;
  virtual absl::Status TouchGrant(const std::string& id, absl::Time now) = 0;

  virtual absl::Status CreateRefreshToken(const RefreshToken& token) = 0;
  // NotFound when unknown.
  virtual absl::StatusOr<RefreshToken> GetRefreshToken(const std::string& token_hash) = 0;
  // Retires it if it is not yet; false when it already was (someone used it first).
  virtual absl::StatusOr<bool> RetireRefreshToken(const std::string& token_hash, absl::Time now) = 0;
};

}  // namespace bastion::tenant
