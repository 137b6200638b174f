#include "common/http/admin_server.h"

#include <boost/json.hpp>

namespace bastion::http {

namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

HttpServerOptions ServerOptions(const AdminServerOptions& options) {
  HttpServerOptions out;
  out.host = options.host;
  out.port = options.port;
  out.io_threads = 1;  // Probes and scrapes are few and cheap.
  return out;
}

}  // namespace

AdminServer::AdminServer(AdminServerOptions options, std::function<std::string()> metrics)
    : metrics_(std::move(metrics)), server_(ServerOptions(options)) {
  server_.Route("GET", "/healthz", [](Request, std::shared_ptr<Responder> responder) {
    responder->Respond({200, {{"Content-Type", "text/plain"}}, "ok"});
  });
  server_.Route("GET", "/readyz", [this](Request, std::shared_ptr<Responder> responder) {
    responder->Respond(Ready());
  });
  server_.Route("GET", "/metrics", [this](Request, std::shared_ptr<Responder> responder) {
    responder->Respond({200, {{"Content-Type", kMetricsContentType}}, metrics_()});
  });
}

void AdminServer::AddReadinessCheck(std::string name, std::function<bool()> check) {
  absl::MutexLock lock(&mu_);
  checks_.emplace_back(std::move(name), std::move(check));
}

Response AdminServer::Ready() {
  std::vector<std::pair<std::string, std::function<bool()>>> checks;
  {
    absl::MutexLock lock(&mu_);
    checks = checks_;
  }
  for (const auto& [name, check] : checks) {
    if (!check()) {
      boost::json::object body{{"status", "not ready"}, {"failed_check", name}};
      return JsonResponse(503, boost::json::serialize(body));
    }
  }
  return JsonResponse(200, R"({"status":"ready"})");
}

}  // namespace bastion::http
