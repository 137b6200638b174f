// The vault's side of AI-client sign-in (docs/signin.md): each tenant's identity-provider client
// (secret sealed like every secret), sign-ins at that provider (pending ones kept sealed, one
// use, short-lived) and the tenant's ES256 access-token signing keys. idp_grpc.h maps protos.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "common/jose/jose.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/vault/envelope.h"
#include "services/vault/idp_store.h"
#include "services/vault/oidc.h"
#include "services/vault/tenant_directory.h"

namespace bastion::vault {

struct IdpOptions {
  absl::Duration sign_in_ttl = absl::Minutes(10);
  // How long an unsealed signing key stays in memory (a rotation on another replica is picked
  // up within this; the previous key stays published meanwhile).
  absl::Duration signing_key_cache_ttl = absl::Seconds(60);
  absl::Duration default_token_lifetime = absl::Minutes(5);
  // Retired keys are forgotten after this (far beyond any token they signed).
  absl::Duration forget_retired_keys_after = absl::Hours(24);
};

inline constexpr absl::Duration kMaxAccessTokenLifetime = absl::Seconds(3600);

struct IdpTestResult {
  bool ok = false;
  std::vector<std::string> findings;
  ProviderMetadata provider;
  int signing_keys = 0;
};

struct StartedSignIn {
  std::string authorization_url;
  absl::Time expires_at;
};

struct VerifiedIdentity {
  std::string tenant_id;
  std::string context;
  std::string issuer;
  std::string subject;
  std::string email;
  bool email_verified = false;
  std::string name;
  std::string claims_json;
};

// What the edge asks to be signed; the vault adds jti, iat, exp and tid.
struct AccessTokenRequest {
  std::string issuer;
  std::string audience;
  std::string subject;
  std::string client_id;
  std::string scope;
  std::string grant_id;
  std::string email;
  absl::Duration lifetime = absl::ZeroDuration();  // zero: the default
};

struct SignedAccessToken {
  std::string token;
  absl::Time expires_at;
};

struct PublishedKeys {
  std::string jwks_json;
  std::string current_kid;
};

class IdpService {
 public:
  IdpService(IdpStore& store, Envelope& envelope, TenantDirectory& tenants, OidcClient& oidc,
             const Clock& clock, metrics::Registry& registry, IdpOptions options = {});

  // Admin RPCs (the operator or the tenant's admins; never a service). Replies carry no secret.
  // An empty `client_secret` makes a public client; empty `scopes` means openid email profile.
  absl::StatusOr<IdpClient> PutIdpClient(const auth::Caller& caller, const std::string& tenant,
                                         const std::string& issuer, const std::string& client_id,
                                         const std::string& client_secret,
                                         const std::vector<std::string>& scopes);
  absl::StatusOr<IdpClient> GetIdpClientInfo(const auth::Caller& caller, const std::string& tenant);
  absl::StatusOr<IdpClient> DeleteIdpClient(const auth::Caller& caller, const std::string& tenant);
  // Fetches discovery and JWKS now; problems come back as findings, not errors.
  absl::StatusOr<IdpTestResult> TestIdpClient(const auth::Caller& caller, const std::string& tenant);
  absl::StatusOr<PublishedKeys> RotateTokenKey(const auth::Caller& caller, const std::string& tenant);

  // For the edge only.
  absl::StatusOr<StartedSignIn> BeginIdpSignIn(const auth::Caller& caller, const std::string& tenant,
                                               const std::string& redirect_uri,
                                               const std::string& context);
  // Each state completes at most once; FailedPrecondition (words for the user) when it is
  // unknown, used, expired or the client changed; Unauthenticated when the ID token fails a check.
  absl::StatusOr<VerifiedIdentity> CompleteIdpSignIn(const auth::Caller& caller,
                                                     const std::string& state,
                                                     const std::string& code);
  absl::StatusOr<SignedAccessToken> SignAccessToken(const auth::Caller& caller,
                                                    const std::string& tenant,
                                                    const AccessTokenRequest& request);
  // The current key and the retired keys whose tokens may still be unexpired.
  absl::StatusOr<PublishedKeys> GetTokenKeys(const auth::Caller& caller, const std::string& tenant);

 private:
  struct Stats {
    explicit Stats(metrics::Registry& registry);
    metrics::Family<metrics::Counter>& sign_ins;
    metrics::Family<metrics::Counter>& tokens_signed;
    metrics::Family<metrics::Counter>& key_rotations;
  };
  struct CachedKey {
    std::shared_ptr<const jose::SigningKey> key;
    absl::Time expires_at;
  };

  // The tenant's current signing key, created on first use.
  absl::StatusOr<std::shared_ptr<const jose::SigningKey>> CurrentKey(const std::string& tenant_id);
  absl::StatusOr<TokenKey> NewTokenKey(const std::string& tenant_id,
                                       std::shared_ptr<const jose::SigningKey>* key);
  absl::StatusOr<PublishedKeys> Publish(const std::string& tenant_id);

  IdpStore& store_;
  Envelope& envelope_;
  TenantDirectory& tenants_;
  OidcClient& oidc_;
  const Clock& clock_;
  const IdpOptions options_;
  Stats stats_;
  absl::Mutex keys_mu_;
  // tenant id -> unsealed current key; dropping the last reference frees (and clears) the key.
  absl::flat_hash_map<std::string, CachedKey> keys_ ABSL_GUARDED_BY(keys_mu_);
};

}  // namespace bastion::vault
