// The tenant service binary: wiring only.

#include "absl/flags/flag.h"
#include "common/config/config.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/tls_flags.h"
#include "common/log/log.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "common/pg/pool.h"
#include "common/service/periodic.h"
#include "common/service/service_runner.h"
#include "common/service/startup.h"
#include "services/tenant/pg_signin_store.h"
#include "services/tenant/pg_tenant_store.h"
#include "services/tenant/signin_grpc.h"
#include "services/tenant/signin_service.h"
#include "services/tenant/tenant_grpc.h"
#include "services/tenant/tenant_migrations.h"
#include "services/tenant/tenant_service.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:7001", "gRPC listen address");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9101", "admin HTTP (/metrics, /healthz, /readyz)");
ABSL_FLAG(std::string, database_url, "", "PostgreSQL URL (env BASTION_DATABASE_URL)");
ABSL_FLAG(int, db_pool_size, 8, "PostgreSQL connections");
ABSL_FLAG(int, workers, 8, "threads running RPCs (database waits happen here)");
ABSL_FLAG(std::string, operator_token_file, "", "file holding the operator token");
ABSL_FLAG(std::string, operator_token, "", "operator token; prefer the env BASTION_OPERATOR_TOKEN or a file");
ABSL_FLAG(std::string, service_identities_file, "",
          "file of `<service> <token>` lines (or `<service>` alone: known by its client certificate "
          "under mutual TLS): the services allowed to call Authenticate/CheckAccess");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

namespace bastion::tenant {
namespace {

int Run() {
  log::Level level;
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) level = log::Level::kInfo;
  log::Init("tenant", level);

  auto operator_token = startup::Secret(absl::GetFlag(FLAGS_operator_token), absl::GetFlag(FLAGS_operator_token_file));
  if (!operator_token.ok()) {
    log::Error("cannot read the operator token", {{"error", operator_token.status().message()}});
    return 1;
  }
  if (operator_token->empty()) log::Warn("no operator token configured: only tenant admins can call");

  const grpcutil::ServerTlsFiles tls = grpcutil::ServerTlsFilesFromFlags();
  auto services = startup::ServiceIdentitiesFrom(absl::GetFlag(FLAGS_service_identities_file), tls.mutual());
  if (!services.ok()) {
    log::Error("cannot read service identities", {{"error", services.status().message()}});
    return 1;
  }

  auto db = startup::OpenDatabase(absl::GetFlag(FLAGS_database_url), absl::GetFlag(FLAGS_db_pool_size), "tenant",
                                  migrations::tenant_migrations());
  if (!db.ok()) {
    log::Error("cannot open the database", {{"error", db.status().message()}});
    return 1;
  }
  pg::Pool& pool = **db;

  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  Executor executor(absl::GetFlag(FLAGS_workers), 1000);
  grpcutil::CallRunner runner("tenant", executor, registry);
  PgTenantStore store(pool);
  TenantService service(store, RealClock::Get());
  TenantGrpc grpc_service(service, runner, *operator_token, *std::move(services));
  PgSignInStore signin_store(pool);
  SignInService signin(store, signin_store, RealClock::Get());
  SignInGrpc signin_grpc(signin, runner,
                         [&grpc_service](const grpc::ServerContextBase& ctx) { return grpc_service.ResolveCaller(ctx); });

  ServiceRunnerOptions server_options{"tenant", absl::GetFlag(FLAGS_grpc_address),
                                      absl::GetFlag(FLAGS_admin_address)};
  server_options.tls = tls;
  ServiceRunner server(server_options, registry);
  server.AddService(&grpc_service);
  server.AddService(&signin_grpc);
  startup::DatabaseProbe database(pool);
  server.AddReadinessCheck("database", [&database] { return database.ok(); });
  if (absl::Status s = server.Start(); !s.ok()) {
    log::Error("cannot start", {{"error", s.message()}});
    return 1;
  }

  // Last-used times of client tokens go to the database in batches, not per call.
  Periodic flusher(absl::Seconds(10), [&service] {
    if (absl::Status s = service.FlushLastUsed(); !s.ok()) {
      log::Warn("could not record token last-used times", {{"error", s.message()}});
    }
  });
  server.Wait();
  flusher.Stop();
  if (absl::Status s = service.FlushLastUsed(); !s.ok()) {
    log::Warn("could not record token last-used times", {{"error", s.message()}});
  }
  executor.Shutdown();
  log::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace bastion::tenant

int main(int argc, char** argv) {
  bastion::config::Parse(argc, argv, "bastion tenant service");
  return bastion::tenant::Run();
}
