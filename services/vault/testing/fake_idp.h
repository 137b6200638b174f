// A fake of a tenant's OpenID Connect identity provider for the vault's tests: a real HTTP server
// on loopback serving discovery, a JWKS, an authorize endpoint that signs the configured person
// in at once (302 to the redirect URI with code and state), and a token endpoint that checks the
// code, redirect URI, PKCE verifier and client authentication and mints an ES256 ID token. Knobs
// let tests break each part the way a real provider or an attacker could.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "boost/json.hpp"
#include "common/http/http_server.h"
#include "common/jose/jose.h"
#include "common/time/clock.h"

namespace bastion::vault {

class FakeIdp {
 public:
  explicit FakeIdp(const Clock& clock);
  ~FakeIdp();

  absl::Status Start();
  // "http://127.0.0.1:<port>"
  std::string issuer() const;

  // The client the token endpoint accepts; an empty secret makes it a public client.
  void SetClient(const std::string& client_id, const std::string& client_secret);
  // Who signs in at /authorize.
  void SetUser(const std::string& subject, const std::string& email, bool email_verified = true);
  // Changes the claims of the next ID tokens (after the real ones are filled in).
  void SetClaimsTamper(std::function<void(boost::json::object&)> tamper);
  // Signs ID tokens with a key that is not in the JWKS but claims the published key's kid.
  void SetForgedSignature(bool forged);
  // A new signing key: published from now on (the old one too) and used for new ID tokens.
  void RotateKey();
  // Signs ID tokens RS256 with a 2048-bit RSA key (published too), as most providers do.
  void UseRsa();
  // Discovery knobs.
  void SetDiscoveryIssuer(const std::string& issuer);
  void SetDiscoveryPadding(size_t bytes);
  void SetDiscoveryHeld(bool held);  // never answers until the fake stops

  int jwks_fetches() const;
  int token_requests() const;
  std::string last_authorization() const;  // the Authorization header of the last token request

  // An ID token as /token would mint it, for tests of verification alone.
  std::string MintIdToken(const std::string& client_id, const std::string& nonce);

 private:
  struct PendingCode {
    std::string client_id;
    std::string redirect_uri;
    std::string code_challenge;
    std::string nonce;
  };
  void Serve(const http::Request& req, std::shared_ptr<http::Responder> responder);
  http::Response Discovery() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  http::Response Authorize(const http::Request& req) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  http::Response Token(const http::Request& req) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Mint(const std::string& client_id, const std::string& nonce)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  http::HttpServer server_;
  mutable absl::Mutex mu_;
  std::vector<jose::SigningKey> keys_ ABSL_GUARDED_BY(mu_);  // the last one signs
  std::shared_ptr<EVP_PKEY> rsa_ ABSL_GUARDED_BY(mu_);      // when set, it signs instead
  std::string client_id_ ABSL_GUARDED_BY(mu_) = "bastion-acme";
  std::string client_secret_ ABSL_GUARDED_BY(mu_);
  std::string subject_ ABSL_GUARDED_BY(mu_) = "idp-user-1";
  std::string email_ ABSL_GUARDED_BY(mu_) = "ana@acme.com";
  bool email_verified_ ABSL_GUARDED_BY(mu_) = true;
  std::function<void(boost::json::object&)> tamper_ ABSL_GUARDED_BY(mu_);
  bool forged_ ABSL_GUARDED_BY(mu_) = false;
  std::string discovery_issuer_ ABSL_GUARDED_BY(mu_);
  size_t discovery_padding_ ABSL_GUARDED_BY(mu_) = 0;
  bool discovery_held_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<http::Responder>> held_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PendingCode> codes_ ABSL_GUARDED_BY(mu_);
  int jwks_fetches_ ABSL_GUARDED_BY(mu_) = 0;
  int token_requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_authorization_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
