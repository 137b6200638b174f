// What the edge's authorization server needs from the tenant service (SignInService) and the vault
// (IdentityProviderService), as two small interfaces over the services' own messages: production
// wires them to gRPC (grpc_signin_backends.h), tests to fakes. Every call may block; the edge
// calls them on its executor. See docs/signin.md for who owns what.
#pragma once

#include "absl/status/statusor.h"
#include "proto/bastion/tenant/v1/signin.pb.h"
#include "proto/bastion/tenant/v1/tenant.pb.h"
#include "proto/bastion/vault/v1/idp.pb.h"

namespace bastion::edge {

namespace tv = ::bastion::tenant::v1;
namespace vv = ::bastion::vault::v1;

// The tenant service's side. Errors follow signin.proto's convention: the message of a refusal
// starts with the OAuth error code ("invalid_grant: …").
class SignInBackend {
 public:
  virtual ~SignInBackend() = default;
  virtual absl::StatusOr<tv::OAuthClient> RegisterClient(const tv::RegisterClientRequest& req) = 0;
  virtual absl::StatusOr<tv::OAuthClient> PutMetadataDocumentClient(const tv::PutMetadataDocumentClientRequest& req) = 0;
  virtual absl::StatusOr<tv::OAuthClient> GetClient(const tv::GetClientRequest& req) = 0;
  virtual absl::StatusOr<tv::PendingAuthorization> BeginAuthorization(const tv::BeginAuthorizationRequest& req) = 0;
  virtual absl::StatusOr<tv::ConsentPrompt> CompleteSignIn(const tv::CompleteSignInRequest& req) = 0;
  virtual absl::StatusOr<tv::ConsentDecision> DecideConsent(const tv::DecideConsentRequest& req) = 0;
  virtual absl::StatusOr<tv::TokenGrant> RedeemCode(const tv::RedeemCodeRequest& req) = 0;
  virtual absl::StatusOr<tv::TokenGrant> RefreshGrant(const tv::RefreshGrantRequest& req) = 0;
  virtual absl::Status RevokeToken(const tv::RevokeTokenRequest& req) = 0;
  virtual absl::StatusOr<tv::ListRevocationsResponse> ListRevocations(const tv::ListRevocationsRequest& req) = 0;
  // A user's current facts (groups, disabled), for identities that come from access tokens.
  virtual absl::StatusOr<tv::User> GetUser(const std::string& tenant_id, const std::string& user_id) = 0;
};

// The vault's side.
class IdentityProviderBackend {
 public:
  virtual ~IdentityProviderBackend() = default;
  virtual absl::StatusOr<vv::BeginIdpSignInResponse> BeginIdpSignIn(const vv::BeginIdpSignInRequest& req) = 0;
  virtual absl::StatusOr<vv::VerifiedIdentity> CompleteIdpSignIn(const vv::CompleteIdpSignInRequest& req) = 0;
  virtual absl::StatusOr<vv::SignAccessTokenResponse> SignAccessToken(const vv::SignAccessTokenRequest& req) = 0;
  virtual absl::StatusOr<vv::TokenKeys> GetTokenKeys(const std::string& tenant) = 0;
};

}  // namespace bastion::edge
