// The simulated PagerDuty REST API: routes a request to its operation, enforces what PagerDuty
// enforces per operation (permissions, OAuth scopes, From header, paging limits) and answers
// from the in-memory account with PagerDuty-shaped JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/pagerduty_sim/account.h"

namespace bastion::pagerduty_sim {

// Who is calling, as the Authorization header established.
struct Caller {
  bool account_level = true;  // A REST API key; false for an OAuth (user-level) token.
  bool read_only = false;
  std::string user_id;  // Set for user-level tokens.
  std::vector<std::string> scopes;  // OAuth scopes; "read" and "write" cover every operation.
};

struct ApiRequest {
  std::string method;
  std::string path;
  std::string query;  // Raw, without '?'.
  std::string body;
  std::optional<std::string> from;  // The From header.
  Caller caller;
};

struct ApiReply {
  int status = 200;
  std::string body;  // Empty for 204.
};

// One operation the simulator serves.
struct Operation {
  std::string method;
  std::string path;     // OpenAPI template, e.g. "/incidents/{id}/notes"
  bool writes = false;  // Refused to read-only API keys.
  std::string scope;    // OAuth scope PagerDuty requires; empty when none.
  bool from_required = false;
};

// PagerDuty's error body: {"error":{"message","code","errors"}}.
ApiReply ErrorReply(int status, int code, absl::string_view message,
                    std::vector<std::string> errors = {});

namespace internal {
struct Call;
}

class RestApi {
 public:
  RestApi(uint64_t seed, std::string subdomain, std::function<absl::Time()> now);

  ApiReply Handle(const ApiRequest& request);

  // Every operation served, for tests that check coverage.
  std::vector<Operation> Operations() const;

  // Copies of stored objects (private "_" members included), for test assertions.
  std::optional<Object> Find(absl::string_view collection, absl::string_view id);
  std::vector<Object> Items(absl::string_view collection);
  // The id of the user whose email this is.
  std::optional<std::string> UserByEmail(absl::string_view email);
  bool UserExists(absl::string_view id);

 private:
  using Body = std::function<ApiReply(internal::Call&)>;
  struct Route {
    Operation op;
    std::vector<std::string> segments;
    Body body;
  };

  void AddRoutes();
  void Add(const char* method, const char* path, bool writes, const char* scope, bool from,
           Body body);

  const std::function<absl::Time()> now_;
  std::vector<Route> routes_;  // Immutable after construction.
  absl::Mutex mu_;
  Account account_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::pagerduty_sim
