// CredentialInfoSource over the vault's gRPC API (GetCredentialInfo: metadata only, never a
// secret), called with governance's own service identity and a deadline. Blocking: call it
// from an executor thread.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/governance/credential_info.h"

namespace bastion::governance {

class VaultCredentialInfo : public CredentialInfoSource {
 public:
  VaultCredentialInfo(std::shared_ptr<grpc::Channel> channel, std::string service_token,
                      absl::Duration timeout = absl::Seconds(2));

  // NOT_FOUND from the vault means no credential is stored: present=false, not an error.
  absl::StatusOr<CredentialInfo> GetCredentialInfo(const std::string& tenant_id,
                                                   const std::string& server_name) override;

 private:
  std::unique_ptr<vault::v1::VaultService::Stub> stub_;
  const std::string service_token_;
  const absl::Duration timeout_;
};

}  // namespace bastion::governance
