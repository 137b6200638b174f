// How other services reach the tenant service: an interface (so their logic tests can fake
// it) and its gRPC implementation, which carries the caller's service identity and a deadline.
// Calls block: run them on an executor thread, never on an I/O thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"

namespace bastion::tenant {

class TenantClient {
 public:
  virtual ~TenantClient() = default;
  // The identity behind an AI client's (or admin's) token. Unauthenticated for bad tokens.
  virtual absl::StatusOr<v1::Identity> Authenticate(const std::string& token) = 0;
  virtual absl::StatusOr<v1::CheckAccessResponse> CheckAccess(const std::string& tenant) = 0;
  virtual absl::StatusOr<v1::Tenant> GetTenant(const std::string& tenant) = 0;
  // Whether catalog entry `key` (e.g. "pagerduty") is enabled for the tenant.
  virtual absl::StatusOr<bool> CatalogEnabled(const std::string& tenant, const std::string& key) = 0;
  virtual absl::StatusOr<v1::User> GetUser(const std::string& tenant, const std::string& user) = 0;
  virtual absl::StatusOr<std::vector<v1::Group>> ListGroups(const std::string& tenant) = 0;
};

class GrpcTenantClient : public TenantClient {
 public:
  GrpcTenantClient(std::shared_ptr<grpc::Channel> channel, std::string service_token,
                   absl::Duration timeout = absl::Seconds(3));

  absl::StatusOr<v1::Identity> Authenticate(const std::string& token) override;
  absl::StatusOr<v1::CheckAccessResponse> CheckAccess(const std::string& tenant) override;
  absl::StatusOr<v1::Tenant> GetTenant(const std::string& tenant) override;
  absl::StatusOr<bool> CatalogEnabled(const std::string& tenant, const std::string& key) override;
  absl::StatusOr<v1::User> GetUser(const std::string& tenant, const std::string& user) override;
  absl::StatusOr<std::vector<v1::Group>> ListGroups(const std::string& tenant) override;

 private:
  std::unique_ptr<v1::TenantService::Stub> stub_;
  const std::string service_token_;
  const absl::Duration timeout_;
};

}  // namespace bastion::tenant
