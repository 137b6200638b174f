// Envelope encryption of the vault's secrets: each tenant's data key (random, created on first
// use, stored wrapped by the current KEK) seals that tenant's secrets with AAD naming tenant,
// row and field, so a ciphertext moved anywhere else fails to open. Unwrapped data keys are
// cached briefly; RotateKek re-wraps every data key with the current KEK.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/crypto/crypto.h"
#include "common/time/clock.h"
#include "services/vault/keyring.h"
#include "services/vault/vault_store.h"

namespace bastion::vault {

// The associated data each sealed value is bound to.
std::string DataKeyAad(absl::string_view tenant_id);
std::string CredentialAad(absl::string_view tenant_id, absl::string_view credential_id,
                          absl::string_view field);
std::string GrantAad(absl::string_view tenant_id, absl::string_view credential_id,
                     absl::string_view grant_id, absl::string_view field);
std::string StateAad(absl::string_view tenant_id, absl::string_view credential_id,
                     absl::string_view state_hash);
// Sign-in (docs/signin.md): the IdP client secret, a pending sign-in's PKCE verifier and nonce,
// and a token-signing key's private key.
std::string IdpClientAad(absl::string_view tenant_id);
std::string IdpSignInAad(absl::string_view tenant_id, absl::string_view state_hash,
                         absl::string_view field);
std::string TokenKeyAad(absl::string_view tenant_id, absl::string_view kid);

struct RotateKekResult {
  int kek_version = 0;
  int rewrapped = 0;
  int total = 0;
};

class Envelope {
 public:
  Envelope(KeyringSource& keys, VaultStore& store, const Clock& clock,
           absl::Duration cache_ttl = absl::Seconds(60))
      : keys_(keys), store_(store), clock_(clock), cache_ttl_(cache_ttl) {}

  // Seals `plaintext` with the tenant's data key, creating that key on the tenant's first secret.
  absl::StatusOr<std::string> Seal(const std::string& tenant_id, absl::string_view aad,
                                   absl::string_view plaintext);
  // DataLoss (naming no contents) when `sealed` was not sealed for this tenant and `aad`.
  absl::StatusOr<crypto::SecretString> Open(const std::string& tenant_id, absl::string_view aad,
                                            absl::string_view sealed);

  // Re-reads the keyring, then re-wraps every data key not yet under the current KEK, each in
  // its own transaction, while the service keeps serving. Afterwards older KEKs can be removed
  // from the keyring. FailedPrecondition when some data key could not be re-wrapped (the others
  // are); run it again once fixed.
  absl::StatusOr<RotateKekResult> RotateKek();

  // Drops the cached data keys (tests; the cache otherwise expires on its own).
  void ClearCache();
  // Drops one tenant's cached data key: after its key is destroyed nothing here may still use it.
  void Forget(const std::string& tenant_id);

 private:
  absl::StatusOr<crypto::SecretString> DataKey(const std::string& tenant_id, bool create);
  // Unwraps with the current keyring; when the key's KEK version is unknown (another replica
  // rotated to a KEK this one has not read yet), re-reads the keyring once and tries again.
  absl::StatusOr<crypto::SecretString> Unwrap(const WrappedDataKey& key);

  struct Cached {
    crypto::SecretString key;
    absl::Time expires_at;
  };

  KeyringSource& keys_;
  VaultStore& store_;
  const Clock& clock_;
  const absl::Duration cache_ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
