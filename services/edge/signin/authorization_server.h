// Bastion's OAuth 2.1 authorization server for AI clients, one issuer per tenant
// (<public_url>/oauth/<tenant>), and the protected-resource metadata of every MCP URL: the HTTP
// half of sign-in (docs/signin.md). It checks what arrives over HTTP and orchestrates; the tenant
// service decides about clients, codes and grants, the vault talks to the tenant's identity
// provider and signs access tokens. Every handler may block: they run on the edge's executor.
#pragma once

#include <optional>
#include <string>

#include "common/exec/executor.h"
#include "common/http/http_server.h"
#include "common/time/clock.h"
#include "services/edge/backends.h"
#include "services/edge/signin/access_tokens.h"
#include "services/edge/signin/client_metadata.h"
#include "services/edge/signin/signin_backends.h"

namespace bastion::edge {

struct AuthorizationServerOptions {
  std::string public_url;  // e.g. https://bastion.example, no trailing slash
  absl::Duration access_token_lifetime = absl::Minutes(5);
};

class AuthorizationServer {
 public:
  AuthorizationServer(AuthorizationServerOptions options, SignInBackend& signin, IdentityProviderBackend& idp,
                      PolicyClient& policy, ClientMetadataFetcher& metadata, AccessTokenVerifier& tokens,
                      const Clock& clock);

  // Answers the routes below; anything else under them is 404.
  //   GET  /.well-known/oauth-protected-resource/mcp/<t>/<s>
  //   GET  /.well-known/oauth-authorization-server/oauth/<t>   (and <issuer>/.well-known/…)
  //   POST <issuer>/register, GET <issuer>/authorize, GET <issuer>/callback,
  //   POST <issuer>/consent, POST <issuer>/token, POST <issuer>/revoke, GET <issuer>/jwks.json
  http::Response Handle(const http::Request& request);

 private:
  struct Route;
  http::Response ProtectedResourceMetadata(const std::string& tenant, const std::string& server);
  http::Response ServerMetadata(const std::string& tenant);
  http::Response Register(const std::string& tenant, const http::Request& request);
  http::Response Authorize(const std::string& tenant, const http::Request& request);
  http::Response Callback(const std::string& tenant, const http::Request& request);
  http::Response Consent(const std::string& tenant, const http::Request& request);
  http::Response Token(const std::string& tenant, const http::Request& request);
  http::Response Revoke(const std::string& tenant, const http::Request& request);
  http::Response Jwks(const std::string& tenant);

  http::Response IssueTokens(const std::string& tenant, const tv::TokenGrant& grant);
  absl::StatusOr<tv::OAuthClient> ResolveClient(const std::string& tenant, const std::string& client_id);
  std::string Issuer(absl::string_view tenant) const;

  const AuthorizationServerOptions options_;
  SignInBackend& signin_;
  IdentityProviderBackend& idp_;
  PolicyClient& policy_;
  ClientMetadataFetcher& metadata_;
  AccessTokenVerifier& tokens_;
  const Clock& clock_;
  const bool secure_cookies_;
};

// Puts the authorization server's routes on the edge's HTTP server (each request on `executor`).
void RegisterSignInRoutes(http::HttpServer& server, AuthorizationServer& as, Executor& executor);

// A redirect URI matches a registered one exactly, except that a loopback http redirect
// (127.0.0.1, [::1], localhost) matches with any port (RFC 8252 §7.3).
bool RedirectUriMatches(absl::string_view registered, absl::string_view presented);

}  // namespace bastion::edge
