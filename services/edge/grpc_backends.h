// The edge's backends over gRPC: the tenant service (identities, access), governance (policy,
// audit, policy-version watch) and the vault (credentials, per-user OAuth). Each call carries
// the edge's service identity and a deadline, and blocks: call them on the executor.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "proto/bastion/governance/v1/governance.grpc.pb.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/edge/backends.h"
#include "services/edge/session_sync.h"

namespace bastion::edge {

struct GrpcBackendOptions {
  std::string service_token;  // the edge's own identity
  absl::Duration timeout = absl::Seconds(3);
};

class GrpcTenantDirectory : public TenantDirectory, public SessionLedger {
 public:
  GrpcTenantDirectory(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options);
  absl::StatusOr<Identity> Authenticate(const std::string& token) override;
  absl::StatusOr<TenantAccess> CheckAccess(const std::string& tenant_slug) override;
  absl::Status Publish(const std::string& session_hash, absl::Time expires_at) override;
  absl::StatusOr<std::vector<EndedSessionRecord>> Since(int64_t after_seq) override;

 private:
  std::unique_ptr<tenant::v1::TenantService::Stub> stub_;
  const GrpcBackendOptions options_;
};

class GrpcPolicyClient : public PolicyClient {
 public:
  GrpcPolicyClient(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options);
  ~GrpcPolicyClient() override { Stop(); }
  absl::StatusOr<AllowedTools> ListAllowedTools(const Identity& who, const std::string& server) override;
  absl::StatusOr<Decision> Authorize(const Identity& who, const std::string& server,
                                     const std::string& tool) override;
  // Sends a batch of audit events (idempotent on event id).
  absl::Status RecordToolCalls(const std::vector<AuditEvent>& events);
  // Follows governance's policy versions for all tenants until Stop(); reconnects with backoff.
  void WatchPolicy(std::function<void(const std::string& tenant_id, int64_t version)> on_change);
  void Stop();

 private:
  std::unique_ptr<governance::v1::GovernanceService::Stub> stub_;
  const GrpcBackendOptions options_;
  std::atomic<bool> stopping_{false};
  std::mutex watch_mu_;
  grpc::ClientContext* watch_ctx_ = nullptr;  // guarded by watch_mu_
  std::thread watcher_;
};

class GrpcCredentialClient : public CredentialClient {
 public:
  GrpcCredentialClient(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options);
  absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const Identity& who, const std::string& server) override;
  absl::StatusOr<AuthorizationNeeded> BeginUserAuthorization(const Identity& who, const std::string& server) override;
  absl::StatusOr<std::string> CompleteUserAuthorization(const std::string& state, const std::string& code) override;

 private:
  std::unique_ptr<vault::v1::VaultService::Stub> stub_;
  const GrpcBackendOptions options_;
};

// The stable reason code the audit log and AI clients see for a governance deny reason.
std::string DenyReasonCode(governance::v1::DenyReason reason);

}  // namespace bastion::edge
