// The gRPC face of the vault's sign-in side (proto/bastion/vault/v1/idp.proto): resolves the
// caller from metadata, runs IdpService on the executor (its calls wait on Postgres and on the
// identity provider), maps protos <-> domain. No reply carries a secret.
#pragma once

#include <functional>

#include "common/auth/caller.h"
#include "common/grpc/grpc_util.h"
#include "proto/bastion/vault/v1/idp.grpc.pb.h"
#include "services/vault/idp_service.h"

namespace bastion::vault {

namespace idppb = ::bastion::vault::v1;

class IdpGrpc final : public idppb::IdentityProviderService::CallbackService {
 public:
  IdpGrpc(IdpService& service, grpcutil::CallRunner& runner, auth::CallerResolver& callers)
      : svc_(service), runner_(runner), callers_(callers) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* PutIdpClient(Ctx*, const idppb::PutIdpClientRequest*, idppb::IdpClientInfo*) override;
  Reactor* GetIdpClientInfo(Ctx*, const idppb::IdpTenantRef*, idppb::IdpClientInfo*) override;
  Reactor* DeleteIdpClient(Ctx*, const idppb::IdpTenantRef*, idppb::IdpClientInfo*) override;
  Reactor* TestIdpClient(Ctx*, const idppb::IdpTenantRef*, idppb::TestIdpClientResponse*) override;
  Reactor* BeginIdpSignIn(Ctx*, const idppb::BeginIdpSignInRequest*,
                          idppb::BeginIdpSignInResponse*) override;
  Reactor* CompleteIdpSignIn(Ctx*, const idppb::CompleteIdpSignInRequest*,
                             idppb::VerifiedIdentity*) override;
  Reactor* SignAccessToken(Ctx*, const idppb::SignAccessTokenRequest*,
                           idppb::SignAccessTokenResponse*) override;
  Reactor* GetTokenKeys(Ctx*, const idppb::IdpTenantRef*, idppb::TokenKeys*) override;
  Reactor* RotateTokenKey(Ctx*, const idppb::IdpTenantRef*, idppb::TokenKeys*) override;

 private:
  // Runs `fn(caller)` on the executor once the caller is known.
  Reactor* Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                std::function<absl::Status(const auth::Caller&)> fn);

  IdpService& svc_;
  grpcutil::CallRunner& runner_;
  auth::CallerResolver& callers_;
};

}  // namespace bastion::vault
