// Storage interface of the vault. Every tenant-owned read and write names the tenant; secret
// fields go in and come out sealed. Implementations: PgVaultStore (Postgres) and, for logic
// tests, testing/fake_vault_store.h.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/vault/vault_types.h"

namespace bastion::vault {

class VaultStore {
 public:
  virtual ~VaultStore() = default;

  // NotFound until the tenant's first secret is stored.
  virtual absl::StatusOr<WrappedDataKey> GetDataKey(const std::string& tenant_id) = 0;
  // Inserts unless the tenant already has a data key (another replica won the race): OK either
  // way; read it back with GetDataKey.
  virtual absl::Status InsertDataKeyIfAbsent(const WrappedDataKey& key) = 0;
  // Every tenant's data key, ordered by tenant.
  virtual absl::StatusOr<std::vector<WrappedDataKey>> ListDataKeys() = 0;
  // In one transaction with the tenant's data key locked: `rewrap` gets the stored key and
  // returns its replacement, or nullopt to leave it as it is. True when it was replaced.
  // `rewrap` must not call the store.
  using Rewrap =
      std::function<absl::StatusOr<std::optional<WrappedDataKey>>(const WrappedDataKey& current)>;
  virtual absl::StatusOr<bool> RewrapDataKey(const std::string& tenant_id, const Rewrap& rewrap) = 0;

  // AlreadyExists when the tenant has a credential for the server.
  virtual absl::Status InsertCredential(const Credential& credential) = 0;
  virtual absl::StatusOr<Credential> GetCredential(const std::string& tenant_id,
                                                   const std::string& server) = 0;
  virtual absl::StatusOr<Credential> GetCredentialById(const std::string& tenant_id,
                                                       const std::string& id) = 0;
  // Writes every mutable field of `credential` with version `expected_version + 1`, if the
  // stored version is still `expected_version` (Aborted otherwise). With `drop_grants`, deletes
  // the credential's user grants and pending authorizations in the same transaction.
  virtual absl::StatusOr<Credential> UpdateCredential(const Credential& credential,
                                                      int64_t expected_version,
                                                      bool drop_grants) = 0;
  // Deletes the credential with its grants and pending authorizations; returns how many grants
  // went. NotFound when there is none.
  virtual absl::StatusOr<int> DeleteCredential(const std::string& tenant_id,
                                               const std::string& credential_id) = 0;

  // Creates or wholly replaces (id included) the grant of (credential, user).
  virtual absl::Status UpsertGrant(const UserGrant& grant) = 0;
  // `user` is a user id or email. NotFound when the user has no grant.
  virtual absl::StatusOr<UserGrant> GetGrant(const std::string& tenant_id,
                                             const std::string& credential_id,
                                             const std::string& user) = 0;
  // The tenant's grants, optionally only one credential's and/or one user's ("" = all).
  virtual absl::StatusOr<std::vector<UserGrant>> ListGrants(const std::string& tenant_id,
                                                            const std::string& credential_id,
                                                            const std::string& user_id) = 0;
  virtual absl::StatusOr<UserGrant> DeleteGrant(const std::string& tenant_id,
                                                const std::string& credential_id,
                                                const std::string& user_id) = 0;
  // In one transaction with the grant's row locked (so replicas take turns): `update` gets the
  // grant as stored and returns what to write (its version becomes the stored one + 1), or
  // nullopt to leave it. Returns the grant as it is afterwards; NotFound when it is gone.
  // `update` may call out (the token endpoint) but must not call the store's grant methods.
  using GrantUpdate =
      std::function<absl::StatusOr<std::optional<UserGrant>>(const UserGrant& current)>;
  virtual absl::StatusOr<UserGrant> UpdateGrantLocked(const std::string& tenant_id,
                                                      const std::string& grant_id,
                                                      const GrantUpdate& update) = 0;

  virtual absl::Status InsertAuthorizationState(const AuthorizationState& state) = 0;
  // Deletes and returns the state: each one is taken at most once. NotFound when unknown or
  // already taken.
  virtual absl::StatusOr<AuthorizationState> TakeAuthorizationState(const std::string& state_hash) = 0;
  // Deletes states that expired before `now`; returns how many.
  virtual absl::StatusOr<int> DeleteExpiredAuthorizationStates(absl::Time now) = 0;

  // In one transaction: every credential of the tenant with its grants and authorization
  // states, then its data key. Returns how many credentials went and whether a data key did.
  virtual absl::StatusOr<std::pair<int, bool>> DeleteTenantSecrets(const std::string& tenant_id) = 0;
};

}  // namespace bastion::vault
