#include "services/tenant/client/tenant_client.h"

#include "common/grpc/grpc_util.h"

namespace bastion::tenant {

GrpcTenantClient::GrpcTenantClient(std::shared_ptr<grpc::Channel> channel, std::string service_token,
                                   absl::Duration timeout)
    : stub_(v1::TenantService::NewStub(std::move(channel))),
      service_token_(std::move(service_token)),
      timeout_(timeout) {}

absl::StatusOr<v1::Identity> GrpcTenantClient::Authenticate(const std::string& token) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  v1::AuthenticateRequest req;
  req.set_token(token);
  v1::Identity out;
  if (auto s = grpcutil::FromGrpc(stub_->Authenticate(&ctx, req, &out)); !s.ok()) return s;
  return out;
}

absl::StatusOr<v1::CheckAccessResponse> GrpcTenantClient::CheckAccess(const std::string& tenant) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  v1::TenantRef req;
  req.set_tenant(tenant);
  v1::CheckAccessResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->CheckAccess(&ctx, req, &out)); !s.ok()) return s;
  return out;
}

absl::StatusOr<v1::Tenant> GrpcTenantClient::GetTenant(const std::string& tenant) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  v1::GetTenantRequest req;
  req.set_tenant(tenant);
  v1::Tenant out;
  if (auto s = grpcutil::FromGrpc(stub_->GetTenant(&ctx, req, &out)); !s.ok()) return s;
  return out;
}

absl::StatusOr<bool> GrpcTenantClient::CatalogEnabled(const std::string& tenant, const std::string& key) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  v1::ListCatalogRequest req;
  req.set_tenant(tenant);
  v1::ListCatalogResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->ListCatalog(&ctx, req, &out)); !s.ok()) return s;
  for (const auto& e : out.entries()) {
    if (e.key() == key) return e.enabled();
  }
  return false;
}

absl::StatusOr<v1::User> GrpcTenantClient::GetUser(const std::string& tenant, const std::string& user) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  v1::GetUserRequest req;
  req.set_tenant(tenant);
  req.set_user(user);
  v1::User out;
  if (auto s = grpcutil::FromGrpc(stub_->GetUser(&ctx, req, &out)); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::Group>> GrpcTenantClient::ListGroups(const std::string& tenant) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, service_token_, timeout_);
  v1::ListGroupsRequest req;
  req.set_tenant(tenant);
  v1::ListGroupsResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->ListGroups(&ctx, req, &out)); !s.ok()) return s;
  return std::vector<v1::Group>(out.groups().begin(), out.groups().end());
}

}  // namespace bastion::tenant
