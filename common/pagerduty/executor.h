// Runs one catalog tool against PagerDuty's REST API: validates the arguments, sends the built
// requests with PagerDuty's headers, follows pages, retries what is safe to retry, runs the
// composite tools' small protocols and turns what PagerDuty answered into an Outcome.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"

namespace bastion::pagerduty {

// Who the requests act as.
struct Credential {
  std::string authorization;  // The Authorization header value: a secret, never logged or shown.
  std::string from_email;     // The acting user's email for `From`; may be empty.
  std::string region = "us";  // "us" or "eu"; empty means us.
};

struct ExecutorOptions {
  std::string us_base_url = "https://api.pagerduty.com";
  std::string eu_base_url = "https://api.eu.pagerduty.com";
  // Ceiling on list items one call collects, whatever the tool's limit argument says.
  int max_records = 1000;
  absl::Duration request_timeout = absl::Seconds(15);  // One HTTP exchange.
  absl::Duration total_budget = absl::Seconds(60);     // One tool call: every request and wait.
  int max_retries = 3;                                 // Per request, after the first attempt.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(20);
  // Most one tool call may spend waiting between retries, all its requests together. The wait
  // happens on an edge worker thread, so it is kept short: a wait that would go past it (a 429
  // whose window resets in seconds, repeated 5xx) is not waited out but answered at once as
  // kUnavailable with the time after which to retry (issue 11, defect 3: slow retries of one
  // tenant held every worker). Run is synchronous from the MCP endpoint down to the paging and
  // composite protocols; resuming a call on a timer would make all of that resumable, while
  // this bound gives the same guarantee (no worker parked in a sleep) and leaves the decision
  // to wait to the model, which knows whether the call is still worth making.
  absl::Duration max_retry_wait = absl::Milliseconds(250);
  // Where the edge counts PagerDuty's answers, every retry included, by status class:
  // bastion_edge_upstream_responses_total{class="2xx|3xx|4xx|429|5xx|transport_error|other"}.
  // Null counts nothing. Must outlive the executor.
  metrics::Registry* registry = nullptr;
};

// How a tool call ended. The edge maps it onto its own ToolOutcome one to one.
struct Outcome {
  enum class Kind {
    kOk,
    kInvalidArguments,    // Nothing was sent; the message names the field.
    kUpstreamError,       // PagerDuty refused the request (4xx); its message and code are kept.
    kCredentialRejected,  // 401: the credential is invalid or expired.
    kPermissionMissing,   // 403, or a credential that cannot do this kind of call at all.
    kUnavailable,         // Network errors, 5xx, rate limits past the retry budget.
  };
  Kind kind = Kind::kOk;
  boost::json::value result;  // kOk: the tool's result; kUpstreamError: PagerDuty's error body.
  std::string message;        // Otherwise: for the model to read. Never holds the credential.
  int upstream_status = 0;    // Last HTTP status PagerDuty answered, 0 if none.
  int requests_sent = 0;      // HTTP exchanges attempted, retries included.
};

std::string_view OutcomeKindName(Outcome::Kind kind);

// Waits between retries; tests substitute one that does not really sleep.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void Sleep(absl::Duration duration) = 0;
};

class RealSleeper : public Sleeper {
 public:
  void Sleep(absl::Duration duration) override;
  static RealSleeper& Get();
};

// Thread-safe: Run keeps its state on the stack, so many calls may run at once. Run blocks on
// HTTP (HttpClient::SendSync): call it from a worker thread, never an I/O thread.
class Executor {
 public:
  // `http`, `clock` and `sleeper` must outlive the executor.
  Executor(http::HttpClient& http, ExecutorOptions options, const Clock& clock = RealClock::Get(),
           Sleeper& sleeper = RealSleeper::Get());

  // `arguments` is the MCP call's arguments object (null counts as {}).
  Outcome Run(std::string_view tool, const boost::json::value& arguments,
              const Credential& credential) const;

  const ExecutorOptions& options() const { return options_; }

 private:
  http::HttpClient& http_;
  const ExecutorOptions options_;
  const Clock& clock_;
  Sleeper& sleeper_;
  metrics::Family<metrics::Counter>* upstream_responses_ = nullptr;  // null: not counted
};

}  // namespace bastion::pagerduty
