#include "common/http/http_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"
#include "gtest/gtest.h"

namespace bastion::http {
namespace {

// Only so that a broken client fails a test instead of hanging it.
constexpr absl::Duration kSafetyNet = absl::Seconds(20);

// Requests a test holds unanswered.
struct Parked {
  Handler Park() {
    return [this](Request, std::shared_ptr<Responder> responder) {
      absl::MutexLock lock(&mu);
      responders.push_back(std::move(responder));
    };
  }
  void WaitForOne() {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(this, &Parked::Any), kSafetyNet);
  }
  bool Any() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !responders.empty(); }
  absl::Mutex mu;
  std::vector<std::shared_ptr<Responder>> responders ABSL_GUARDED_BY(mu);
};

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Route("*", "/echo", [](Request r, std::shared_ptr<Responder> responder) {
      responder->Respond(
          {201,
           {{"X-Echo-Method", r.method},
            {"X-Echo-Query", r.query},
            {"X-Echo-Custom", std::string(r.Header("x-custom").value_or("missing"))}},
           r.body});
    });
    server_.Route("GET", "/big", [](Request, std::shared_ptr<Responder> responder) {
      responder->Respond({200, {}, std::string(4096, 'b')});
    });
    server_.Route("GET", "/never", parked_.Park());
    server_.Route("*", "/drop", [this](Request, std::shared_ptr<Responder> responder) {
      ++dropped_;
      responder->Abort();
    });
    ASSERT_TRUE(server_.Start().ok());
  }

  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", server_.port(), path);
  }

  Parked parked_;                // Outlives the server, whose requests it holds.
  std::atomic<int> dropped_{0};  // Requests that reached /drop.
  HttpServer server_;
};

TEST_F(CurlHttpClientTest, PostRoundTripsHeadersAndBody) {
  CurlHttpClient client;
  ClientRequest request;
  request.method = "POST";
  request.url = Url("/echo?limit=5");
  request.headers = {{"X-Custom", "token-free value"}, {"Content-Type", "application/json"}};
  request.body = R"({"incident":"P123"})";

  auto response = client.SendSync(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"incident":"P123"})");
  EXPECT_EQ(response->Header("x-echo-method"), "POST");
  EXPECT_EQ(response->Header("x-echo-query"), "limit=5");
  EXPECT_EQ(response->Header("x-echo-custom"), "token-free value");
  for (const auto& [name, value] : response->headers) {
    EXPECT_EQ(name, absl::AsciiStrToLower(name));
  }
}

TEST_F(CurlHttpClientTest, GetAndDeleteSendTheirMethod) {
  CurlHttpClient client;
  for (const std::string method : {"GET", "DELETE", "PUT"}) {
    ClientRequest request;
    request.method = method;
    request.url = Url("/echo");
    auto response = client.SendSync(request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->Header("x-echo-method"), method);
    EXPECT_EQ(response->body, "");
  }
}

TEST_F(CurlHttpClientTest, SlowServerIsDeadlineExceeded) {
  CurlHttpClient client;
  ClientRequest request;
  request.url = Url("/never");
  request.timeout = absl::Milliseconds(200);
  EXPECT_EQ(client.SendSync(request).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(CurlHttpClientTest, RefusedConnectionIsUnavailable) {
  int closed_port;
  {
    HttpServer gone;
    ASSERT_TRUE(gone.Start().ok());
    closed_port = gone.port();
  }
  CurlHttpClient client;
  ClientRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", closed_port, "/");
  EXPECT_EQ(client.SendSync(request).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(CurlHttpClientTest, ConnectionClosedWithoutAResponseIsUnavailable) {
  CurlHttpClient client;
  ClientRequest request;
  request.url = Url("/drop");
  absl::Status status = client.SendSync(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  // libcurl's wording for CURLE_GOT_NOTHING ("Empty reply from server" on curl's command line).
  EXPECT_TRUE(absl::StrContains(status.message(), "Server returned nothing")) << status;
}

// The server may have acted on a request whose answer was lost, so a POST must not be sent
// again behind the caller's back. A GET in the same spot is, which shows the spot is the one
// where libcurl resends.
TEST_F(CurlHttpClientTest, DroppedPostOnAKeptAliveConnectionIsNotSentAgain) {
  CurlHttpClient client;
  ClientRequest warm_up;
  warm_up.url = Url("/echo");
  ASSERT_TRUE(client.SendSync(warm_up).ok());
  ASSERT_EQ(server_.connections_accepted(), 1);  // The next request can reuse this connection.

  ClientRequest post;
  post.method = "POST";
  post.url = Url("/drop");
  post.body = R"({"incident":"new"})";
  EXPECT_EQ(client.SendSync(post).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(dropped_.load(), 1);

  ASSERT_TRUE(client.SendSync(warm_up).ok());
  dropped_ = 0;
  ClientRequest get;
  get.url = Url("/drop");
  EXPECT_EQ(client.SendSync(get).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(dropped_.load(), 2);
}

TEST_F(CurlHttpClientTest, BadRequestsAreInvalidArgument) {
  CurlHttpClient client;
  ClientRequest bad_header;
  bad_header.url = Url("/echo");
  bad_header.headers = {{"X-Custom", "a\r\nInjected: yes"}};
  EXPECT_EQ(client.SendSync(bad_header).status().code(), absl::StatusCode::kInvalidArgument);

  ClientRequest bad_scheme;
  bad_scheme.url = "file:///etc/passwd";
  EXPECT_EQ(client.SendSync(bad_scheme).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CurlHttpClientTest, OversizedResponseIsResourceExhausted) {
  CurlHttpClientOptions options;
  options.max_response_bytes = 1024;
  CurlHttpClient client(options);
  ClientRequest request;
  request.url = Url("/big");
  EXPECT_EQ(client.SendSync(request).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CurlHttpClientTest, ARequestCanLowerTheResponseLimitButNotRaiseIt) {
  CurlHttpClientOptions options;
  options.max_response_bytes = 1024;
  CurlHttpClient client(options);
  ClientRequest small;
  small.method = "POST";
  small.url = Url("/echo");
  small.body = "a body of 26 bytes, echoed";
  small.max_response_bytes = 4;
  EXPECT_EQ(client.SendSync(small).status().code(), absl::StatusCode::kResourceExhausted);
  small.max_response_bytes = 64 * 1024;
  EXPECT_TRUE(client.SendSync(small).ok());
  ClientRequest big;
  big.url = Url("/big");
  big.max_response_bytes = 1 << 30;  // the client's own limit still holds
  EXPECT_EQ(client.SendSync(big).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CurlHttpClientTest, HundredConcurrentRequestsAllComplete) {
  CurlHttpClientOptions options;
  options.max_in_flight = 16;  // The rest wait in the queue.
  CurlHttpClient client(options);
  absl::Mutex mu;
  std::vector<std::string> bodies;
  int failures = 0;
  for (int i = 0; i < 100; ++i) {
    ClientRequest request;
    request.method = "POST";
    request.url = Url("/echo");
    request.body = absl::StrCat("request ", i);
    client.Send(request, [&](absl::StatusOr<ClientResponse> response) {
      absl::MutexLock lock(&mu);
      if (response.ok()) {
        bodies.push_back(response->body);
      } else {
        ++failures;
      }
    });
  }
  absl::MutexLock lock(&mu);
  auto all_done = [&] { return bodies.size() + failures == 100; };
  mu.AwaitWithTimeout(absl::Condition(&all_done), kSafetyNet);
  EXPECT_EQ(failures, 0);
  ASSERT_EQ(bodies.size(), 100u);
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(std::unique(bodies.begin(), bodies.end()), bodies.end());
}

TEST_F(CurlHttpClientTest, SequentialRequestsReuseTheConnection) {
  CurlHttpClient client;
  for (int i = 0; i < 10; ++i) {
    ClientRequest request;
    request.url = Url("/echo");
    auto response = client.SendSync(request);
    ASSERT_TRUE(response.ok()) << response.status();
  }
  EXPECT_LT(server_.connections_accepted(), 10);
}

TEST_F(CurlHttpClientTest, ShutdownCancelsRequestsInFlight) {
  CurlHttpClient client;
  absl::Mutex mu;
  std::optional<absl::Status> outcome;
  ClientRequest request;
  request.url = Url("/never");
  client.Send(request, [&](absl::StatusOr<ClientResponse> response) {
    absl::MutexLock lock(&mu);
    outcome = response.status();
  });
  parked_.WaitForOne();  // The request reached the server and is waiting there.

  client.Shutdown();
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->code(), absl::StatusCode::kCancelled);

  // Later requests fail at once rather than hang.
  EXPECT_EQ(client.SendSync(request).status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace bastion::http
