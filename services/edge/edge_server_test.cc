// The edge over real HTTP on loopback: the endpoint behind the server, the GET stream's
// list_changed notification, the OAuth callback page, and a huge body refused with 413.
#include "services/edge/edge_server.h"

#include <curl/curl.h>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/edge/audit_queue.h"
#include "services/edge/testing/fakes.h"

namespace bastion::edge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string headers;
  std::string body;
  CURLcode code = CURLE_OK;  // CURLE_OPERATION_TIMEDOUT when the server kept it open
};

Reply Fetch(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
            const std::string& body = "", long timeout_ms = 5000) {
  CURL* c = curl_easy_init();
  Reply r;
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  r.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  return r;
}

class EdgeServerTest : public ::testing::Test {
 protected:
  EdgeServerTest()
      : sessions_({"k"}, RealClock::Get(), absl::Hours(1)),
        stats_(registry_),
        endpoint_(EndpointOptions(), directory_, policy_, credentials_, tools_, audit_, sessions_,
                  RealClock::Get(), stats_),
        executor_(2, 100),
        hub_(policy_, directory_, sessions_, executor_, RealClock::Get()),
        server_(http::HttpServerOptions{"127.0.0.1", 0, 2, 64 * 1024}) {
    directory_.AddToken("bst_ana", Identity{"t-acme", "acme", "u-ana", "ana@acme.com", {}, "personal", "k1"});
    policy_.Allow("u-ana", "list_incidents");
    RegisterEdgeRoutes(server_, endpoint_, credentials_, executor_, hub_);
    EXPECT_TRUE(server_.Start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_.port());
  }
  ~EdgeServerTest() override {
    server_.Shutdown(absl::Seconds(1));
    executor_.Shutdown();
  }

  std::vector<std::string> Headers(const std::string& session = "") {
    std::vector<std::string> h = {"Authorization: Bearer bst_ana", "Accept: application/json, text/event-stream",
                                  "Content-Type: application/json"};
    if (!session.empty()) h.push_back("MCP-Session-Id: " + session);
    return h;
  }

  std::string Initialize() {
    Reply r = Fetch("POST", base_ + "/mcp/acme/pagerduty", Headers(),
                    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string marker = "mcp-session-id: ";
    std::string lower = r.headers;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    size_t at = lower.find(marker);
    EXPECT_NE(at, std::string::npos);
    size_t end = r.headers.find("\r\n", at);
    return r.headers.substr(at + marker.size(), end - at - marker.size());
  }

  FakeDirectory directory_;
  FakePolicy policy_;
  FakeCredentials credentials_;
  FakeTools tools_;
  FakeAudit audit_;
  SessionCodec sessions_;
  metrics::Registry registry_;
  EdgeStats stats_;
  McpEndpoint endpoint_;
  Executor executor_;
  StreamHub hub_;
  http::HttpServer server_;
  std::string base_;
};

TEST_F(EdgeServerTest, AToolCallTravelsOverHttp) {
  std::string session = Initialize();
  Reply r = Fetch("POST", base_ + "/mcp/acme/pagerduty", Headers(session),
                  R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_incidents","arguments":{}}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("isError":false)"));
}

TEST_F(EdgeServerTest, AMalformedRequestIdIsReplacedAndTheCallIsAuditedUnderASafeOne) {
  std::string session = Initialize();
  const std::string call =
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_incidents","arguments":{}}})";
  std::vector<std::string> headers = Headers(session);
  headers.push_back("X-Request-Id: \xff\xfe");
  Reply r = Fetch("POST", base_ + "/mcp/acme/pagerduty", headers, call);
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("isError":false)"));
  headers.back() = "X-Request-Id: trace-42";
  Fetch("POST", base_ + "/mcp/acme/pagerduty", headers, call);

  absl::MutexLock l(&audit_.mu);
  ASSERT_EQ(audit_.events.size(), 2u);
  EXPECT_EQ(audit_.events[0].request_id.size(), 36u) << "expected a fresh UUID";
  EXPECT_TRUE(ValidateAuditEvent(audit_.events[0]).ok());
  EXPECT_EQ(audit_.events[1].request_id, "trace-42");  // a well-formed id is kept
}

TEST_F(EdgeServerTest, ARawHighByteInThePathIs404BeforeAuthentication) {
  for (const std::string path : {"/mcp/acme/pager\xff", "/mcp/ac\xffme/pagerduty", "/mcp/acme/Pagerduty"}) {
    const int before = directory_.authentications;
    Reply r = Fetch("POST", base_ + path, Headers(),
                    R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_incidents","arguments":{}}})");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(directory_.authentications, before) << "a malformed path must not reach authentication";
  }
  EXPECT_EQ(tools_.runs, 0);
}

TEST_F(EdgeServerTest, TheGetStreamCarriesListChangedNotifications) {
  std::string session = Initialize();
  std::string received;
  std::thread reader([&] {
    Reply r = Fetch("GET", base_ + "/mcp/acme/pagerduty",
                    {"Authorization: Bearer bst_ana", "Accept: text/event-stream", "MCP-Session-Id: " + session}, "",
                    3000);
    received = r.body;
  });
  for (int i = 0; i < 50 && hub_.open_streams() == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(hub_.open_streams(), 1u);
  // A policy change that leaves Ana's tools as they were tells her nothing; one that gives her
  // a new tool does, once; another tenant's change never reaches her stream.
  hub_.NotifyToolsChanged("t-acme");
  absl::SleepFor(absl::Milliseconds(200));
  policy_.Allow("u-ana", "get_incident");
  hub_.NotifyToolsChanged("t-other");
  hub_.NotifyToolsChanged("t-acme");
  absl::SleepFor(absl::Milliseconds(200));
  hub_.NotifyToolsChanged("t-acme");
  reader.join();
  EXPECT_THAT(received, HasSubstr("notifications/tools/list_changed"));
  EXPECT_EQ(received.find("notifications/tools/list_changed"), received.rfind("notifications/tools/list_changed"));
}

// Opens the GET stream of `session` on a thread; the stream is registered when this returns.
class OpenStream {
 public:
  OpenStream(const std::string& url, const std::string& session, StreamHub& hub)
      : thread_([this, url, session] {
          // Far longer than any test waits: a stream still open then has failed to close.
          reply_ = Fetch("GET", url, {"Authorization: Bearer bst_ana", "Accept: text/event-stream",
                                      "MCP-Session-Id: " + session},
                         "", 30000);
        }) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (hub.open_streams() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  }
  // Waits for the server to end the stream; its reply.
  Reply Closed() {
    if (thread_.joinable()) thread_.join();
    return reply_;
  }
  ~OpenStream() { Closed(); }

 private:
  Reply reply_;
  std::thread thread_;
};

TEST_F(EdgeServerTest, DeletingASessionClosesItsStreamAtOnce) {
  std::string session = Initialize();
  OpenStream stream(base_ + "/mcp/acme/pagerduty", session, hub_);
  ASSERT_EQ(hub_.open_streams(), 1u);
  Reply del = Fetch("DELETE", base_ + "/mcp/acme/pagerduty", Headers(session));
  EXPECT_EQ(del.status, 200);
  Reply closed = stream.Closed();
  EXPECT_EQ(closed.code, CURLE_OK) << "the stream outlived its session";
  EXPECT_THAT(closed.body, HasSubstr("stream open"));
}

TEST_F(EdgeServerTest, ASessionEndedOnAnotherReplicaClosesItsStreamWhenThePollLearnsOfIt) {
  std::string session = Initialize();
  std::string other = Initialize();
  OpenStream stream(base_ + "/mcp/acme/pagerduty", session, hub_);
  ASSERT_EQ(hub_.open_streams(), 1u);
  sessions_.MarkEnded(SessionCodec::HashOf(other), absl::Now() + absl::Hours(1));  // not this one
  EXPECT_EQ(hub_.open_streams(), 1u);
  sessions_.MarkEnded(SessionCodec::HashOf(session), absl::Now() + absl::Hours(1));  // as the poll does
  EXPECT_EQ(stream.Closed().code, CURLE_OK);
}

TEST_F(EdgeServerTest, AStreamClosesOnTheFirstCheckAfterItsTokenIsRevoked) {
  std::string session = Initialize();
  OpenStream stream(base_ + "/mcp/acme/pagerduty", session, hub_);
  ASSERT_EQ(hub_.open_streams(), 1u);
  hub_.Revalidate();  // the token still works: nothing happens
  directory_.Revoke("bst_ana");
  hub_.Revalidate();
  EXPECT_EQ(stream.Closed().code, CURLE_OK) << "the stream outlived its token";
}

TEST_F(EdgeServerTest, AResumedStreamIsToldToListAgainAtOnce) {
  std::string session = Initialize();
  Reply r = Fetch("GET", base_ + "/mcp/acme/pagerduty",
                  {"Authorization: Bearer bst_ana", "Accept: text/event-stream", "MCP-Session-Id: " + session,
                   "Last-Event-ID: 41"},
                  "", 800);
  EXPECT_THAT(r.body, HasSubstr("notifications/tools/list_changed"));
  Reply fresh = Fetch("GET", base_ + "/mcp/acme/pagerduty",
                      {"Authorization: Bearer bst_ana", "Accept: text/event-stream", "MCP-Session-Id: " + session},
                      "", 800);
  EXPECT_THAT(fresh.body, HasSubstr("stream open"));
  EXPECT_THAT(fresh.body, Not(HasSubstr("list_changed")));
}

TEST_F(EdgeServerTest, GetWithoutASessionIsRefused) {
  Reply r = Fetch("GET", base_ + "/mcp/acme/pagerduty", {"Authorization: Bearer bst_ana", "Accept: text/event-stream"});
  EXPECT_EQ(r.status, 400);
}

TEST_F(EdgeServerTest, TheOAuthCallbackShowsAPlainPage) {
  Reply ok = Fetch("GET", base_ + "/oauth/callback?code=abc&state=s%2B1", {});
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, HasSubstr("PagerDuty is connected"));
  Reply missing = Fetch("GET", base_ + "/oauth/callback?state=s1", {});
  EXPECT_EQ(missing.status, 400);
  Reply denied = Fetch("GET", base_ + "/oauth/callback?error=access_denied&state=s1", {});
  EXPECT_EQ(denied.status, 400);
  EXPECT_THAT(denied.body, HasSubstr("access_denied"));
}

TEST_F(EdgeServerTest, HugeBodiesAreRefusedWith413) {
  std::string session = Initialize();
  std::string huge = R"({"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":")" + std::string(200000, 'x') + "\"}}";
  Reply r = Fetch("POST", base_ + "/mcp/acme/pagerduty", Headers(session), huge);
  EXPECT_EQ(r.status, 413);
}

// A stream's writer that keeps what was written.
class RecordingWriter : public http::StreamWriter {
 public:
  bool Write(std::string chunk) override {
    absl::MutexLock l(&mu_);
    if (closed_) return false;
    written_ += chunk;
    return true;
  }
  void Close() override {
    absl::MutexLock l(&mu_);
    closed_ = true;
  }
  bool closed() const override {
    absl::MutexLock l(&mu_);
    return closed_;
  }
  void OnClose(std::function<void()>) override {}
  std::string written() const {
    absl::MutexLock l(&mu_);
    return written_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string written_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

TEST(StreamHub, AGrantThatExpiresTellsTheStreamToListAgain) {
  FakeClock clock;
  FakePolicy policy(&clock);
  FakeDirectory directory;
  directory.AddToken("bst_ana", Identity{"t-acme", "acme", "u-ana", "ana@acme.com", {}, "personal", "k1"});
  SessionCodec sessions({"k"}, clock, absl::Hours(24));
  Executor executor(1, 100);  // one thread: tasks run in order
  StreamHub hub(policy, directory, sessions, executor, clock);
  // Waits until everything submitted so far has run.
  auto settle = [&] {
    absl::Notification done;
    ASSERT_TRUE(executor.TrySubmit([&] { done.Notify(); }));
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  };

  policy.Allow("u-ana", "list_incidents");
  policy.Allow("u-ana", "get_incident", clock.Now() + absl::Minutes(10));  // a temporary grant
  StreamGrant grant{directory.Authenticate("bst_ana").value(),
                    sessions.Issue("t-acme", "u-ana", "pagerduty", "2025-11-25"), "pagerduty",
                    crypto::SecretString("bst_ana")};
  auto writer = std::make_shared<RecordingWriter>();
  hub.Add(grant, writer);

  clock.Advance(absl::Minutes(9));
  hub.Revalidate();
  settle();
  EXPECT_THAT(writer->written(), Not(HasSubstr("list_changed")));
  clock.Advance(absl::Minutes(1));
  hub.Revalidate();
  settle();
  EXPECT_THAT(writer->written(), HasSubstr("notifications/tools/list_changed"));
  EXPECT_FALSE(writer->closed());
  // Once told, it is not told again for the same list.
  const std::string told = writer->written();
  hub.Revalidate();
  settle();
  EXPECT_EQ(writer->written(), told);

  directory.Revoke("bst_ana");
  hub.Revalidate();
  settle();
  EXPECT_TRUE(writer->closed());
}

TEST(ParseQuery, DecodesPercentAndPlus) {
  auto q = ParseQuery("a=1&b=x%20y+z&c&d=%zz");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[1].second, "x y z");
  EXPECT_EQ(q[2].first, "c");
  EXPECT_EQ(q[3].second, "%zz");
}

}  // namespace
}  // namespace bastion::edge
