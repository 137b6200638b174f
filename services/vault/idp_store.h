// Storage of the vault's sign-in side (docs/signin.md): each tenant's identity-provider client,
// pending sign-ins and token-signing keys. Secret fields go in and come out sealed.
// Implementations: PgIdpStore (Postgres) and, for logic tests, testing/fake_idp_store.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bastion::vault {

// A tenant's OpenID Connect client at its identity provider.
struct IdpClient {
  std::string tenant_id;
  std::string issuer;
  std::string client_id;
  std::string client_secret_sealed;  // empty for a public client
  std::string client_secret_hint;
  bool has_client_secret = false;  // set on replies, which carry no sealed secret
  std::vector<std::string> scopes;
  absl::Time created_at;
  absl::Time updated_at;
  std::optional<absl::Time> last_tested_at;
};

// A sign-in sent to the identity provider, keyed by the SHA-256 of its `state`; the client it
// started with is recorded so a sign-in started before the client changed cannot complete.
struct IdpSignIn {
  std::string state_hash;
  std::string tenant_id;
  std::string issuer;
  std::string client_id;
  std::string redirect_uri;
  std::string context;
  std::string code_verifier_sealed;
  std::string nonce_sealed;
  absl::Time created_at;
  absl::Time expires_at;
};

// One of a tenant's ES256 access-token signing keys. The current key is the one not retired.
struct TokenKey {
  std::string tenant_id;
  std::string kid;
  std::string private_key_sealed;  // PKCS#8 PEM, sealed
  std::string public_jwk;          // JSON, public members only
  absl::Time created_at;
  std::optional<absl::Time> retired_at;
};

class IdpStore {
 public:
  virtual ~IdpStore() = default;

  // Creates or replaces the tenant's client (created_at kept, last_tested_at cleared on replace).
  virtual absl::Status UpsertIdpClient(const IdpClient& client) = 0;
  // NotFound when the tenant has none.
  virtual absl::StatusOr<IdpClient> GetIdpClient(const std::string& tenant_id) = 0;
  // Deletes the client with its pending sign-ins; NotFound when there is none.
  virtual absl::StatusOr<IdpClient> DeleteIdpClient(const std::string& tenant_id) = 0;
  virtual absl::Status SetIdpClientTested(const std::string& tenant_id, absl::Time at) = 0;

  virtual absl::Status InsertIdpSignIn(const IdpSignIn& sign_in) = 0;
  // Deletes and returns the sign-in: each is taken at most once. NotFound when unknown or taken.
  virtual absl::StatusOr<IdpSignIn> TakeIdpSignIn(const std::string& state_hash) = 0;
  // Deletes sign-ins that expired before `now`; returns how many.
  virtual absl::StatusOr<int> DeleteExpiredIdpSignIns(absl::Time now) = 0;

  // The tenant's keys, current first, then retired ones newest first.
  virtual absl::StatusOr<std::vector<TokenKey>> ListTokenKeys(const std::string& tenant_id) = 0;
  // Inserts `key` as the current key only if the tenant has none (another replica may have won
  // the race): OK either way; read the current key back with ListTokenKeys.
  virtual absl::Status InsertTokenKeyIfNoCurrent(const TokenKey& key) = 0;
  // In one transaction: retires the current key at `key.created_at`, inserts `key` as current,
  // and deletes keys retired before `forget_retired_before`.
  virtual absl::Status RotateTokenKey(const TokenKey& key, absl::Time forget_retired_before) = 0;
};

}  // namespace bastion::vault
