#include "services/edge/signin/grpc_signin_backends.h"

#include "common/grpc/grpc_util.h"

namespace bastion::edge {
namespace {

// One unary call with the edge's identity and deadline.
template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                          const Req& req, const GrpcBackendOptions& options) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options.service_token, options.timeout);
  Resp out;
  if (auto s = grpcutil::FromGrpc((stub.*method)(&ctx, req, &out)); !s.ok()) return s;
  return out;
}

}  // namespace

GrpcSignInBackend::GrpcSignInBackend(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options)
    : signin_(tv::SignInService::NewStub(channel)), tenant_(tv::TenantService::NewStub(channel)),
      options_(std::move(options)) {}

absl::StatusOr<tv::OAuthClient> GrpcSignInBackend::RegisterClient(const tv::RegisterClientRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::RegisterClient, req, options_);
}
absl::StatusOr<tv::OAuthClient> GrpcSignInBackend::PutMetadataDocumentClient(
    const tv::PutMetadataDocumentClientRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::PutMetadataDocumentClient, req, options_);
}
absl::StatusOr<tv::OAuthClient> GrpcSignInBackend::GetClient(const tv::GetClientRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::GetClient, req, options_);
}
absl::StatusOr<tv::PendingAuthorization> GrpcSignInBackend::BeginAuthorization(
    const tv::BeginAuthorizationRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::BeginAuthorization, req, options_);
}
absl::StatusOr<tv::ConsentPrompt> GrpcSignInBackend::CompleteSignIn(const tv::CompleteSignInRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::CompleteSignIn, req, options_);
}
absl::StatusOr<tv::ConsentDecision> GrpcSignInBackend::DecideConsent(const tv::DecideConsentRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::DecideConsent, req, options_);
}
absl::StatusOr<tv::TokenGrant> GrpcSignInBackend::RedeemCode(const tv::RedeemCodeRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::RedeemCode, req, options_);
}
absl::StatusOr<tv::TokenGrant> GrpcSignInBackend::RefreshGrant(const tv::RefreshGrantRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::RefreshGrant, req, options_);
}
absl::Status GrpcSignInBackend::RevokeToken(const tv::RevokeTokenRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::RevokeToken, req, options_).status();
}
absl::StatusOr<tv::ListRevocationsResponse> GrpcSignInBackend::ListRevocations(
    const tv::ListRevocationsRequest& req) {
  return Call(*signin_, &tv::SignInService::Stub::ListRevocations, req, options_);
}
absl::StatusOr<tv::User> GrpcSignInBackend::GetUser(const std::string& tenant_id, const std::string& user_id) {
  tv::GetUserRequest req;
  req.set_tenant(tenant_id);
  req.set_user(user_id);
  return Call(*tenant_, &tv::TenantService::Stub::GetUser, req, options_);
}

GrpcIdentityProviderBackend::GrpcIdentityProviderBackend(std::shared_ptr<grpc::Channel> channel,
                                                         GrpcBackendOptions options)
    : stub_(vv::IdentityProviderService::NewStub(std::move(channel))), options_(std::move(options)) {}

absl::StatusOr<vv::BeginIdpSignInResponse> GrpcIdentityProviderBackend::BeginIdpSignIn(
    const vv::BeginIdpSignInRequest& req) {
  return Call(*stub_, &vv::IdentityProviderService::Stub::BeginIdpSignIn, req, options_);
}
absl::StatusOr<vv::VerifiedIdentity> GrpcIdentityProviderBackend::CompleteIdpSignIn(
    const vv::CompleteIdpSignInRequest& req) {
  return Call(*stub_, &vv::IdentityProviderService::Stub::CompleteIdpSignIn, req, options_);
}
absl::StatusOr<vv::SignAccessTokenResponse> GrpcIdentityProviderBackend::SignAccessToken(
    const vv::SignAccessTokenRequest& req) {
  return Call(*stub_, &vv::IdentityProviderService::Stub::SignAccessToken, req, options_);
}
absl::StatusOr<vv::TokenKeys> GrpcIdentityProviderBackend::GetTokenKeys(const std::string& tenant) {
  vv::IdpTenantRef req;
  req.set_tenant(tenant);
  return Call(*stub_, &vv::IdentityProviderService::Stub::GetTokenKeys, req, options_);
}

}  // namespace bastion::edge
