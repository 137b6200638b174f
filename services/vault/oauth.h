// PagerDuty's OAuth 2.0 endpoints as the vault uses them: the authorize URL with a PKCE (S256)
// challenge, and the token endpoint (authorization code, refresh) as form posts over
// http::HttpClient. Tokens come back as SecretStrings; errors never hold a token.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/crypto.h"
#include "common/http/http_client.h"

namespace bastion::vault {

// application/x-www-form-urlencoded (also right for a URL's query string).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);
// Percent-encodes all but RFC 3986's unreserved characters.
std::string PercentEncode(absl::string_view text);

// BASE64URL(SHA256(verifier)), the S256 code challenge.
std::string PkceChallenge(absl::string_view verifier);

struct AuthorizeRequest {
  std::string client_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string state;
  std::string code_challenge;
};
// `base` (e.g. https://identity.pagerduty.com/oauth/authorize) with the request's parameters.
std::string AuthorizeUrl(absl::string_view base, const AuthorizeRequest& request);

struct TokenResponse {
  crypto::SecretString access_token;
  crypto::SecretString refresh_token;  // empty when the server issued none
  absl::Duration expires_in = absl::Hours(1);
  std::vector<std::string> scopes;  // empty when the server did not say
};

// The OAuth error code ("invalid_grant", ...) a failed token request carries, or "".
std::string OAuthErrorCode(const absl::Status& status);
inline bool IsInvalidGrant(const absl::Status& status) {
  return OAuthErrorCode(status) == "invalid_grant";
}

// Failures: FailedPrecondition carrying the OAuth error code (see OAuthErrorCode) when the
// endpoint refused the request (4xx), Unavailable when it could not be reached or answered
// 429/5xx, Internal for an answer that is not a token response.
class OAuthClient {
 public:
  OAuthClient(http::HttpClient& http, std::string token_url, absl::Duration timeout)
      : http_(http), token_url_(std::move(token_url)), timeout_(timeout) {}

  absl::StatusOr<TokenResponse> ExchangeCode(absl::string_view client_id,
                                             absl::string_view client_secret,
                                             absl::string_view code, absl::string_view redirect_uri,
                                             absl::string_view code_verifier);
  absl::StatusOr<TokenResponse> Refresh(absl::string_view client_id, absl::string_view client_secret,
                                        absl::string_view refresh_token);

 private:
  absl::StatusOr<TokenResponse> Post(std::vector<std::pair<std::string, std::string>> fields);

  http::HttpClient& http_;
  const std::string token_url_;
  const absl::Duration timeout_;
};

}  // namespace bastion::vault
