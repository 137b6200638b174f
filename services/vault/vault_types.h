// The vault's domain: credentials (a shared API key or an OAuth app per server and tenant),
// per-user OAuth grants, pending authorizations and wrapped data keys. Secret fields hold
// ciphertext only (sealed with the tenant's data key); plaintext lives in crypto::SecretString.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace bastion::vault {

enum class AuthMode { kApiKey, kOAuth };
enum class Access { kReadOnly, kFull };
enum class OAuthFlavor { kScoped, kClassic };
enum class Region { kUs, kEu };
enum class GrantStatus { kActive, kNeedsReauthorization };

// A tenant's data key, wrapped (sealed) by the key-encryption key of `kek_version`.
struct WrappedDataKey {
  std::string tenant_id;
  int kek_version = 0;
  std::string wrapped;
  absl::Time created_at;
  std::optional<absl::Time> rewrapped_at;
};

struct Credential {
  std::string id;
  std::string tenant_id;
  std::string server;
  AuthMode mode = AuthMode::kApiKey;
  Region region = Region::kUs;
  // API key mode.
  std::string actor_email;
  Access access = Access::kFull;
  // OAuth mode.
  std::string client_id;
  std::vector<std::string> scopes;
  OAuthFlavor flavor = OAuthFlavor::kScoped;
  // The API key or the client secret, sealed; and its last characters for people.
  std::string secret_sealed;
  std::string secret_hint;
  int64_t version = 1;
  absl::Time created_at;
  std::optional<absl::Time> rotated_at;
};

// One user's authorization of one OAuth credential: their tokens, sealed.
struct UserGrant {
  std::string id;
  std::string tenant_id;
  std::string credential_id;
  std::string server;  // filled on reads
  std::string user_id;
  std::string user_email;
  GrantStatus status = GrantStatus::kActive;
  std::string access_token_sealed;
  std::string refresh_token_sealed;  // empty when PagerDuty issued none
  absl::Time expires_at;
  std::vector<std::string> scopes;
  int64_t version = 1;
  absl::Time created_at;
  absl::Time updated_at;
};

// A started authorization-code flow, keyed by the SHA-256 of its `state`.
struct AuthorizationState {
  std::string state_hash;
  std::string tenant_id;
  std::string credential_id;
  std::string user_id;
  std::string user_email;
  std::string code_verifier_sealed;
  std::string redirect_uri;
  absl::Time created_at;
  absl::Time expires_at;
};

}  // namespace bastion::vault
