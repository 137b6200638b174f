// The governance service binary: wiring only.
#include <memory>

#include "absl/flags/flag.h"
#include "common/auth/caller.h"
#include "common/config/config.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/tls_flags.h"
#include "common/log/log.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "common/pg/pool.h"
#include "common/service/service_runner.h"
#include "common/service/startup.h"
#include "services/governance/governance_grpc.h"
#include "services/governance/governance_migrations.h"
#include "services/governance/governance_service.h"
#include "services/governance/pagerduty_tool_source.h"
#include "services/governance/pg_governance_store.h"
#include "services/governance/pg_policy_listener.h"
#include "services/governance/vault_credential_info.h"
#include "services/tenant/client/tenant_client.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:7003", "gRPC listen address");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9103", "admin HTTP (/metrics, /healthz, /readyz)");
ABSL_FLAG(std::string, database_url, "", "PostgreSQL URL (env BASTION_DATABASE_URL)");
ABSL_FLAG(int, db_pool_size, 8, "PostgreSQL connections (the policy listener uses one more)");
ABSL_FLAG(int, workers, 8, "threads running RPCs (database and tenant/vault waits happen here)");
ABSL_FLAG(std::string, operator_token_file, "", "file holding the operator token");
ABSL_FLAG(std::string, operator_token, "", "operator token; prefer the env BASTION_OPERATOR_TOKEN or a file");
ABSL_FLAG(std::string, service_identities_file, "",
          "file of `<service> <token>` lines (or `<service>` alone: known by its client certificate "
          "under mutual TLS): the services allowed to call Authorize, "
          "ListAllowedTools, RecordToolCalls and WatchPolicy (the edge)");
ABSL_FLAG(std::string, service_token_file, "",
          "file holding this service's own token, sent to the tenant service and the vault");
ABSL_FLAG(std::string, tenant_address, "127.0.0.1:7001", "tenant service gRPC address");
ABSL_FLAG(std::string, vault_address, "127.0.0.1:7002", "vault gRPC address (credential metadata)");
ABSL_FLAG(absl::Duration, facts_ttl, absl::Seconds(2),
          "how long decisions reuse a tenant's state (active, kill switch) and credential "
          "metadata before asking the tenant service and the vault again");
ABSL_FLAG(int, audit_retention_days, 365,
          "how long a deleted tenant's audit log is kept under its old id (bastionctl tenant delete)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

namespace bastion::governance {
namespace {

int Run() {
  log::Level level;
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) level = log::Level::kInfo;
  log::Init("governance", level);

  auto operator_token = startup::Secret(absl::GetFlag(FLAGS_operator_token), absl::GetFlag(FLAGS_operator_token_file));
  auto service_token = startup::Secret("", absl::GetFlag(FLAGS_service_token_file));
  if (!operator_token.ok() || !service_token.ok()) {
    log::Error("cannot read a token file",
               {{"error", (!operator_token.ok() ? operator_token.status() : service_token.status()).message()}});
    return 1;
  }
  if (operator_token->empty()) log::Warn("no operator token configured: only tenant admins can call");
  if (service_token->empty() && !grpcutil::ClientTlsFilesFromFlags().presents_certificate()) {
    log::Warn("no service token and no client certificate: the tenant service and vault will refuse calls");
  }

  const grpcutil::ServerTlsFiles tls = grpcutil::ServerTlsFilesFromFlags();
  auto services = startup::ServiceIdentitiesFrom(absl::GetFlag(FLAGS_service_identities_file), tls.mutual());
  if (!services.ok()) {
    log::Error("cannot read service identities", {{"error", services.status().message()}});
    return 1;
  }

  auto db = startup::OpenDatabase(absl::GetFlag(FLAGS_database_url), absl::GetFlag(FLAGS_db_pool_size), "governance",
                                  migrations::governance_migrations());
  if (!db.ok()) {
    log::Error("cannot open the database", {{"error", db.status().message()}});
    return 1;
  }
  pg::Pool& pool = **db;

  auto channel_credentials = grpcutil::ChannelCredentialsFromFlags();
  if (!channel_credentials.ok()) {
    log::Error("cannot set up TLS to the tenant service and vault",
               {{"error", channel_credentials.status().message()}});
    return 1;
  }
  tenant::GrpcTenantClient tenants(
      grpcutil::ServiceChannel(absl::GetFlag(FLAGS_tenant_address), *channel_credentials), *service_token);
  VaultCredentialInfo vault(
      grpcutil::ServiceChannel(absl::GetFlag(FLAGS_vault_address), *channel_credentials), *service_token);
  PagerDutyToolSource catalog;

  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  Executor executor(absl::GetFlag(FLAGS_workers), 1000);
  grpcutil::CallRunner runner("governance", executor, registry);
  PgGovernanceStore store(pool);
  GovernanceOptions options;
  options.facts_ttl = absl::GetFlag(FLAGS_facts_ttl);
  if (absl::GetFlag(FLAGS_audit_retention_days) < 1) {
    log::Error("--audit_retention_days must be at least 1",
               {{"audit_retention_days", absl::GetFlag(FLAGS_audit_retention_days)}});
    return 1;
  }
  options.audit_retention = absl::Hours(24) * absl::GetFlag(FLAGS_audit_retention_days);
  options.registry = &registry;
  GovernanceService service(store, RealClock::Get(), tenants, catalog, vault, options);

  auth::CallerResolver callers(*operator_token, *std::move(services),
                               [&tenants](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
                                 auto id = tenants.Authenticate(token);
                                 if (!id.ok()) return id.status();
                                 return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(),
                                                            id->email(), id->role() == tenant::v1::ROLE_ADMIN};
                               });
  GovernanceGrpc grpc_service(service, runner, callers, executor);

  // Other replicas' changes arrive as notifications; after any gap, versions are re-read.
  pg::ConnectOptions listen_options;
  listen_options.url = absl::GetFlag(FLAGS_database_url);
  PgPolicyListener listener(
      listen_options, [&service](const std::string& tenant_id, int64_t version) {
        service.OnPolicyVersion(tenant_id, version);
      },
      [&service] { service.ResyncPolicyVersions(); });
  listener.Start();

  ServiceRunnerOptions server_options{"governance", absl::GetFlag(FLAGS_grpc_address),
                                      absl::GetFlag(FLAGS_admin_address)};
  server_options.tls = tls;
  ServiceRunner server(server_options, registry);
  server.AddService(&grpc_service);
  startup::DatabaseProbe database(pool);
  server.AddReadinessCheck("database", [&database] { return database.ok(); });
  // Without the listener this replica would serve decisions other replicas have made stale.
  server.AddReadinessCheck("policy_listener", [&listener] { return listener.listening(); });
  if (absl::Status s = server.Start(); !s.ok()) {
    log::Error("cannot start", {{"error", s.message()}});
    return 1;
  }
  server.Wait();
  listener.Stop();
  executor.Shutdown();
  log::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace bastion::governance

int main(int argc, char** argv) {
  bastion::config::Parse(argc, argv, "bastion governance service");
  return bastion::governance::Run();
}
