// A fake PagerDuty (REST API v2 + /v3 schedules + identity.pagerduty.com OAuth) on Bastion's HTTP
// stack, for tests and deploy/local: in-memory account, PagerDuty's auth rules, fault injection,
// and a record of every request received. Start one in-process on port 0 or run pagerduty_sim.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"
#include "common/time/clock.h"
#include "tests/pagerduty_sim/account.h"
#include "tests/pagerduty_sim/oauth_server.h"
#include "tests/pagerduty_sim/rest_api.h"

namespace bastion::pagerduty_sim {

enum class KeyAccess { kFull, kReadOnly };

struct SimulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  uint64_t seed = 1;
  std::map<std::string, KeyAccess> api_keys;         // REST API keys (account-level).
  std::map<std::string, std::string> oauth_clients;  // client_id -> client_secret
  // Token expiry and "now" in responses; null means real time. Must outlive the simulator.
  const Clock* clock = nullptr;
  absl::Duration access_token_lifetime = absl::Hours(1);
  std::string subdomain = "acme";
  std::string default_oauth_user = seed::kAdminUserId;  // Who consents by default.
  int io_threads = 2;
};

// Failures to inject. Counters apply to the next N requests whose path starts with
// path_prefix (every API and OAuth request when empty); control endpoints are never affected.
struct Faults {
  int rate_limited = 0;  // Answered 429 with ratelimit-* headers.
  int rate_limit_reset_seconds = 1;
  int server_errors = 0;  // Answered with server_error_status.
  int server_error_status = 500;
  // Served (a POST still creates), then the connection is closed with no response at all:
  // the lost answer that makes resending a non-idempotent request unsafe.
  int drop_connections = 0;
  absl::Duration latency = absl::ZeroDuration();  // Added before every matching response.
  std::string path_prefix;
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string query;
  // Accept, Content-Type, From, User-Agent as sent; Authorization reduced to its scheme
  // ("Token", "Bearer", or "malformed").
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // OAuth token requests have their secrets replaced by "REDACTED".
  int status = 0;    // 0 while the response is pending, and for ever when it was dropped.
  bool dropped = false;  // A drop_connections fault closed the connection instead of answering.

  std::optional<std::string> Header(absl::string_view name) const;
};

// Parses "key:full,other:read_only" (the --api_keys flag).
absl::StatusOr<std::map<std::string, KeyAccess>> ParseApiKeys(absl::string_view spec);
// Parses "client_id:secret,..." (the --oauth_clients flag).
absl::StatusOr<std::map<std::string, std::string>> ParseOAuthClients(absl::string_view spec);

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);
  ~Simulator();  // Calls Shutdown().
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  absl::Status Start();
  void Shutdown();
  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>", for both API and OAuth URLs.

  void SetFaults(Faults faults);
  Faults faults();  // What is left of them.

  // The simulator's clock: the injected clock (or real time) plus everything advanced here.
  absl::Time Now();
  void AdvanceClock(absl::Duration d);

  int64_t TokenRequests(absl::string_view grant_type);
  void RevokeOAuthUser(absl::string_view user_id);
  OAuthTokens IssueOAuthTokens(absl::string_view client_id, absl::string_view user_id,
                               absl::string_view scope = "");

  std::vector<RecordedRequest> requests();
  void ClearRequests();

  // The account's objects, for assertions on what the API changed.
  RestApi& api() { return api_; }

 private:
  class Delayer;

  void Dispatch(http::Request request, std::shared_ptr<http::Responder> responder);
  http::Response Serve(const http::Request& request);
  http::Response ServeRest(const http::Request& request);
  http::Response Control(const http::Request& request);
  // Without a response, drops the connection instead of answering.
  void Finish(size_t record, std::shared_ptr<http::Responder> responder,
              std::optional<http::Response> response, absl::Duration latency);

  const SimulatorOptions options_;
  // Before api_ and oauth_: their constructors already read the clock.
  absl::Mutex mu_;
  absl::Duration clock_offset_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  Faults faults_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ ABSL_GUARDED_BY(mu_);
  size_t requests_dropped_ ABSL_GUARDED_BY(mu_) = 0;  // Oldest records let go to bound memory.
  RestApi api_;
  OAuthServer oauth_;
  std::unique_ptr<Delayer> delayer_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace bastion::pagerduty_sim
