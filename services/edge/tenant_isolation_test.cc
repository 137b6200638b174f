// Issue 11, defect 3: one tenant's slow tool calls must not stall another tenant's. The edge runs
// over real HTTP with as many workers as in production; tenant A's calls hang in a fake upstream
// until the test lets them go, and tenant B's call must still be answered meanwhile.
#include <curl/curl.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/edge/edge_server.h"
#include "services/edge/testing/fakes.h"

namespace bastion::edge {
namespace {

using ::testing::HasSubstr;

constexpr int kWorkers = 16;  // the edge's --workers default

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string headers;
  std::string body;
};

Reply Post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
           absl::Duration timeout) {
  CURL* c = curl_easy_init();
  Reply r;
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  return r;
}

// Each tenant gets its own PagerDuty credential, so the upstream can tell them apart.
class PerTenantCredentials : public FakeCredentials {
 public:
  absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const Identity& who,
                                                           const std::string&) override {
    return UpstreamCredential{"Token token=" + who.tenant_id, "actor@example.com", "us", std::nullopt};
  }
};

// A PagerDuty that never answers tenant A until released, and answers everyone else at once.
class HangingUpstream : public FakeTools {
 public:
  ToolOutcome Run(const std::string& tool, const boost::json::object&,
                  const UpstreamCredential& credential) override {
    if (credential.authorization == "Token token=t-a") {
      {
        absl::MutexLock lock(&mu_);
        ++hanging_;
      }
      release_.WaitForNotification();
      absl::MutexLock lock(&mu_);
      --hanging_;
    }
    return ToolOutcome{ToolOutcome::Kind::kOk, boost::json::object{{"tool", tool}}, "", 200};
  }
  // True once exactly `count` calls of tenant A are hanging; false at the deadline.
  bool AwaitHanging(int count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    target_ = count;
    return mu_.AwaitWithTimeout(absl::Condition(this, &HangingUpstream::Reached), timeout);
  }
  int hanging() {
    absl::MutexLock lock(&mu_);
    return hanging_;
  }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  bool Reached() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return hanging_ == target_; }

  absl::Mutex mu_;
  int hanging_ ABSL_GUARDED_BY(mu_) = 0;
  int target_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification release_;
};

class TenantIsolationTest : public ::testing::Test {
 protected:
  TenantIsolationTest()
      : sessions_({"k"}, RealClock::Get(), absl::Hours(1)),
        stats_(registry_),
        endpoint_(Options(), directory_, policy_, credentials_, upstream_, audit_, sessions_,
                  RealClock::Get(), stats_),
        executor_(kWorkers, 2000),
        hub_(policy_, directory_, sessions_, executor_, RealClock::Get()),
        server_(http::HttpServerOptions{"127.0.0.1", 0, 2, 64 * 1024}) {
    for (int i = 0; i < 4; ++i) AddUser("alpha", "t-a", i);
    AddUser("bravo", "t-b", 0);
    RegisterEdgeRoutes(server_, endpoint_, credentials_, executor_, hub_);
    EXPECT_TRUE(server_.Start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_.port()) + "/mcp/";
  }
  ~TenantIsolationTest() override {
    upstream_.Release();
    server_.Shutdown(absl::Seconds(5));
    executor_.Shutdown();
  }

  static EndpointOptions Options() {
    EndpointOptions options;
    options.tenant_calls_in_flight = kWorkers / 2;  // what main.cc sets by default
    options.user_calls_in_flight = 4;
    return options;
  }

  void AddUser(const std::string& tenant, const std::string& tenant_id, int i) {
    const std::string user = tenant + std::to_string(i);
    directory_.AddToken("bst_" + user, Identity{tenant_id, tenant, "u-" + user, user + "@example.com",
                                                {}, "personal", "k-" + user});
    policy_.Allow("u-" + user, "list_incidents");
  }

  std::vector<std::string> Headers(const std::string& user, const std::string& session = "") {
    std::vector<std::string> h = {"Authorization: Bearer bst_" + user,
                                  "Accept: application/json, text/event-stream",
                                  "Content-Type: application/json"};
    if (!session.empty()) h.push_back("MCP-Session-Id: " + session);
    return h;
  }

  std::string Initialize(const std::string& tenant, const std::string& user) {
    Reply r = Post(url_ + tenant + "/pagerduty", Headers(user),
                   R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})",
                   absl::Seconds(10));
    EXPECT_EQ(r.status, 200) << r.body;
    std::string lower = r.headers;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    const std::string marker = "mcp-session-id: ";
    const size_t at = lower.find(marker);
    if (at == std::string::npos) return "";
    const size_t end = r.headers.find("\r\n", at);
    return r.headers.substr(at + marker.size(), end - at - marker.size());
  }

  Reply CallTool(const std::string& tenant, const std::string& user, const std::string& session,
                 absl::Duration timeout) {
    return Post(url_ + tenant + "/pagerduty", Headers(user, session),
                R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_incidents","arguments":{}}})",
                timeout);
  }

  // True once `count` of the tenant's calls were audited as rate_limited; false at the deadline.
  bool AwaitRateLimited(const std::string& tenant_id, int count, absl::Duration timeout) {
    struct Want {
      FakeAudit* audit;
      std::string tenant_id;
      int count;
    } want{&audit_, tenant_id, count};
    absl::MutexLock lock(&audit_.mu);
    return audit_.mu.AwaitWithTimeout(
        absl::Condition(
            +[](Want* w) {
              int seen = 0;
              for (const AuditEvent& e : w->audit->events) {
                seen += e.tenant_id == w->tenant_id && e.outcome == "rate_limited";
              }
              return seen == w->count;
            },
            &want),
        timeout);
  }

  FakeDirectory directory_;
  FakePolicy policy_;
  PerTenantCredentials credentials_;
  HangingUpstream upstream_;
  FakeAudit audit_;
  SessionCodec sessions_;
  metrics::Registry registry_;
  EdgeStats stats_;
  McpEndpoint endpoint_;
  Executor executor_;
  StreamHub hub_;
  http::HttpServer server_;
  std::string url_;
};

TEST_F(TenantIsolationTest, OneTenantsHangingCallsLeaveAnotherTenantAnswered) {
  std::vector<std::string> a_sessions;
  for (int i = 0; i < 4; ++i) a_sessions.push_back(Initialize("alpha", "alpha" + std::to_string(i)));
  const std::string b_session = Initialize("bravo", "bravo0");

  // 30 concurrent calls from tenant A (as in the issue), more than the edge has workers.
  constexpr int kCalls = 30;
  std::vector<Reply> a_replies(kCalls);
  std::vector<std::thread> a_clients;
  // Whatever fails below, A's calls are let go and their clients joined.
  absl::Cleanup join_clients = [&] {
    upstream_.Release();
    for (std::thread& client : a_clients) {
      if (client.joinable()) client.join();
    }
  };
  for (int i = 0; i < kCalls; ++i) {
    a_clients.emplace_back([&, i] {
      const std::string user = "alpha" + std::to_string(i % 4);
      a_replies[i] = CallTool("alpha", user, a_sessions[i % 4], absl::Seconds(120));
    });
  }

  // Tenant A holds as many workers as its limit allows; the rest of its calls are refused at once.
  ASSERT_TRUE(upstream_.AwaitHanging(kWorkers / 2, absl::Seconds(60)));
  ASSERT_TRUE(AwaitRateLimited("t-a", kCalls - kWorkers / 2, absl::Seconds(60)));

  // Tenant B is answered normally while A's calls are still hanging.
  const Reply b = CallTool("bravo", "bravo0", b_session, absl::Seconds(30));
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_THAT(b.body, HasSubstr(R"("isError":false)"));
  EXPECT_EQ(upstream_.hanging(), kWorkers / 2) << "A's calls were still in flight";

  std::move(join_clients).Invoke();
  int answered = 0, refused = 0;
  for (const Reply& r : a_replies) {
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.body.find(R"("isError":false)") != std::string::npos) ++answered;
    if (r.body.find("tool calls running at once") != std::string::npos) ++refused;
  }
  EXPECT_EQ(answered, kWorkers / 2);
  EXPECT_EQ(refused, kCalls - kWorkers / 2);
}

}  // namespace
}  // namespace bastion::edge
