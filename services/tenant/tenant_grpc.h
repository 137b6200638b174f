// The gRPC face of the tenant service: resolves the caller from metadata (or, under mutual TLS,
// a service's client certificate), runs the logic on the executor, maps protos <-> domain and
// absl::Status -> grpc::Status.
#pragma once

#include <string>

#include "common/grpc/grpc_util.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"
#include "services/tenant/tenant_service.h"

namespace bastion::tenant {

namespace pb = ::bastion::tenant::v1;

class TenantGrpc final : public pb::TenantService::CallbackService {
 public:
  TenantGrpc(TenantService& service, grpcutil::CallRunner& runner, std::string operator_token,
             grpcutil::ServiceIdentities services)
      : svc_(service),
        runner_(runner),
        operator_token_(std::move(operator_token)),
        services_(std::move(services)) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* CreateTenant(Ctx*, const pb::CreateTenantRequest*, pb::Tenant*) override;
  Reactor* GetTenant(Ctx*, const pb::GetTenantRequest*, pb::Tenant*) override;
  Reactor* ListTenants(Ctx*, const pb::ListTenantsRequest*, pb::ListTenantsResponse*) override;
  Reactor* UpdateTenantSettings(Ctx*, const pb::UpdateTenantSettingsRequest*, pb::Tenant*) override;
  Reactor* ActivateAiAccess(Ctx*, const pb::TenantRef*, pb::Tenant*) override;
  Reactor* DeactivateAiAccess(Ctx*, const pb::TenantRef*, pb::Tenant*) override;
  Reactor* SetKillSwitch(Ctx*, const pb::SetKillSwitchRequest*, pb::Tenant*) override;
  Reactor* DeleteTenant(Ctx*, const pb::TenantRef*, pb::Tenant*) override;
  Reactor* CheckAccess(Ctx*, const pb::TenantRef*, pb::CheckAccessResponse*) override;
  Reactor* ListCatalog(Ctx*, const pb::ListCatalogRequest*, pb::ListCatalogResponse*) override;
  Reactor* EnableCatalogEntry(Ctx*, const pb::CatalogEntryRequest*, pb::CatalogEntry*) override;
  Reactor* DisableCatalogEntry(Ctx*, const pb::CatalogEntryRequest*, pb::CatalogEntry*) override;
  Reactor* CreateUser(Ctx*, const pb::CreateUserRequest*, pb::User*) override;
  Reactor* GetUser(Ctx*, const pb::GetUserRequest*, pb::User*) override;
  Reactor* ListUsers(Ctx*, const pb::ListUsersRequest*, pb::ListUsersResponse*) override;
  Reactor* DisableUser(Ctx*, const pb::GetUserRequest*, pb::User*) override;
  Reactor* CreateGroup(Ctx*, const pb::CreateGroupRequest*, pb::Group*) override;
  Reactor* AddGroupMember(Ctx*, const pb::GroupMemberRequest*, pb::Group*) override;
  Reactor* RemoveGroupMember(Ctx*, const pb::GroupMemberRequest*, pb::Group*) override;
  Reactor* ListGroups(Ctx*, const pb::ListGroupsRequest*, pb::ListGroupsResponse*) override;
  Reactor* IssueClientToken(Ctx*, const pb::IssueClientTokenRequest*,
                            pb::IssueClientTokenResponse*) override;
  Reactor* ListClientTokens(Ctx*, const pb::ListClientTokensRequest*,
                            pb::ListClientTokensResponse*) override;
  Reactor* RevokeClientToken(Ctx*, const pb::RevokeClientTokenRequest*, pb::ClientToken*) override;
  Reactor* Authenticate(Ctx*, const pb::AuthenticateRequest*, pb::Identity*) override;
  Reactor* EndSession(Ctx*, const pb::EndSessionRequest*, pb::EndSessionResponse*) override;
  Reactor* ListEndedSessions(Ctx*, const pb::ListEndedSessionsRequest*, pb::ListEndedSessionsResponse*) override;

  // Who is calling; also used by SignInGrpc, served beside it. Blocks (a token lookup): call it
  // on the executor.
  absl::StatusOr<Caller> ResolveCaller(const grpc::ServerContextBase& ctx);

 private:
  // Checks `req`'s strings, resolves the caller, then runs `fn(caller)` on the executor.
  Reactor* Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                std::function<absl::Status(const Caller&)> fn);

  TenantService& svc_;
  grpcutil::CallRunner& runner_;
  const std::string operator_token_;
  const grpcutil::ServiceIdentities services_;
};

}  // namespace bastion::tenant
