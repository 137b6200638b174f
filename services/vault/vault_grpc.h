// The gRPC face of the vault: resolves the caller from metadata (auth::CallerResolver), runs
// the logic on the executor, maps protos <-> domain and absl::Status -> grpc::Status. No reply
// but GetUpstreamCredential's carries a secret.
#pragma once

#include <functional>

#include "common/auth/caller.h"
#include "common/grpc/grpc_util.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/vault/vault_service.h"

namespace bastion::vault {

namespace pb = ::bastion::vault::v1;

class VaultGrpc final : public pb::VaultService::CallbackService {
 public:
  VaultGrpc(VaultService& service, grpcutil::CallRunner& runner, auth::CallerResolver& callers)
      : svc_(service), runner_(runner), callers_(callers) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* PutApiKeyCredential(Ctx*, const pb::PutApiKeyCredentialRequest*, pb::CredentialInfo*) override;
  Reactor* PutOAuthApp(Ctx*, const pb::PutOAuthAppRequest*, pb::CredentialInfo*) override;
  Reactor* GetCredentialInfo(Ctx*, const pb::CredentialRef*, pb::CredentialInfo*) override;
  Reactor* RotateApiKey(Ctx*, const pb::RotateApiKeyRequest*, pb::CredentialInfo*) override;
  Reactor* RotateOAuthClientSecret(Ctx*, const pb::RotateOAuthClientSecretRequest*,
                                   pb::CredentialInfo*) override;
  Reactor* DeleteCredential(Ctx*, const pb::CredentialRef*, pb::DeleteCredentialResponse*) override;
  Reactor* VerifyCredential(Ctx*, const pb::VerifyCredentialRequest*,
                            pb::VerifyCredentialResponse*) override;
  Reactor* BeginUserAuthorization(Ctx*, const pb::BeginUserAuthorizationRequest*,
                                  pb::BeginUserAuthorizationResponse*) override;
  Reactor* CompleteUserAuthorization(Ctx*, const pb::CompleteUserAuthorizationRequest*,
                                     pb::CompleteUserAuthorizationResponse*) override;
  Reactor* ListUserGrants(Ctx*, const pb::ListUserGrantsRequest*, pb::ListUserGrantsResponse*) override;
  Reactor* RevokeUserGrant(Ctx*, const pb::RevokeUserGrantRequest*, pb::UserGrant*) override;
  Reactor* GetUpstreamCredential(Ctx*, const pb::GetUpstreamCredentialRequest*,
                                 pb::UpstreamCredential*) override;
  Reactor* RotateKek(Ctx*, const pb::RotateKekRequest*, pb::RotateKekResponse*) override;
  Reactor* DeleteTenantSecrets(Ctx*, const pb::DeleteTenantSecretsRequest*,
                               pb::DeleteTenantSecretsResponse*) override;

 private:
  // Checks `req`'s strings, resolves the caller, then runs `fn(caller)` on the executor.
  Reactor* Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                std::function<absl::Status(const auth::Caller&)> fn);

  VaultService& svc_;
  grpcutil::CallRunner& runner_;
  auth::CallerResolver& callers_;
};

}  // namespace bastion::vault
