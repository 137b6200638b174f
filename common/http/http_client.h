// Outbound HTTP (PagerDuty REST, the OAuth token endpoint): an interface that callers take, so
// their tests can fake the outside world, and its libcurl implementation.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/headers.h"

namespace bastion::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;  // Often hold credentials: never log them.
  std::string body;
  absl::Duration timeout = absl::Seconds(10);  // For the whole exchange, connecting included.
  // A larger response body fails with ResourceExhausted; 0 keeps the client's own limit.
  size_t max_response_bytes = 0;
};

struct ClientResponse {
  int status = 0;
  Headers headers;  // Names lower-cased.
  std::string body;

  std::optional<absl::string_view> Header(absl::string_view name) const {
    return FindHeader(headers, name);
  }
};

class HttpClient {
 public:
  // Any HTTP status is a response; errors are for exchanges that did not complete:
  // DeadlineExceeded (timeout), Unavailable (connect or transport failure), InvalidArgument
  // (unusable request), ResourceExhausted (response too large), Cancelled (client shut down).
  using Callback = std::function<void(absl::StatusOr<ClientResponse>)>;

  virtual ~HttpClient() = default;
  virtual void Send(ClientRequest request, Callback done) = 0;

  // Blocks the calling thread until Send() completes: never call it on an I/O thread.
  absl::StatusOr<ClientResponse> SendSync(ClientRequest request);
};

struct CurlHttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  int max_in_flight = 64;  // More requests wait in a queue.
  size_t max_response_bytes = 16 << 20;
};

// One worker thread drives every transfer through one curl multi handle, which keeps a cache of
// open connections for reuse. Callbacks run on that worker thread: they must return quickly,
// must not block (SendSync included) and must not call Shutdown().
// Like libcurl, it resends an idempotent request (GET, PUT, DELETE, ...) whose reused connection
// closed before any answer: the usual cause is the server closing an idle connection. A POST,
// PATCH or other non-idempotent request always gets a new connection and so is sent once.
class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options = {});
  ~CurlHttpClient() override;  // Calls Shutdown().
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // After Shutdown(), runs `done` with Cancelled on the calling thread.
  void Send(ClientRequest request, Callback done) override;

  // Fails queued and in-flight requests with Cancelled and joins the worker. Idempotent.
  void Shutdown();

 private:
  struct Transfer;

  void Run();
  void Begin(std::unique_ptr<Transfer> transfer);
  int Reap();

  const CurlHttpClientOptions options_;
  CURLM* multi_;
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Transfer>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<CURL*, std::unique_ptr<Transfer>> active_;  // Worker thread only.
  std::thread worker_;
};

}  // namespace bastion::http
