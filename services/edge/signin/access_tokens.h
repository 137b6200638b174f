// Verifies the access tokens Bastion's authorization server issues, without a network round trip
// per request: the signature against the tenant's public keys (fetched from the vault, cached,
// refetched when a token names an unknown kid), the issuer and the audience (exactly the MCP URL
// asked for), expiry; then the revocation set that the tenant service's feed keeps current (polled
// each second), and the user's current groups and status (cached briefly, like static tokens'
// identities). The token itself is never sent anywhere.
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/jose/jose.h"
#include "common/time/clock.h"
#include "services/edge/backends.h"
#include "services/edge/signin/signin_backends.h"

namespace bastion::edge {

struct AccessTokenOptions {
  // The edge's public base URL, e.g. https://bastion.example (no trailing slash).
  std::string public_url;
  absl::Duration keys_ttl = absl::Minutes(10);
  // At most one refetch per tenant this often when a token names a key not yet known.
  absl::Duration keys_refetch_interval = absl::Seconds(10);
  absl::Duration user_ttl = absl::Seconds(15);
  absl::Duration leeway = absl::Seconds(30);
};

class AccessTokenVerifier : public AccessTokenAuthenticator {
 public:
  AccessTokenVerifier(AccessTokenOptions options, SignInBackend& signin, IdentityProviderBackend& idp,
                      const Clock& clock);

  // A JWT (three base64url parts), as opposed to a static bst_ client token.
  static bool IsAccessToken(absl::string_view token);
  bool Handles(const std::string& token) const override { return IsAccessToken(token); }
  absl::StatusOr<Identity> Authenticate(const std::string& token, const std::string& tenant_slug,
                                        const std::string& server) override {
    return Verify(token, tenant_slug, server);
  }
  std::string ResourceMetadataUrl(const std::string& tenant_slug, const std::string& server) const override;

  std::string IssuerFor(absl::string_view tenant_slug) const;
  std::string ResourceFor(absl::string_view tenant_slug, absl::string_view server) const;

  // The identity behind a token presented at /mcp/<tenant_slug>/<server>. Unauthenticated for
  // every token that must not pass (the message says why, never echoing the token); Unavailable
  // when the keys or the user cannot be read right now.
  absl::StatusOr<Identity> Verify(const std::string& token, const std::string& tenant_slug,
                                  const std::string& server);

  // The grant behind a token this tenant issued (signature and issuer checked, audience and
  // expiry not): what revoking an access token revokes.
  absl::StatusOr<std::string> GrantOf(const std::string& token, const std::string& tenant_slug);

  // Reads new entries of the revocation feed; call every second.
  absl::Status PollRevocations();

 private:
  struct Keys {
    jose::KeySet set;
    absl::Time fetched_at;
    absl::Time last_refetch = absl::InfinitePast();  // for a kid not in `set`
  };
  struct UserFacts {
    tv::User user;
    absl::Time fetched_at;
  };
  struct Revoked {
    absl::Time revoked_at;
    absl::Time expires_at;
  };

  absl::StatusOr<jose::Verified> VerifySignature(const std::string& token, const std::string& tenant_slug);
  absl::StatusOr<tv::User> User(const std::string& tenant_id, const std::string& user_id);
  bool IsRevoked(const std::string& grant_id, const std::string& user_id, absl::Time issued_at);

  const AccessTokenOptions options_;
  SignInBackend& signin_;
  IdentityProviderBackend& idp_;
  const Clock& clock_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Keys> keys_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, UserFacts> users_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Revoked> revoked_grants_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Revoked> revoked_users_ ABSL_GUARDED_BY(mu_);
  int64_t revocations_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace bastion::edge
