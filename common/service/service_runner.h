// Runs one Bastion service process: its gRPC server (grpc.health.v1 and server reflection;
// plaintext, TLS or mutual TLS), its admin HTTP port (/metrics, /healthz, /readyz), and a
// graceful shutdown on SIGTERM or SIGINT that stops taking calls and drains the ones in flight.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/grpc/tls.h"
#include "common/http/admin_server.h"
#include "common/metrics/registry.h"

namespace bastion {

struct ServiceRunnerOptions {
  std::string name;           // "tenant", "vault", ...
  std::string grpc_address;   // host:port; port 0 picks a free one
  std::string admin_address;  // host:port
  absl::Duration drain = absl::Seconds(10);
  // Plaintext unless set (grpcutil::ServerTlsFilesFromFlags in a binary); the admin port stays
  // plain HTTP either way, so probes and Prometheus need no certificates.
  grpcutil::ServerTlsFiles tls;
};

class ServiceRunner {
 public:
  ServiceRunner(ServiceRunnerOptions options, metrics::Registry& registry);
  ~ServiceRunner();

  void AddService(grpc::Service* service) { services_.push_back(service); }
  void AddReadinessCheck(std::string name, std::function<bool()> check);

  // Binds both ports and starts serving; health reports SERVING.
  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int admin_port() const { return admin_ ? admin_->port() : 0; }

  // Blocks until SIGTERM/SIGINT (or RequestStop), then shuts down gracefully.
  void Wait();
  // Makes Wait() return as if a signal came (tests, fatal errors).
  static void RequestStop();
  void Shutdown();

 private:
  ServiceRunnerOptions options_;
  metrics::Registry& registry_;
  std::vector<grpc::Service*> services_;
  std::vector<std::pair<std::string, std::function<bool()>>> checks_;
  std::vector<std::pair<metrics::Gauge*, std::function<bool()>>> ready_gauges_;
  std::unique_ptr<http::AdminServer> admin_;
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
  bool shut_down_ = false;
};

// Splits "host:port" (port may be 0). InvalidArgument names the flag value's problem.
absl::Status SplitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace bastion
