// The vault service binary: wiring only.
#include <atomic>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "common/auth/caller.h"
#include "common/config/config.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/tls_flags.h"
#include "common/http/http_client.h"
#include "common/log/log.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "common/pg/pool.h"
#include "common/service/periodic.h"
#include "common/service/service_runner.h"
#include "common/service/startup.h"
#include "services/tenant/client/tenant_client.h"
#include "services/vault/envelope.h"
#include "services/vault/idp_grpc.h"
#include "services/vault/idp_service.h"
#include "services/vault/keyring.h"
#include "services/vault/oidc.h"
#include "services/vault/pg_idp_store.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/tenant_directory.h"
#include "services/vault/vault_grpc.h"
#include "services/vault/vault_migrations.h"
#include "services/vault/vault_service.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:7002", "gRPC listen address");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9102", "admin HTTP (/metrics, /healthz, /readyz)");
ABSL_FLAG(std::string, database_url, "", "PostgreSQL URL (env BASTION_DATABASE_URL)");
ABSL_FLAG(int, db_pool_size, 8, "PostgreSQL connections");
ABSL_FLAG(int, workers, 8, "threads running RPCs (database and HTTP waits happen here)");
ABSL_FLAG(std::string, operator_token_file, "", "file holding the operator token");
ABSL_FLAG(std::string, operator_token, "", "operator token; prefer the env BASTION_OPERATOR_TOKEN or a file");
ABSL_FLAG(std::string, service_identities_file, "",
          "file of `<service> <token>` lines (or `<service>` alone: known by its client certificate "
          "under mutual TLS): the services that may call (edge, governance)");
ABSL_FLAG(std::string, service_token_file, "", "file holding this service's own token, sent to the tenant service");
ABSL_FLAG(std::string, tenant_address, "127.0.0.1:7001", "the tenant service's gRPC address");
ABSL_FLAG(std::string, kek_file, "",
          "key-encryption keyring file: `<version> <base64 32-byte key>` lines, highest version "
          "current; re-read by RotateKek (env BASTION_KEK_FILE)");
ABSL_FLAG(std::string, kek, "",
          "the keyring itself, entries separated by ';' or newlines; set it through the env "
          "BASTION_KEK, never on a command line. Ignored when --kek_file is set");
ABSL_FLAG(absl::Duration, data_key_cache_ttl, absl::Seconds(60), "how long unwrapped data keys stay in memory");
ABSL_FLAG(std::string, oauth_authorize_url, "https://identity.pagerduty.com/oauth/authorize",
          "PagerDuty's OAuth authorize endpoint");
ABSL_FLAG(std::string, oauth_token_url, "https://identity.pagerduty.com/oauth/token",
          "PagerDuty's OAuth token endpoint");
ABSL_FLAG(std::string, oauth_redirect_url, "http://127.0.0.1:8080/oauth/callback",
          "the edge's /oauth/callback, registered as the OAuth apps' redirect URL");
ABSL_FLAG(std::string, pagerduty_api_url, "https://api.pagerduty.com", "PagerDuty REST API (US region)");
ABSL_FLAG(std::string, pagerduty_eu_api_url, "https://api.eu.pagerduty.com", "PagerDuty REST API (EU region)");
ABSL_FLAG(absl::Duration, http_timeout, absl::Seconds(10), "deadline of each call to PagerDuty");
ABSL_FLAG(bool, idp_allow_http, false,
          "let tenants' identity providers (and the edge's sign-in callback) use plain http to a "
          "loopback host: local runs and tests only");
ABSL_FLAG(absl::Duration, idp_fetch_timeout, absl::Seconds(5),
          "deadline of each call to a tenant's identity provider (discovery, JWKS, code exchange)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

namespace bastion::vault {
namespace {

absl::StatusOr<std::unique_ptr<KeyringSource>> LoadKeyring() {
  if (!absl::GetFlag(FLAGS_kek_file).empty()) {
    return KeyringSource::FromFile(absl::GetFlag(FLAGS_kek_file));
  }
  crypto::SecretString text(absl::GetFlag(FLAGS_kek));
  absl::SetFlag(&FLAGS_kek, "");
  if (text.empty()) {
    return absl::FailedPreconditionError(
        "no key-encryption key: set --kek_file (BASTION_KEK_FILE) or BASTION_KEK");
  }
  auto ring = Keyring::Parse(text.value(), "BASTION_KEK");
  if (!ring.ok()) return ring.status();
  return KeyringSource::Fixed(*std::move(ring));
}

int Run() {
  log::Level level;
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) level = log::Level::kInfo;
  log::Init("vault", level);

  auto operator_token =
      startup::Secret(absl::GetFlag(FLAGS_operator_token), absl::GetFlag(FLAGS_operator_token_file));
  if (!operator_token.ok()) {
    log::Error("cannot read the operator token", {{"error", operator_token.status().message()}});
    return 1;
  }
  if (operator_token->empty()) log::Warn("no operator token configured: only tenant admins can call");
  auto service_token = startup::Secret("", absl::GetFlag(FLAGS_service_token_file));
  if (!service_token.ok()) {
    log::Error("cannot read the service token", {{"error", service_token.status().message()}});
    return 1;
  }
  const grpcutil::ServerTlsFiles tls = grpcutil::ServerTlsFilesFromFlags();
  auto services = startup::ServiceIdentitiesFrom(absl::GetFlag(FLAGS_service_identities_file), tls.mutual());
  if (!services.ok()) {
    log::Error("cannot read service identities", {{"error", services.status().message()}});
    return 1;
  }
  if (services->empty()) log::Warn("no service identities: the edge cannot fetch credentials");

  auto keys = LoadKeyring();
  if (!keys.ok()) {
    log::Error("cannot load the key-encryption keyring", {{"error", keys.status().message()}});
    return 1;
  }
  log::Info("key-encryption keyring loaded", {{"current_version", (*keys)->Get()->current_version()}});

  auto db = startup::OpenDatabase(absl::GetFlag(FLAGS_database_url), absl::GetFlag(FLAGS_db_pool_size), "vault",
                                  migrations::vault_migrations());
  if (!db.ok()) {
    log::Error("cannot open the database", {{"error", db.status().message()}});
    return 1;
  }
  pg::Pool& pool = **db;

  auto channel_credentials = grpcutil::ChannelCredentialsFromFlags();
  if (!channel_credentials.ok()) {
    log::Error("cannot set up TLS to the tenant service",
               {{"error", channel_credentials.status().message()}});
    return 1;
  }
  tenant::GrpcTenantClient tenant_client(
      grpcutil::ServiceChannel(absl::GetFlag(FLAGS_tenant_address), *channel_credentials), *service_token);
  auth::CallerResolver callers(
      *operator_token, *std::move(services),
      [&tenant_client](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
        auto id = tenant_client.Authenticate(token);
        if (!id.ok()) return id.status();
        auth::TokenIdentity out;
        out.tenant_id = id->tenant_id();
        out.tenant_slug = id->tenant_slug();
        out.user_id = id->user_id();
        out.email = id->email();
        out.admin = id->role() == tenant::v1::ROLE_ADMIN;
        return out;
      });

  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  Executor executor(absl::GetFlag(FLAGS_workers), 1000);
  grpcutil::CallRunner runner("vault", executor, registry);
  http::CurlHttpClient http_client;
  PgVaultStore store(pool);
  Envelope envelope(**keys, store, RealClock::Get(), absl::GetFlag(FLAGS_data_key_cache_ttl));
  VaultOptions options;
  options.authorize_url = absl::GetFlag(FLAGS_oauth_authorize_url);
  options.token_url = absl::GetFlag(FLAGS_oauth_token_url);
  options.redirect_url = absl::GetFlag(FLAGS_oauth_redirect_url);
  options.api_url_us = absl::GetFlag(FLAGS_pagerduty_api_url);
  options.api_url_eu = absl::GetFlag(FLAGS_pagerduty_eu_api_url);
  options.http_timeout = absl::GetFlag(FLAGS_http_timeout);
  VaultService service(store, envelope, tenant_client, http_client, RealClock::Get(), registry,
                       options);
  VaultGrpc grpc_service(service, runner, callers);
  TenantDirectory tenant_directory(tenant_client, RealClock::Get());
  OidcOptions oidc_options;
  oidc_options.allow_http_loopback = absl::GetFlag(FLAGS_idp_allow_http);
  oidc_options.fetch_timeout = absl::GetFlag(FLAGS_idp_fetch_timeout);
  OidcClient oidc(http_client, RealClock::Get(), oidc_options);
  PgIdpStore idp_store(pool);
  IdpService idp_service(idp_store, envelope, tenant_directory, oidc, RealClock::Get(), registry);
  IdpGrpc idp_grpc(idp_service, runner, callers);

  ServiceRunnerOptions server_options{"vault", absl::GetFlag(FLAGS_grpc_address),
                                      absl::GetFlag(FLAGS_admin_address)};
  server_options.tls = tls;
  ServiceRunner server(server_options, registry);
  server.AddService(&grpc_service);
  server.AddService(&idp_grpc);
  startup::DatabaseProbe database(pool);
  server.AddReadinessCheck("database", [&database] { return database.ok(); });
  if (absl::Status s = server.Start(); !s.ok()) {
    log::Error("cannot start", {{"error", s.message()}});
    return 1;
  }
  server.Wait();
  database.Stop();
  executor.Shutdown();
  http_client.Shutdown();
  log::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace bastion::vault

int main(int argc, char** argv) {
  bastion::config::Parse(argc, argv, "bastion vault service");
  return bastion::vault::Run();
}
