// The vault's logic: who may read or change which credential, validation, envelope encryption
// of every secret, the per-user OAuth flow (authorization code + PKCE), token refresh shared by
// concurrent callers, verification against PagerDuty, and KEK rotation. Storage, the tenant
// service, outbound HTTP and time come in as interfaces; vault_grpc.h maps protos and statuses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/caller.h"
#include "common/crypto/crypto.h"
#include "common/http/http_client.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/tenant/client/tenant_client.h"
#include "services/vault/envelope.h"
#include "services/vault/oauth.h"
#include "services/vault/single_flight.h"
#include "services/vault/tenant_directory.h"
#include "services/vault/vault_store.h"
#include "services/vault/vault_types.h"

namespace bastion::vault {

struct VaultOptions {
  std::string authorize_url = "https://identity.pagerduty.com/oauth/authorize";
  std::string token_url = "https://identity.pagerduty.com/oauth/token";
  // The edge's /oauth/callback; PagerDuty sends the user there with `code` and `state`.
  std::string redirect_url;
  std::string api_url_us = "https://api.pagerduty.com";
  std::string api_url_eu = "https://api.eu.pagerduty.com";
  absl::Duration state_ttl = absl::Minutes(10);
  // An access token this close to expiry is refreshed before it is handed out.
  absl::Duration refresh_margin = absl::Seconds(60);
  absl::Duration http_timeout = absl::Seconds(10);
  absl::Duration tenant_cache_ttl = absl::Minutes(5);
};

// The messages the edge shows (it adds the link to authorize).
inline constexpr char kNeedsAuthorizationMessage[] =
    "The user must authorize Bastion to use their PagerDuty account before using this server.";
inline constexpr char kNeedsReauthorizationMessage[] =
    "The user must re-authorize Bastion with PagerDuty: PagerDuty no longer accepts the "
    "authorization they gave.";

// What one upstream call needs.
struct UpstreamCredential {
  crypto::SecretString authorization;  // the Authorization header value
  std::string from_email;
  AuthMode mode = AuthMode::kApiKey;
  Access access = Access::kFull;
  Region region = Region::kUs;
  std::vector<std::string> scopes;
  std::optional<absl::Time> expires_at;         // OAuth
  std::optional<GrantStatus> grant_status;      // OAuth
};

struct StartedAuthorization {
  std::string authorize_url;
  absl::Time expires_at;
};

struct CompletedAuthorization {
  UserGrant grant;  // without its tokens
  std::string tenant_slug;
};

enum class VerifyResult { kValid, kInvalid, kForbidden, kUnreachable, kUnexpected };

struct Verification {
  VerifyResult result = VerifyResult::kUnexpected;
  int http_status = 0;
  std::string message;
  std::string request;
};

class VaultService {
 public:
  VaultService(VaultStore& store, Envelope& envelope, tenant::TenantClient& tenants,
               http::HttpClient& http, const Clock& clock, metrics::Registry& registry,
               VaultOptions options = {});

  // Admin RPCs (the operator or the tenant's admins). Credentials come back without secrets.
  absl::StatusOr<Credential> PutApiKeyCredential(const auth::Caller& caller,
                                                 const std::string& tenant,
                                                 const std::string& server,
                                                 const std::string& api_key,
                                                 const std::string& actor_email, Access access,
                                                 Region region);
  absl::StatusOr<Credential> PutOAuthApp(const auth::Caller& caller, const std::string& tenant,
                                         const std::string& server, const std::string& client_id,
                                         const std::string& client_secret,
                                         const std::vector<std::string>& scopes,
                                         OAuthFlavor flavor, Region region);
  // Also for the governance service.
  absl::StatusOr<Credential> GetCredentialInfo(const auth::Caller& caller,
                                               const std::string& tenant,
                                               const std::string& server);
  absl::StatusOr<Credential> RotateApiKey(const auth::Caller& caller, const std::string& tenant,
                                          const std::string& server, const std::string& api_key);
  absl::StatusOr<Credential> RotateOAuthClientSecret(const auth::Caller& caller,
                                                     const std::string& tenant,
                                                     const std::string& server,
                                                     const std::string& client_secret);
  // Returns how many user grants went with it.
  absl::StatusOr<int> DeleteCredential(const auth::Caller& caller, const std::string& tenant,
                                       const std::string& server);
  absl::StatusOr<Verification> VerifyCredential(const auth::Caller& caller,
                                                const std::string& tenant,
                                                const std::string& server,
                                                const std::string& user);

  // For the edge, or a tenant user for themself.
  absl::StatusOr<StartedAuthorization> BeginUserAuthorization(const auth::Caller& caller,
                                                              const std::string& tenant,
                                                              const std::string& server,
                                                              const std::string& user);
  // For the edge (its /oauth/callback).
  absl::StatusOr<CompletedAuthorization> CompleteUserAuthorization(const auth::Caller& caller,
                                                                   const std::string& state,
                                                                   const std::string& code);
  // Admins see every grant of the tenant; a user sees their own.
  absl::StatusOr<std::vector<UserGrant>> ListUserGrants(const auth::Caller& caller,
                                                        const std::string& tenant,
                                                        const std::string& server,
                                                        const std::string& user);
  absl::StatusOr<UserGrant> RevokeUserGrant(const auth::Caller& caller, const std::string& tenant,
                                            const std::string& server, const std::string& user);

  // For the edge only. FailedPrecondition (kNeeds*AuthorizationMessage) when the user must
  // authorize first.
  absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const auth::Caller& caller,
                                                           const std::string& tenant,
                                                           const std::string& server,
                                                           const std::string& user);

  // The operator only.
  absl::StatusOr<RotateKekResult> RotateKek(const auth::Caller& caller);
  // Operator only, for a deactivated tenant: destroys its data key and every credential, grant
  // and pending authorization. Returns how many credentials went and whether a data key did.
  absl::StatusOr<std::pair<int, bool>> DeleteTenantSecrets(const auth::Caller& caller,
                                                           const std::string& tenant);

 private:
  using TenantInfo = TenantRef;
  struct Stats {
    explicit Stats(metrics::Registry& registry);
    metrics::Family<metrics::Counter>& upstream;
    metrics::Family<metrics::Counter>& refreshes;
    metrics::Family<metrics::Counter>& authorizations;
    metrics::Family<metrics::Counter>& verifications;
    metrics::Family<metrics::Counter>& kek_rotations;
  };

  absl::StatusOr<Credential> FindCredential(const TenantInfo& t, const std::string& server);
  absl::StatusOr<tenant::v1::User> ResolveUser(const TenantInfo& t, const std::string& user);
  // Seals `secret` into c.secret_sealed and writes the credential (insert or update).
  absl::StatusOr<Credential> Store(const TenantInfo& t, Credential c, const std::string& secret);
  absl::StatusOr<Credential> RotateSecret(const auth::Caller& caller, const std::string& tenant,
                                          const std::string& server, AuthMode mode,
                                          const std::string& secret);
  absl::StatusOr<UpstreamCredential> UpstreamFor(const TenantInfo& t, const Credential& c,
                                                 const std::string& user);
  // The grant with an access token good for at least refresh_margin, refreshing it if needed.
  absl::StatusOr<UserGrant> FreshGrant(const TenantInfo& t, const Credential& c, UserGrant grant);
  absl::StatusOr<UserGrant> RefreshGrant(const TenantInfo& t, const Credential& c,
                                         const std::string& grant_id);
  absl::StatusOr<crypto::SecretString> OpenCredentialSecret(const Credential& c);

  VaultStore& store_;
  Envelope& envelope_;
  tenant::TenantClient& tenants_;
  http::HttpClient& http_;
  const Clock& clock_;
  const VaultOptions options_;
  OAuthClient oauth_;
  Stats stats_;
  SingleFlight<absl::StatusOr<UserGrant>> refreshes_;
  // Tenant refs resolved and cached, and the admin rule of the admin RPCs.
  TenantDirectory directory_;
};

// Validation shared with bastionctl: a clear message for each rule, never naming a secret.
absl::Status ValidateServerName(const std::string& server);
absl::Status ValidateSecret(const std::string& secret, const char* what);
absl::Status ValidateEmail(const std::string& email);
absl::Status ValidateScopes(const std::vector<std::string>& scopes, OAuthFlavor flavor);
// The last 4 characters of a secret long enough to spare them, else "".
std::string SecretHint(const std::string& secret);

}  // namespace bastion::vault
