// The gRPC face of sign-in (SignInService in proto/bastion/tenant/v1/signin.proto): runs the
// logic on the executor, maps protos <-> domain and absl::Status -> grpc::Status. Served by the
// tenant binary beside TenantGrpc, whose caller resolution it shares.
#pragma once

#include <functional>

#include "common/grpc/grpc_util.h"
#include "proto/bastion/tenant/v1/signin.grpc.pb.h"
#include "services/tenant/signin_service.h"

namespace bastion::tenant {

namespace pb = ::bastion::tenant::v1;

class SignInGrpc final : public pb::SignInService::CallbackService {
 public:
  using CallerResolver = std::function<absl::StatusOr<Caller>(const grpc::ServerContextBase&)>;

  SignInGrpc(SignInService& service, grpcutil::CallRunner& runner, CallerResolver resolve_caller)
      : svc_(service), runner_(runner), resolve_caller_(std::move(resolve_caller)) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* SetSignInPolicy(Ctx*, const pb::SetSignInPolicyRequest*, pb::SignInPolicy*) override;
  Reactor* GetSignInPolicy(Ctx*, const pb::TenantRef*, pb::SignInPolicy*) override;
  Reactor* ListOAuthGrants(Ctx*, const pb::ListOAuthGrantsRequest*, pb::ListOAuthGrantsResponse*) override;
  Reactor* RevokeOAuthGrant(Ctx*, const pb::RevokeOAuthGrantRequest*, pb::OAuthGrant*) override;
  Reactor* RegisterClient(Ctx*, const pb::RegisterClientRequest*, pb::OAuthClient*) override;
  Reactor* PutMetadataDocumentClient(Ctx*, const pb::PutMetadataDocumentClientRequest*, pb::OAuthClient*) override;
  Reactor* GetClient(Ctx*, const pb::GetClientRequest*, pb::OAuthClient*) override;
  Reactor* BeginAuthorization(Ctx*, const pb::BeginAuthorizationRequest*, pb::PendingAuthorization*) override;
  Reactor* CompleteSignIn(Ctx*, const pb::CompleteSignInRequest*, pb::ConsentPrompt*) override;
  Reactor* DecideConsent(Ctx*, const pb::DecideConsentRequest*, pb::ConsentDecision*) override;
  Reactor* RedeemCode(Ctx*, const pb::RedeemCodeRequest*, pb::TokenGrant*) override;
  Reactor* RefreshGrant(Ctx*, const pb::RefreshGrantRequest*, pb::TokenGrant*) override;
  Reactor* RevokeToken(Ctx*, const pb::RevokeTokenRequest*, pb::RevokeTokenResponse*) override;
  Reactor* ListRevocations(Ctx*, const pb::ListRevocationsRequest*, pb::ListRevocationsResponse*) override;

 private:
  Reactor* Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                std::function<absl::Status(const Caller&)> fn);

  SignInService& svc_;
  grpcutil::CallRunner& runner_;
  const CallerResolver resolve_caller_;
};

}  // namespace bastion::tenant
