// The tenant service's side of AI-client sign-in (docs/signin.md): the sign-in policy, OAuth
// clients, the authorization code flow with PKCE, refresh-token rotation with reuse detection and
// the revocation feed. Storage and time come in as interfaces; signin_grpc.h is the adapter.
//
// Errors meant for the OAuth client carry the OAuth error code as a message prefix, one status
// code per OAuth code (the convention is spelled out in proto/bastion/tenant/v1/signin.proto).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time/clock.h"
#include "services/tenant/signin_store.h"
#include "services/tenant/signin_types.h"
#include "services/tenant/tenant_store.h"
#include "services/tenant/tenant_types.h"

namespace bastion::tenant {

inline constexpr char kRefreshTokenPrefix[] = "bsr_";
inline constexpr char kDefaultScope[] = "mcp";

struct SignInOptions {
  int max_live_registrations = 1000;        // per tenant
  int max_registrations_per_hour = 100;     // per tenant
  absl::Duration registration_ttl = absl::Hours(24);  // while unused
  absl::Duration pending_ttl = absl::Minutes(10);
  absl::Duration code_ttl = absl::Seconds(60);
  absl::Duration refresh_ttl = absl::Hours(24 * 30);
};

struct RegisterClientRequest {
  std::string tenant;
  std::string client_name;
  std::vector<std::string> redirect_uris;
  std::string client_uri;
  std::string logo_uri;
};

struct BeginAuthorizationRequest {
  std::string tenant;
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string state;
  std::string resource;
  std::string server;
  std::string scope;
  std::string browser_binding;
};

// What the vault verified in the IdP's ID token.
struct VerifiedSignIn {
  std::string authorization_id;
  std::string browser_binding;
  std::string issuer;
  std::string subject;
  std::string email;
  bool email_verified = false;
  std::string name;
  std::string claims_json;
};

struct ConsentPrompt {
  std::string authorization_id;
  std::string consent_token;  // returned once, stored as SHA-256
  OAuthClient client;
  std::string redirect_uri;
  std::string tenant_slug;
  std::string server;
  User user;
};

struct ConsentDecision {
  std::string redirect_uri;
  std::string state;
  std::string code;   // approved
  std::string error;  // denied: "access_denied"
};

struct RedeemCodeRequest {
  std::string tenant;
  std::string code;
  std::string client_id;
  std::string redirect_uri;
  std::string code_verifier;
  std::string resource;
};

struct RefreshGrantRequest {
  std::string tenant;
  std::string refresh_token;
  std::string client_id;
  std::string resource;
};

struct RevokeTokenRequest {
  std::string tenant;
  std::string client_id;
  std::string refresh_token;
  std::string grant_id;
};

struct TokenGrant {
  std::string grant_id;
  std::string refresh_token;  // returned once, stored as SHA-256
  absl::Time refresh_expires_at;
  std::string client_id;
  std::string resource;
  std::string scope;
  Identity identity;
};

class SignInService {
 public:
  SignInService(TenantStore& tenants, SignInStore& store, const Clock& clock,
                SignInOptions options = {})
      : tenants_(tenants), store_(store), clock_(clock), options_(options) {}

  // Admin: a tenant admin of that tenant or the operator; never a service identity.
  absl::StatusOr<SignInPolicy> GetPolicy(const Caller& caller, const std::string& tenant);
  absl::StatusOr<SignInPolicy> SetPolicy(const Caller& caller, const std::string& tenant,
                                         SignInPolicy policy);
  absl::StatusOr<std::vector<OAuthGrant>> ListGrants(const Caller& caller, const std::string& tenant,
                                                     const std::string& user, bool include_revoked);
  absl::StatusOr<OAuthGrant> RevokeGrant(const Caller& caller, const std::string& tenant,
                                         const std::string& grant_id);

  // The edge only.
  absl::StatusOr<OAuthClient> RegisterClient(const Caller& caller, const RegisterClientRequest& req);
  absl::StatusOr<OAuthClient> PutMetadataDocumentClient(const Caller& caller, const std::string& tenant,
                                                        OAuthClient client);
  absl::StatusOr<OAuthClient> GetClient(const Caller& caller, const std::string& tenant,
                                        const std::string& client_id);
  absl::StatusOr<PendingAuthorization> BeginAuthorization(const Caller& caller,
                                                          const BeginAuthorizationRequest& req);
  absl::StatusOr<ConsentPrompt> CompleteSignIn(const Caller& caller, const VerifiedSignIn& in);
  absl::StatusOr<ConsentDecision> DecideConsent(const Caller& caller, const std::string& authorization_id,
                                                const std::string& consent_token,
                                                const std::string& browser_binding, bool approve);
  absl::StatusOr<TokenGrant> RedeemCode(const Caller& caller, const RedeemCodeRequest& req);
  absl::StatusOr<TokenGrant> RefreshGrant(const Caller& caller, const RefreshGrantRequest& req);
  absl::Status RevokeToken(const Caller& caller, const RevokeTokenRequest& req);
  absl::StatusOr<std::vector<Revocation>> ListRevocations(const Caller& caller, int64_t after_seq,
                                                          int limit);

 private:
  absl::StatusOr<Tenant> ResolveTenant(const std::string& ref);
  absl::StatusOr<Tenant> TenantForAdmin(const Caller& caller, const std::string& ref);
  absl::StatusOr<OAuthClient> LiveClient(const std::string& tenant_id, const std::string& client_id);
  // Revokes the grant (if not already) and tells every edge.
  absl::Status RevokeAndAnnounce(const std::string& tenant_id, const std::string& grant_id,
                                 const std::string& reason);
  // Revokes the grant a used code was (or is being) exchanged for, and tells every edge.
  absl::Status RevokeCodeGrant(const AuthorizationCode& code);
  // A new refresh token for the grant; keeps a registered client alive as long as it.
  absl::StatusOr<TokenGrant> IssueRefreshToken(const Tenant& tenant, const User& user,
                                               const OAuthGrant& grant);
  absl::Status SyncGroups(const Tenant& tenant, const SignInPolicy& policy, const User& user,
                          const std::string& claims_json);

  TenantStore& tenants_;
  SignInStore& store_;
  const Clock& clock_;
  const SignInOptions options_;
};

// Validation shared with bastionctl and the adapter: a clear message for each rule.
absl::Status ValidateSignInPolicy(const SignInPolicy& policy);
absl::Status ValidateRedirectUri(const std::string& uri);
// Whether a redirect URI presented at /authorize or /token matches a registered one: exactly,
// or for RFC 8252 loopback redirects (http on 127.0.0.1, [::1], localhost) with any port.
bool RedirectUriMatches(const std::string& registered, const std::string& presented);

}  // namespace bastion::tenant
