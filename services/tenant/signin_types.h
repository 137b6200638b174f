// Sign-in for AI clients (docs/signin.md), the tenant service's side: the per-tenant policy,
// OAuth clients, pending authorizations, one-time codes, grants and refresh tokens. Plain
// structs; signin_grpc.h maps them to and from protos.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace bastion::tenant {

struct SignInPolicy {
  std::string tenant_id;
  std::string issuer;  // empty: sign-in is off for the tenant
  std::vector<std::string> allowed_domains;
  std::string groups_claim;
  bool jit_users = false;
  absl::Time updated_at;
};

enum class OAuthClientKind { kRegistration, kMetadataDocument };

struct OAuthClient {
  std::string client_id;
  std::string tenant_id;
  std::string client_name;
  std::vector<std::string> redirect_uris;
  OAuthClientKind kind = OAuthClientKind::kRegistration;
  std::string client_uri;
  std::string logo_uri;
  absl::Time created_at;
  // Registrations live while unused for a day, and while a grant's refresh token could still be
  // used; metadata documents are refetched after this.
  absl::Time expires_at;
};

// An /authorize request waiting for the user to sign in at the IdP and consent.
struct PendingAuthorization {
  std::string id;
  std::string tenant_id;
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;
  std::string state;
  std::string resource;
  std::string server;
  std::string scope;
  std::string browser_binding;
  absl::Time created_at;
  absl::Time expires_at;
  // Set once the IdP vouched for the user; the consent form must carry the token back.
  std::string user_id;
  std::string consent_token_hash;
};

struct AuthorizationCode {
  std::string code_hash;
  std::string tenant_id;
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;
  std::string resource;
  std::string scope;
  std::string user_id;
  // Chosen when the code is issued, so that a second redemption can revoke what the first made.
  std::string grant_id;
  absl::Time created_at;
  absl::Time expires_at;
  int redemptions = 0;
};

struct OAuthGrant {
  std::string id;
  std::string tenant_id;
  std::string user_id;
  std::string user_email;  // filled on reads
  std::string client_id;
  std::string client_name;
  std::string resource;
  std::string scope;
  absl::Time created_at;
  std::optional<absl::Time> last_used_at;
  std::optional<absl::Time> revoked_at;
  std::string revoked_reason;  // admin, user, refresh_token_reuse, code_reuse
};

struct RefreshToken {
  std::string token_hash;
  std::string grant_id;
  std::string tenant_id;
  absl::Time created_at;
  absl::Time expires_at;
  std::optional<absl::Time> retired_at;
};

}  // namespace bastion::tenant
