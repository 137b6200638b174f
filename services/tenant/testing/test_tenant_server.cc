#include "services/tenant/testing/test_tenant_server.h"

#include "absl/strings/str_cat.h"
#include "common/pg/migrate.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"
#include "services/tenant/tenant_migrations.h"

namespace bastion::tenant {

absl::StatusOr<std::unique_ptr<TestTenantServer>> TestTenantServer::Start(Options options) {
  std::unique_ptr<TestTenantServer> s(new TestTenantServer());
  ASSIGN_OR_RETURN(pg::TestDatabase db, pg::CreateTestDatabase());
  s->db_ = std::make_unique<pg::TestDatabase>(std::move(db));
  pg::PoolOptions pool_options;
  pool_options.url = s->db_->url();
  s->pool_ = std::make_unique<pg::Pool>(pool_options);
  RETURN_IF_ERROR(pg::Migrate(*s->pool_, "tenant", migrations::tenant_migrations()));
  s->store_ = std::make_unique<PgTenantStore>(*s->pool_);
  s->logic_ = std::make_unique<TenantService>(*s->store_, RealClock::Get());
  s->executor_ = std::make_unique<Executor>(4, 100);
  s->runner_ = std::make_unique<grpcutil::CallRunner>("tenant", *s->executor_, s->registry_);
  grpcutil::ServiceIdentities identities;
  for (const auto& [name, token] : options.service_tokens) identities.Add(name, token);
  s->service_ = std::make_unique<TenantGrpc>(*s->logic_, *s->runner_, std::move(options.operator_token),
                                             std::move(identities));
  s->signin_store_ = std::make_unique<PgSignInStore>(*s->pool_);
  s->signin_ = std::make_unique<SignInService>(*s->store_, *s->signin_store_, RealClock::Get());
  TenantGrpc* tenant_grpc = s->service_.get();
  s->signin_service_ = std::make_unique<SignInGrpc>(
      *s->signin_, *s->runner_,
      [tenant_grpc](const grpc::ServerContextBase& ctx) { return tenant_grpc->ResolveCaller(ctx); });
  std::shared_ptr<grpc::ServerCredentials> credentials =
      options.credentials != nullptr ? options.credentials : grpc::InsecureServerCredentials();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", credentials, &port);
  builder.RegisterService(s->service_.get());
  builder.RegisterService(s->signin_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || port == 0) {
    return absl::UnavailableError("the test tenant server cannot listen on 127.0.0.1");
  }
  s->address_ = absl::StrCat("127.0.0.1:", port);
  return s;
}

TestTenantServer::~TestTenantServer() {
  if (server_ != nullptr) server_->Shutdown();
  if (executor_ != nullptr) executor_->Shutdown();
}

std::shared_ptr<grpc::Channel> TestTenantServer::InsecureChannel() const {
  return grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
}

}  // namespace bastion::tenant
