// The gRPC face of the governance service: resolves the caller from metadata, runs the logic on
// the executor, maps protos <-> domain and absl::Status -> grpc::Status. WatchPolicy and
// ExportAudit are server-streaming reactors (see governance_grpc.cc).
#pragma once

#include "common/auth/caller.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "proto/bastion/governance/v1/governance.grpc.pb.h"
#include "services/governance/governance_service.h"

namespace bastion::governance {

namespace pb = ::bastion::governance::v1;

class GovernanceGrpc final : public pb::GovernanceService::CallbackService {
 public:
  // `executor` also runs ExportAudit, which holds one of its threads while the client reads.
  GovernanceGrpc(GovernanceService& service, grpcutil::CallRunner& runner,
                 auth::CallerResolver& callers, Executor& executor)
      : svc_(service), runner_(runner), callers_(callers), executor_(executor) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* RegisterServer(Ctx*, const pb::RegisterServerRequest*, pb::RegisterServerResponse*) override;
  Reactor* GetServer(Ctx*, const pb::ServerRef*, pb::Server*) override;
  Reactor* ListServers(Ctx*, const pb::ListServersRequest*, pb::ListServersResponse*) override;
  Reactor* UpdateServer(Ctx*, const pb::UpdateServerRequest*, pb::Server*) override;
  Reactor* DeleteServer(Ctx*, const pb::ServerRef*, pb::DeleteServerResponse*) override;
  Reactor* SyncTools(Ctx*, const pb::ServerRef*, pb::SyncSummary*) override;
  Reactor* ListTools(Ctx*, const pb::ListToolsRequest*, pb::ListToolsResponse*) override;
  Reactor* SetToolState(Ctx*, const pb::SetToolStateRequest*, pb::SetToolStateResponse*) override;
  Reactor* SetToolKillSwitch(Ctx*, const pb::SetToolKillSwitchRequest*, pb::Tool*) override;
  Reactor* CreateToolset(Ctx*, const pb::CreateToolsetRequest*, pb::Toolset*) override;
  Reactor* UpdateToolset(Ctx*, const pb::UpdateToolsetRequest*, pb::Toolset*) override;
  Reactor* DeleteToolset(Ctx*, const pb::ToolsetRef*, pb::DeleteToolsetResponse*) override;
  Reactor* ListToolsets(Ctx*, const pb::ListToolsetsRequest*, pb::ListToolsetsResponse*) override;
  Reactor* CreateAccessProfile(Ctx*, const pb::CreateAccessProfileRequest*, pb::AccessProfile*) override;
  Reactor* UpdateAccessProfile(Ctx*, const pb::UpdateAccessProfileRequest*, pb::AccessProfile*) override;
  Reactor* DeleteAccessProfile(Ctx*, const pb::AccessProfileRef*,
                               pb::DeleteAccessProfileResponse*) override;
  Reactor* ListAccessProfiles(Ctx*, const pb::ListAccessProfilesRequest*,
                              pb::ListAccessProfilesResponse*) override;
  Reactor* Authorize(Ctx*, const pb::AuthorizeRequest*, pb::AuthorizeResponse*) override;
  Reactor* ListAllowedTools(Ctx*, const pb::ListAllowedToolsRequest*,
                            pb::ListAllowedToolsResponse*) override;
  Reactor* RecordToolCalls(Ctx*, const pb::RecordToolCallsRequest*,
                           pb::RecordToolCallsResponse*) override;
  Reactor* QueryAudit(Ctx*, const pb::QueryAuditRequest*, pb::QueryAuditResponse*) override;
  Reactor* VerifyAuditChain(Ctx*, const pb::VerifyAuditChainRequest*,
                            pb::VerifyAuditChainResponse*) override;
  Reactor* GetAuditSettings(Ctx*, const pb::GetAuditSettingsRequest*, pb::AuditSettings*) override;
  Reactor* UpdateAuditSettings(Ctx*, const pb::UpdateAuditSettingsRequest*, pb::AuditSettings*) override;

  grpc::ServerWriteReactor<pb::PolicyVersion>* WatchPolicy(Ctx*, const pb::WatchPolicyRequest*) override;
  grpc::ServerWriteReactor<pb::ExportAuditChunk>* ExportAudit(Ctx*, const pb::ExportAuditRequest*) override;
  Reactor* DeleteTenantPolicy(Ctx*, const pb::DeleteTenantPolicyRequest*, pb::DeleteTenantPolicyResponse*) override;

 private:
  // Checks `req`'s strings, resolves the caller, then runs `fn(caller)` on the executor.
  Reactor* Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                std::function<absl::Status(const auth::Caller&)> fn);

  GovernanceService& svc_;
  grpcutil::CallRunner& runner_;
  auth::CallerResolver& callers_;
  Executor& executor_;
};

}  // namespace bastion::governance
