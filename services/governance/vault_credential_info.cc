#include "services/governance/vault_credential_info.h"

#include "common/grpc/grpc_util.h"

namespace bastion::governance {

VaultCredentialInfo::VaultCredentialInfo(std::shared_ptr<grpc::Channel> channel,
                                         std::string service_token, absl::Duration timeout)
    : stub_(vault::v1::VaultService::NewStub(std::move(channel))),
      service_token_(std::move(service_token)),
      timeout_(timeout) {}

absl::StatusOr<CredentialInfo> VaultCredentialInfo::GetCredentialInfo(const std::string& tenant_id,
                                                                      const std::string& server_name) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  vault::v1::CredentialRef req;
  req.set_tenant(tenant_id);
  req.set_server(server_name);
  vault::v1::CredentialInfo resp;
  absl::Status s = grpcutil::FromGrpc(stub_->GetCredentialInfo(&ctx, req, &resp));
  if (s.code() == absl::StatusCode::kNotFound) return CredentialInfo{};
  if (!s.ok()) return s;
  CredentialInfo info;
  info.present = true;
  info.mode = resp.mode() == vault::v1::AUTH_MODE_OAUTH ? AuthMode::kOAuth : AuthMode::kApiKey;
  info.read_only = resp.access() == vault::v1::ACCESS_READ_ONLY;
  info.classic_oauth = resp.flavor() == vault::v1::OAUTH_FLAVOR_CLASSIC;
  info.scopes.assign(resp.scopes().begin(), resp.scopes().end());
  return info;
}

}  // namespace bastion::governance
