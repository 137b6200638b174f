// VaultStore on Postgres (schema `vault`). Every statement is a named constant; secrets arrive
// and leave as bytea ciphertext.
#pragma once

#include "common/pg/pool.h"
#include "services/vault/vault_store.h"

namespace bastion::vault {

class PgVaultStore : public VaultStore {
 public:
  explicit PgVaultStore(pg::Pool& pool, absl::Duration timeout = absl::Seconds(5))
      : pool_(pool), timeout_(timeout) {}

  absl::StatusOr<WrappedDataKey> GetDataKey(const std::string& tenant_id) override;
  absl::Status InsertDataKeyIfAbsent(const WrappedDataKey& key) override;
  absl::StatusOr<std::vector<WrappedDataKey>> ListDataKeys() override;
  absl::StatusOr<bool> RewrapDataKey(const std::string& tenant_id, const Rewrap& rewrap) override;

  absl::Status InsertCredential(const Credential& credential) override;
  absl::StatusOr<Credential> GetCredential(const std::string& tenant_id,
                                           const std::string& server) override;
  absl::StatusOr<Credential> GetCredentialById(const std::string& tenant_id,
                                               const std::string& id) override;
  absl::StatusOr<Credential> UpdateCredential(const Credential& credential, int64_t expected_version,
                                              bool drop_grants) override;
  absl::StatusOr<int> DeleteCredential(const std::string& tenant_id,
                                       const std::string& credential_id) override;

  absl::Status UpsertGrant(const UserGrant& grant) override;
  absl::StatusOr<UserGrant> GetGrant(const std::string& tenant_id, const std::string& credential_id,
                                     const std::string& user) override;
  absl::StatusOr<std::vector<UserGrant>> ListGrants(const std::string& tenant_id,
                                                    const std::string& credential_id,
                                                    const std::string& user_id) override;
  absl::StatusOr<UserGrant> DeleteGrant(const std::string& tenant_id,
                                        const std::string& credential_id,
                                        const std::string& user_id) override;
  absl::StatusOr<UserGrant> UpdateGrantLocked(const std::string& tenant_id,
                                              const std::string& grant_id,
                                              const GrantUpdate& update) override;

  absl::Status InsertAuthorizationState(const AuthorizationState& state) override;
  absl::StatusOr<AuthorizationState> TakeAuthorizationState(const std::string& state_hash) override;
  absl::StatusOr<int> DeleteExpiredAuthorizationStates(absl::Time now) override;
  absl::StatusOr<std::pair<int, bool>> DeleteTenantSecrets(const std::string& tenant_id) override;

 private:
  absl::StatusOr<pg::Result> Run(const pg::Statement& stmt, const pg::Params& params);

  pg::Pool& pool_;
  absl::Duration timeout_;
};

// Database names of the enums, shared with tests.
const char* AuthModeName(AuthMode m);
const char* AccessName(Access a);
const char* FlavorName(OAuthFlavor f);
const char* RegionName(Region r);
const char* GrantStatusName(GrantStatus s);

}  // namespace bastion::vault
