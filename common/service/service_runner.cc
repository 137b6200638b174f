#include "common/service/service_runner.h"

#include <csignal>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log/log.h"
#include "common/metrics/text_serializer.h"

namespace bastion {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

}  // namespace

absl::Status SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "' must be host:port, e.g. 127.0.0.1:8080"));
  }
  *host = address.substr(0, colon);
  if (host->empty()) *host = "0.0.0.0";
  return absl::OkStatus();
}

ServiceRunner::ServiceRunner(ServiceRunnerOptions options, metrics::Registry& registry)
    : options_(std::move(options)), registry_(registry) {}

ServiceRunner::~ServiceRunner() { Shutdown(); }

void ServiceRunner::AddReadinessCheck(std::string name, std::function<bool()> check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

absl::Status ServiceRunner::Start() {
  // Certificates are checked before anything listens, so a bad file fails start-up cleanly.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      grpcutil::MakeServerCredentials(options_.tls);
  if (!credentials.ok()) return credentials.status();
  std::string admin_host;
  int admin_port = 0;
  if (absl::Status s = SplitHostPort(options_.admin_address, &admin_host, &admin_port); !s.ok()) {
    return s;
  }
  // Each readiness check is also a gauge, so alerts see a service that is up but not ready
  // (its database unreachable) without waiting for traffic to fail.
  const std::string& service = options_.name;
  auto& ready = metrics::BuildGauge()
                    .Name(absl::StrCat("bastion_", service, "_ready"))
                    .Help("1 while the named readiness check passes (what /readyz reports), else 0.")
                    .Register(registry_);
  for (auto& [name, check] : checks_) ready_gauges_.emplace_back(&ready.Add({{"check", name}}), check);
  admin_ = std::make_unique<http::AdminServer>(http::AdminServerOptions{admin_host, admin_port}, [this] {
    for (auto& [gauge, check] : ready_gauges_) gauge->Set(check() ? 1 : 0);
    return metrics::SerializeText(registry_);
  });
  for (auto& [name, check] : checks_) admin_->AddReadinessCheck(name, check);
  if (absl::Status s = admin_->Start(); !s.ok()) return s;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.grpc_address, *credentials, &grpc_port_);
  for (grpc::Service* s : services_) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options_.grpc_address));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  log::Info("service started",
            {{"grpc_port", grpc_port_}, {"admin_port", admin_->port()}, {"grpc_tls", options_.tls.mode()}});
  return absl::OkStatus();
}

void ServiceRunner::RequestStop() { g_stop = true; }

void ServiceRunner::Wait() {
  while (!g_stop.load()) absl::SleepFor(absl::Milliseconds(100));
  log::Info("shutting down", {{"drain_ms", static_cast<long>(absl::ToInt64Milliseconds(options_.drain))}});
  Shutdown();
}

void ServiceRunner::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_) {
    // Health flips first so load balancers stop sending, then in-flight calls get the drain time.
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.drain));
  }
  if (admin_) admin_->Shutdown(absl::Seconds(1));
}

}  // namespace bastion
