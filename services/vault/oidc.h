// The vault as an OpenID Connect relying party to a tenant's identity provider: discovery, the
// provider's JWKS (cached, refetched when a token names a key it does not know), the
// authorization URL (code flow, PKCE S256, state, nonce), the code exchange and ID-token
// verification. Every fetch has a size and time limit; calls block, so run them off I/O threads.
#pragma once

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "boost/json.hpp"
#include "common/http/http_client.h"
#include "common/jose/jose.h"
#include "common/time/clock.h"

namespace bastion::vault {

struct OidcOptions {
  // Plain http only to a loopback host (local runs and tests).
  bool allow_http_loopback = false;
  absl::Duration fetch_timeout = absl::Seconds(5);
  size_t max_discovery_bytes = 64 * 1024;
  size_t max_jwks_bytes = 256 * 1024;
  size_t max_token_response_bytes = 64 * 1024;
  absl::Duration discovery_ttl = absl::Minutes(15);
  absl::Duration jwks_ttl = absl::Minutes(15);
  // A token naming an unknown key refetches the JWKS at most this often per provider.
  absl::Duration jwks_min_refetch = absl::Seconds(30);
  absl::Duration clock_leeway = absl::Seconds(60);
  // An ID token issued longer ago than this is refused (the sign-in has just happened).
  absl::Duration id_token_max_age = absl::Minutes(10);
};

// What discovery says, checked: the issuer equals the configured one and every endpoint is https.
struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::vector<std::string> signing_algorithms;  // id_token_signing_alg_values_supported
};

struct AuthorizationParams {
  std::string client_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string state;
  std::string nonce;
  std::string code_challenge;  // S256
};

// The values the ID token must carry.
struct IdTokenExpectations {
  std::string issuer;
  std::string client_id;
  std::string nonce;
};

// InvalidArgument unless `url` is https (or http to a loopback host when `allow_http_loopback`),
// with a host and no fragment. `what` names the URL in the message.
absl::Status CheckProviderUrl(absl::string_view url, bool allow_http_loopback, absl::string_view what);

class OidcClient {
 public:
  OidcClient(http::HttpClient& http, const Clock& clock, OidcOptions options = {});

  enum class Fetching {
    kCached,       // the cached copy while it is fresh
    kRefreshKeys,  // the JWKS again, unless it was fetched under jwks_min_refetch ago
    kFresh,        // fetched now (an admin's test)
  };

  // FailedPrecondition (in words an admin can act on) when the document is missing, too large,
  // slow, not JSON, for another issuer, or names unusable endpoints; cached for discovery_ttl.
  absl::StatusOr<ProviderMetadata> Discover(const std::string& issuer,
                                            Fetching fetching = Fetching::kCached);
  absl::StatusOr<jose::KeySet> Keys(const std::string& jwks_uri,
                                    Fetching fetching = Fetching::kCached);

  std::string AuthorizationUrl(const ProviderMetadata& provider,
                               const AuthorizationParams& params) const;

  // The code exchange: client_secret_basic when `client_secret` is set, else a public client.
  // Returns the ID token. FailedPrecondition carrying the provider's OAuth error code when it
  // refused the code or the client; Unavailable when it could not be reached.
  absl::StatusOr<std::string> ExchangeCode(const ProviderMetadata& provider,
                                           const std::string& client_id,
                                           absl::string_view client_secret, const std::string& code,
                                           const std::string& redirect_uri,
                                           absl::string_view code_verifier);

  // Signature (ES256/RS256, a key of the provider's JWKS), iss, aud = client_id, azp, exp, iat,
  // nonce and sub. Unauthenticated, never echoing the token, when any check fails.
  absl::StatusOr<boost::json::object> VerifyIdToken(const ProviderMetadata& provider,
                                                    absl::string_view id_token,
                                                    const IdTokenExpectations& expected);

  const OidcOptions& options() const { return options_; }

 private:
  struct CachedKeys {
    jose::KeySet keys;
    absl::Time fetched_at;
  };
  absl::StatusOr<http::ClientResponse> Fetch(const std::string& url, size_t max_bytes,
                                             absl::string_view what);

  http::HttpClient& http_;
  const Clock& clock_;
  const OidcOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::pair<ProviderMetadata, absl::Time>> discovery_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, CachedKeys> jwks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
