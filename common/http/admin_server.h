// The admin listener every Bastion service runs: /healthz (liveness), /readyz (named readiness
// checks) and /metrics (Prometheus text from a callback the service wires to its registry).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"

namespace bastion::http {

struct AdminServerOptions {
  std::string host = "0.0.0.0";
  int port = 0;
};

class AdminServer {
 public:
  // `metrics` renders the Prometheus text exposition. It runs on the I/O thread, so it must only
  // serialize what is in memory.
  AdminServer(AdminServerOptions options, std::function<std::string()> metrics);

  // /readyz answers 200 only while every check returns true. Checks run on the I/O thread on each
  // probe, so they must read cached state (e.g. an atomic a background task updates), not dial
  // a database. Thread-safe; may be called after Start().
  void AddReadinessCheck(std::string name, std::function<bool()> check);

  absl::Status Start() { return server_.Start(); }
  int port() const { return server_.port(); }
  void Shutdown(absl::Duration drain) { server_.Shutdown(drain); }

 private:
  Response Ready();

  std::function<std::string()> metrics_;
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::function<bool()>>> checks_ ABSL_GUARDED_BY(mu_);
  HttpServer server_;  // Last: its I/O threads use the members above until it is destroyed.
};

}  // namespace bastion::http
