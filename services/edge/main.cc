// The edge binary: wiring only. Serves grpc.health.v1 and reflection on its gRPC port (nothing
// calls the edge over gRPC) and its admin port; the MCP endpoint is added by the edge issue.
#include "absl/flags/flag.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/service/service_runner.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:7004", "gRPC listen address (health, reflection)");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9104", "admin HTTP (/metrics, /healthz, /readyz)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

int main(int argc, char** argv) {
  bastion::config::Parse(argc, argv, "bastion edge: the MCP endpoint for AI clients");
  bastion::log::Level level;
  if (!bastion::log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) level = bastion::log::Level::kInfo;
  bastion::log::Init("edge", level);
  bastion::metrics::Registry registry;
  bastion::metrics::RegisterProcessMetrics(registry);
  bastion::ServiceRunner server(
      {"edge", absl::GetFlag(FLAGS_grpc_address), absl::GetFlag(FLAGS_admin_address)}, registry);
  if (absl::Status s = server.Start(); !s.ok()) {
    bastion::log::Error("cannot start", {{"error", s.message()}});
    return 1;
  }
  server.Wait();
  return 0;
}
