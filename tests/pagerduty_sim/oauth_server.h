// A fake identity.pagerduty.com: the authorization endpoint (consent is automatic), the token
// endpoint (authorization_code with PKCE S256, rotating refresh tokens) and the store of
// user-level access tokens the REST API accepts, expiring on the simulator's clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"

namespace bastion::pagerduty_sim {

struct OAuthOptions {
  std::map<std::string, std::string> clients;  // client_id -> client_secret
  absl::Duration access_token_lifetime = absl::Hours(1);
  absl::Duration code_lifetime = absl::Minutes(10);
  std::string default_user_id;  // Who consents when a test does not say.
};

struct OAuthTokens {
  std::string access_token;
  std::string refresh_token;
};

class OAuthServer {
 public:
  // `find_user` maps a user id or email to a user id, or nullopt when no such user exists.
  OAuthServer(OAuthOptions options, std::function<absl::Time()> now,
              std::function<std::optional<std::string>(absl::string_view)> find_user);

  // GET /oauth/authorize. The consenting user is the `sim_user` query parameter or the
  // X-Sim-User header (a user id or email), else the default user.
  http::Response Authorize(const http::Request& request);
  // POST /oauth/token with a form body.
  http::Response Token(const http::Request& request);

  enum class TokenState { kValid, kExpired, kUnknown };
  struct TokenInfo {
    std::string user_id;
    std::vector<std::string> scopes;
  };
  TokenState Lookup(absl::string_view access_token, TokenInfo* info);

  // Calls of the token endpoint per grant_type, failed ones included ("" when missing).
  int64_t TokenRequests(absl::string_view grant_type);
  // The user took the app's access away: every code and token of theirs stops working.
  void RevokeUser(absl::string_view user_id);
  // Tokens as a completed authorization would give, without running the flow.
  OAuthTokens Issue(absl::string_view client_id, absl::string_view user_id, absl::string_view scope);

 private:
  struct Code {
    std::string client_id;
    std::string redirect_uri;
    std::string user_id;
    std::string scope;
    std::string challenge;  // Empty when the client sent none.
    absl::Time expires;
    bool used = false;
    std::vector<std::string> issued;  // Tokens from this code, revoked if the code is replayed.
  };
  struct Grant {
    std::string client_id;
    std::string user_id;
    std::string scope;
    absl::Time expires;  // Access tokens only.
    bool revoked = false;
  };

  http::Response IssueLocked(const std::string& client_id, const std::string& user_id,
                             const std::string& scope, std::vector<std::string>* issued)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  OAuthTokens MintLocked(const std::string& client_id, const std::string& user_id,
                         const std::string& scope) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OAuthOptions options_;
  const std::function<absl::Time()> now_;
  const std::function<std::optional<std::string>(absl::string_view)> find_user_;
  absl::Mutex mu_;
  std::map<std::string, Code> codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Grant> access_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Grant> refresh_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> token_requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::pagerduty_sim
