// The sign-in backends over gRPC: the tenant service's SignInService (and GetUser) and the vault's
// IdentityProviderService, each call with the edge's service identity and a deadline. Blocking:
// call them on the executor.
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "proto/bastion/tenant/v1/signin.grpc.pb.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"
#include "proto/bastion/vault/v1/idp.grpc.pb.h"
#include "services/edge/grpc_backends.h"
#include "services/edge/signin/signin_backends.h"

namespace bastion::edge {

class GrpcSignInBackend : public SignInBackend {
 public:
  GrpcSignInBackend(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options);
  absl::StatusOr<tv::OAuthClient> RegisterClient(const tv::RegisterClientRequest& req) override;
  absl::StatusOr<tv::OAuthClient> PutMetadataDocumentClient(const tv::PutMetadataDocumentClientRequest& req) override;
  absl::StatusOr<tv::OAuthClient> GetClient(const tv::GetClientRequest& req) override;
  absl::StatusOr<tv::PendingAuthorization> BeginAuthorization(const tv::BeginAuthorizationRequest& req) override;
  absl::StatusOr<tv::ConsentPrompt> CompleteSignIn(const tv::CompleteSignInRequest& req) override;
  absl::StatusOr<tv::ConsentDecision> DecideConsent(const tv::DecideConsentRequest& req) override;
  absl::StatusOr<tv::TokenGrant> RedeemCode(const tv::RedeemCodeRequest& req) override;
  absl::StatusOr<tv::TokenGrant> RefreshGrant(const tv::RefreshGrantRequest& req) override;
  absl::Status RevokeToken(const tv::RevokeTokenRequest& req) override;
  absl::StatusOr<tv::ListRevocationsResponse> ListRevocations(const tv::ListRevocationsRequest& req) override;
  absl::StatusOr<tv::User> GetUser(const std::string& tenant_id, const std::string& user_id) override;

 private:
  std::unique_ptr<tv::SignInService::Stub> signin_;
  std::unique_ptr<tv::TenantService::Stub> tenant_;
  const GrpcBackendOptions options_;
};

class GrpcIdentityProviderBackend : public IdentityProviderBackend {
 public:
  GrpcIdentityProviderBackend(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options);
  absl::StatusOr<vv::BeginIdpSignInResponse> BeginIdpSignIn(const vv::BeginIdpSignInRequest& req) override;
  absl::StatusOr<vv::VerifiedIdentity> CompleteIdpSignIn(const vv::CompleteIdpSignInRequest& req) override;
  absl::StatusOr<vv::SignAccessTokenResponse> SignAccessToken(const vv::SignAccessTokenRequest& req) override;
  absl::StatusOr<vv::TokenKeys> GetTokenKeys(const std::string& tenant) override;

 private:
  std::unique_ptr<vv::IdentityProviderService::Stub> stub_;
  const GrpcBackendOptions options_;
};

}  // namespace bastion::edge
