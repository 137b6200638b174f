// A real tenant service for tests: its own Postgres database, the Postgres stores, the logic and
// the gRPC adapters (TenantService and SignInService) on a loopback port, shut down when it goes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/metrics/registry.h"
#include "common/pg/pool.h"
#include "common/pg/testing/test_database.h"
#include "services/tenant/pg_signin_store.h"
#include "services/tenant/pg_tenant_store.h"
#include "services/tenant/signin_grpc.h"
#include "services/tenant/signin_service.h"
#include "services/tenant/tenant_grpc.h"
#include "services/tenant/tenant_service.h"

namespace bastion::tenant {

class TestTenantServer {
 public:
  struct Options {
    std::string operator_token;
    // The services that may call it, each known by its token: {name, token}.
    std::vector<std::pair<std::string, std::string>> service_tokens;
    // Null: plaintext. Otherwise e.g. grpcutil::MakeServerCredentials for TLS or mutual TLS.
    std::shared_ptr<grpc::ServerCredentials> credentials;
  };

  static absl::StatusOr<std::unique_ptr<TestTenantServer>> Start(Options options);

  TestTenantServer(const TestTenantServer&) = delete;
  TestTenantServer& operator=(const TestTenantServer&) = delete;
  ~TestTenantServer();  // Stops the server, then runs what is queued and joins the executor.

  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }
  // A plaintext channel to address(), for a server started without credentials.
  std::shared_ptr<grpc::Channel> InsecureChannel() const;
  TenantService& logic() { return *logic_; }
  SignInService& signin() { return *signin_; }
  // The migrated database, which a test may share for another service's schema.
  pg::Pool& pool() { return *pool_; }

 private:
  TestTenantServer() = default;

  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgTenantStore> store_;
  std::unique_ptr<TenantService> logic_;
  metrics::Registry registry_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<grpcutil::CallRunner> runner_;
  std::unique_ptr<TenantGrpc> service_;
  std::unique_ptr<PgSignInStore> signin_store_;
  std::unique_ptr<SignInService> signin_;
  std::unique_ptr<SignInGrpc> signin_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace bastion::tenant
