// The edge binary: wiring only. Serves the MCP endpoint (/mcp/<tenant>/<server>) and the OAuth
// callback page over HTTP, grpc.health.v1 and reflection on its gRPC port (nothing else calls
// the edge over gRPC), and /metrics, /healthz, /readyz on its admin port.
#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/config/config.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/tls_flags.h"
#include "common/http/http_client.h"
#include "common/http/http_server.h"
#include "common/log/log.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/pagerduty/executor.h"
#include "common/pagerduty/validate.h"
#include "common/service/periodic.h"
#include "common/service/service_runner.h"
#include "services/edge/audit_queue.h"
#include "services/edge/caches.h"
#include "services/edge/edge_server.h"
#include "services/edge/grpc_backends.h"
#include "services/edge/mcp_endpoint.h"
#include "services/edge/pagerduty_tool_runner.h"
#include "services/edge/session.h"
#include "services/edge/signin/authorization_server.h"
#include "services/edge/signin/grpc_signin_backends.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:7004", "gRPC listen address (health, reflection)");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9104", "admin HTTP (/metrics, /healthz, /readyz)");
ABSL_FLAG(std::string, http_address, "127.0.0.1:8080", "the MCP endpoint and OAuth callback");
ABSL_FLAG(std::string, tenant_address, "127.0.0.1:7001", "tenant service");
ABSL_FLAG(std::string, vault_address, "127.0.0.1:7002", "vault service");
ABSL_FLAG(std::string, governance_address, "127.0.0.1:7003", "governance service");
ABSL_FLAG(std::string, service_token_file, "", "file holding the edge's own service token");
ABSL_FLAG(std::string, session_key_file, "",
          "file of session signing keys, one per line, the current first (env BASTION_SESSION_KEY_FILE)");
ABSL_FLAG(std::string, allowed_origins, "", "comma-separated Origins browsers may call from");
ABSL_FLAG(std::string, allowed_hosts, "localhost,127.0.0.1,[::1]",
          "comma-separated Host names the MCP endpoint answers to (DNS-rebinding guard)");
ABSL_FLAG(std::string, pagerduty_api_url, "https://api.pagerduty.com", "PagerDuty REST API (US)");
ABSL_FLAG(std::string, pagerduty_eu_api_url, "https://api.eu.pagerduty.com", "PagerDuty REST API (EU)");
ABSL_FLAG(int, max_body_bytes, 1 << 20, "largest MCP request body; larger gets 413");
ABSL_FLAG(int, workers, 16, "threads handling MCP requests (backend and PagerDuty waits happen here)");
ABSL_FLAG(int, io_threads, 2, "HTTP I/O threads");
ABSL_FLAG(int, audit_queue_capacity, 10000, "audit events held while governance is unreachable");
ABSL_FLAG(double, tenant_requests_per_second, 200, "MCP requests per second per tenant");
ABSL_FLAG(double, user_requests_per_second, 20, "MCP requests per second per user");
ABSL_FLAG(std::string, user_requests_per_second_by_tenant, "",
          "per-user rates for particular tenants, overriding --user_requests_per_second: slug=rate,...");
ABSL_FLAG(double, credential_calls_per_minute, 900, "tool calls per minute per PagerDuty credential");
ABSL_FLAG(int, tenant_calls_in_flight, 0,
          "tool calls one tenant may run at once; 0 means half of --workers (at least 1)");
ABSL_FLAG(int, user_calls_in_flight, 4, "tool calls one user may run at once");
ABSL_FLAG(int, pagerduty_max_retry_wait_ms, 250,
          "most a tool call waits between PagerDuty retries on a worker; a longer wait (429 reset, "
          "repeated 5xx) is answered at once with the time to retry after");
ABSL_FLAG(bool, signin, false,
          "serve Bastion's OAuth authorization server so AI clients can sign in (docs/signin.md)");
ABSL_FLAG(std::string, public_url, "",
          "the edge's public base URL, e.g. https://bastion.example (required with --signin)");
ABSL_FLAG(bool, signin_allow_insecure_local, false,
          "local runs and tests only: accept http client ID metadata documents on loopback addresses");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

namespace bastion::edge {
namespace {

std::vector<std::string> SplitList(const std::string& s) {
  return absl::StrSplit(s, ',', absl::SkipWhitespace());
}

int Fail(absl::string_view what, const absl::Status& s) {
  log::Error(what, {{"error", s.message()}});
  return 1;
}

int Run() {
  log::Level level;
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) level = log::Level::kInfo;
  log::Init("edge", level);

  std::string service_token;
  if (!absl::GetFlag(FLAGS_service_token_file).empty()) {
    auto t = config::ReadSecretFile(absl::GetFlag(FLAGS_service_token_file));
    if (!t.ok()) return Fail("cannot read the service token", t.status());
    service_token = *t;
  }
  if (absl::GetFlag(FLAGS_session_key_file).empty()) {
    log::Error("--session_key_file is required: replicas share it to verify each other's sessions");
    return 2;
  }
  auto key_text = config::ReadSecretFile(absl::GetFlag(FLAGS_session_key_file));
  if (!key_text.ok()) return Fail("cannot read the session keys", key_text.status());
  std::vector<std::string> session_keys = absl::StrSplit(*key_text, '\n', absl::SkipWhitespace());
  if (auto s = pagerduty::PrecompileSchemas(); !s.ok()) return Fail("tool schemas do not compile", s);

  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  auto channel_credentials = grpcutil::ChannelCredentialsFromFlags();
  if (!channel_credentials.ok()) {
    return Fail("cannot set up TLS to the other services", channel_credentials.status());
  }
  GrpcBackendOptions backend{service_token, absl::Seconds(3)};
  auto tenant_channel = grpcutil::ServiceChannel(absl::GetFlag(FLAGS_tenant_address), *channel_credentials);
  auto vault_channel = grpcutil::ServiceChannel(absl::GetFlag(FLAGS_vault_address), *channel_credentials);
  GrpcTenantDirectory tenant_backend(tenant_channel, backend);
  GrpcPolicyClient governance(
      grpcutil::ServiceChannel(absl::GetFlag(FLAGS_governance_address), *channel_credentials), backend);
  GrpcCredentialClient vault(vault_channel, backend);

  CacheStats cache_stats(registry);
  CachingDirectory directory(tenant_backend, RealClock::Get(), cache_stats);
  CachingPolicy policy(governance, RealClock::Get(), cache_stats);
  CachingCredentials credentials(vault, RealClock::Get(), cache_stats);

  http::CurlHttpClient upstream_http;
  pagerduty::ExecutorOptions pd;
  pd.us_base_url = absl::GetFlag(FLAGS_pagerduty_api_url);
  pd.eu_base_url = absl::GetFlag(FLAGS_pagerduty_eu_api_url);
  pd.registry = &registry;
  pd.max_retry_wait = absl::Milliseconds(absl::GetFlag(FLAGS_pagerduty_max_retry_wait_ms));
  pagerduty::Executor pagerduty_executor(upstream_http, pd);
  PagerDutyToolRunner tools(pagerduty_executor);

  AuditQueue audit([&governance](const std::vector<AuditEvent>& batch) { return governance.RecordToolCalls(batch); },
                   static_cast<size_t>(absl::GetFlag(FLAGS_audit_queue_capacity)), 100, registry);
  SessionCodec sessions(session_keys, RealClock::Get(), absl::Hours(24));
  // Sessions ended here end on every replica: published to the tenant service, polled back.
  sessions.SetPublisher([&tenant_backend](const std::string& hash, absl::Time expires) {
    if (auto s = tenant_backend.Publish(hash, expires); !s.ok()) {
      log::Warn("could not share an ended session with other replicas", {{"error", s.message()}});
    }
  });
  Executor executor(absl::GetFlag(FLAGS_workers), 2000);
  // Open GET streams end with their session, here at once and elsewhere when the poll sees it;
  // declared before the poll so it outlives it.
  StreamHub hub(policy, tenant_backend, sessions, executor, RealClock::Get());
  EndedSessionSync session_sync(sessions, tenant_backend);
  Periodic session_poll(absl::Seconds(1), [&session_sync] {
    if (auto s = session_sync.Poll(); !s.ok()) {
      log::Debug("could not read ended sessions", {{"error", s.message()}});
    }
  });
  EdgeStats stats(registry);

  EndpointOptions options;
  options.allowed_origins = SplitList(absl::GetFlag(FLAGS_allowed_origins));
  for (auto& o : options.allowed_origins) o = absl::AsciiStrToLower(o);
  options.allowed_hosts = SplitList(absl::GetFlag(FLAGS_allowed_hosts));
  options.tenant_requests_per_second = absl::GetFlag(FLAGS_tenant_requests_per_second);
  options.user_requests_per_second = absl::GetFlag(FLAGS_user_requests_per_second);
  options.credential_calls_per_minute = absl::GetFlag(FLAGS_credential_calls_per_minute);
  // Half the workers by default: one tenant's slow calls can never hold them all.
  options.tenant_calls_in_flight = absl::GetFlag(FLAGS_tenant_calls_in_flight) > 0
                                       ? absl::GetFlag(FLAGS_tenant_calls_in_flight)
                                       : std::max(1, absl::GetFlag(FLAGS_workers) / 2);
  options.user_calls_in_flight = absl::GetFlag(FLAGS_user_calls_in_flight);
  for (const std::string& entry : SplitList(absl::GetFlag(FLAGS_user_requests_per_second_by_tenant))) {
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    double rate = 0;
    if (!IsRouteName(kv.first) || !absl::SimpleAtod(kv.second, &rate) || rate <= 0) {
      return Fail("bad --user_requests_per_second_by_tenant",
                  absl::InvalidArgumentError(absl::StrCat("'", entry, "' is not <tenant-slug>=<positive rate>")));
    }
    options.user_requests_per_second_by_tenant[kv.first] = rate;
  }
  McpEndpoint endpoint(options, directory, policy, credentials, tools, audit, sessions, RealClock::Get(), stats);

  governance.WatchPolicy([&policy, &hub](const std::string& tenant_id, int64_t version) {
    policy.Invalidate(tenant_id, version);
    hub.NotifyToolsChanged(tenant_id);
  });
  Periodic keepalive(absl::Seconds(25), [&hub] { hub.KeepAlive(); });
  // Streams of revoked tokens, disabled users and ended sessions close within this period.
  Periodic stream_checks(absl::Seconds(5), [&hub] { hub.Revalidate(); });

  std::string http_host;
  int http_port = 0;
  if (auto s = SplitHostPort(absl::GetFlag(FLAGS_http_address), &http_host, &http_port); !s.ok()) {
    return Fail("bad --http_address", s);
  }
  http::HttpServerOptions http_options;
  http_options.host = http_host;
  http_options.port = http_port;
  http_options.io_threads = absl::GetFlag(FLAGS_io_threads);
  http_options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  http::HttpServer mcp_server(http_options);
  RegisterEdgeRoutes(mcp_server, endpoint, credentials, executor, hub);

  // Sign-in for AI clients: off unless asked for, so static tokens stay the only way in until an
  // operator turns it on.
  std::unique_ptr<GrpcSignInBackend> signin_backend;
  std::unique_ptr<GrpcIdentityProviderBackend> idp_backend;
  std::unique_ptr<AccessTokenVerifier> access_tokens;
  std::unique_ptr<CurlClientMetadataFetcher> client_metadata;
  std::unique_ptr<AuthorizationServer> authorization_server;
  std::unique_ptr<Periodic> revocation_poll;
  if (absl::GetFlag(FLAGS_signin)) {
    std::string public_url = absl::GetFlag(FLAGS_public_url);
    while (absl::EndsWith(public_url, "/")) public_url.pop_back();
    if (!absl::StartsWith(public_url, "https://") && !absl::StartsWith(public_url, "http://")) {
      log::Error("--signin needs --public_url, the URL AI clients reach this edge at (https in production)");
      return 2;
    }
    signin_backend = std::make_unique<GrpcSignInBackend>(tenant_channel, backend);
    idp_backend = std::make_unique<GrpcIdentityProviderBackend>(vault_channel, backend);
    AccessTokenOptions token_options;
    token_options.public_url = public_url;
    access_tokens = std::make_unique<AccessTokenVerifier>(token_options, *signin_backend, *idp_backend,
                                                          RealClock::Get());
    ClientMetadataOptions metadata_options;
    metadata_options.allow_http_loopback = absl::GetFlag(FLAGS_signin_allow_insecure_local);
    metadata_options.allow_internal_addresses = absl::GetFlag(FLAGS_signin_allow_insecure_local);
    client_metadata = std::make_unique<CurlClientMetadataFetcher>(metadata_options);
    authorization_server = std::make_unique<AuthorizationServer>(
        AuthorizationServerOptions{public_url}, *signin_backend, *idp_backend, policy, *client_metadata,
        *access_tokens, RealClock::Get());
    endpoint.EnableSignIn(access_tokens.get());
    hub.EnableSignIn(access_tokens.get());
    RegisterSignInRoutes(mcp_server, *authorization_server, executor);
    revocation_poll = std::make_unique<Periodic>(absl::Seconds(1), [&access_tokens] {
      if (auto s = access_tokens->PollRevocations(); !s.ok()) {
        log::Debug("could not read revocations", {{"error", s.message()}});
      }
    });
  }

  ServiceRunnerOptions server_options{"edge", absl::GetFlag(FLAGS_grpc_address),
                                      absl::GetFlag(FLAGS_admin_address)};
  server_options.tls = grpcutil::ServerTlsFilesFromFlags();
  ServiceRunner server(server_options, registry);
  server.AddReadinessCheck("audit_queue", [&audit] { return audit.HasRoom(); });
  if (auto s = server.Start(); !s.ok()) return Fail("cannot start", s);
  if (auto s = mcp_server.Start(); !s.ok()) return Fail("cannot serve MCP", s);
  log::Info("MCP endpoint listening", {{"port", mcp_server.port()}});

  server.Wait();
  // Stop taking MCP requests, let the ones in flight finish, then deliver their audit events.
  mcp_server.Shutdown(absl::Seconds(10));
  stream_checks.Stop();
  executor.Shutdown();
  keepalive.Stop();
  session_poll.Stop();
  if (revocation_poll) revocation_poll->Stop();
  governance.Stop();
  audit.Drain(absl::Seconds(10));
  upstream_http.Shutdown();
  log::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace bastion::edge

int main(int argc, char** argv) {
  bastion::config::Parse(argc, argv, "bastion edge: the MCP endpoint for AI clients");
  return bastion::edge::Run();
}
