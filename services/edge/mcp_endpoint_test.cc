#include "services/edge/mcp_endpoint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/edge/testing/fakes.h"

namespace bastion::edge {
namespace {

using ::testing::HasSubstr;

class McpEndpointTest : public ::testing::Test {
 protected:
  McpEndpointTest()
      : sessions_({"session-key"}, clock_, absl::Hours(24)),
        stats_(registry_),
        endpoint_(Options(), directory_, policy_, credentials_, tools_, audit_, sessions_, clock_, stats_) {
    directory_.AddToken("bst_ana", Identity{"t-acme", "acme", "u-ana", "ana@acme.com", {}, "personal", "tok1"});
    directory_.AddToken("bst_bo", Identity{"t-acme", "acme", "u-bo", "bo@acme.com", {}, "personal", "tok2"});
    directory_.AddToken("bst_hank", Identity{"t-globex", "globex", "u-hank", "hank@globex.com", {}, "personal", "tok3"});
    policy_.Allow("u-ana", "list_incidents");
    policy_.Allow("u-ana", "create_incident");
  }

  static EndpointOptions Options() {
    EndpointOptions o;
    o.allowed_origins = {"https://claude.ai"};
    o.tools_page_size = 1;
    return o;
  }

  http::Request Post(const std::string& body, const std::string& token = "bst_ana",
                     const std::string& session = "") {
    http::Request r;
    r.method = "POST";
    r.path = "/mcp/acme/pagerduty";
    r.headers = {{"Host", "localhost:8080"},
                 {"Accept", "application/json, text/event-stream"},
                 {"Content-Type", "application/json"}};
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    if (!session.empty()) r.headers.emplace_back("MCP-Session-Id", session);
    r.body = body;
    return r;
  }

  static std::string Header(const http::Response& r, const std::string& name) {
    auto h = http::FindHeader(r.headers, name);
    return h ? std::string(*h) : "";
  }
  static boost::json::value Body(const http::Response& r) { return boost::json::parse(r.body); }
  static int RpcCode(const http::Response& r) { return static_cast<int>(Body(r).at("error").at("code").as_int64()); }

  std::string Initialize(const std::string& token = "bst_ana", const std::string& caps = "{}") {
    http::Response r = endpoint_.Handle(Post(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":)" +
            caps + R"(,"clientInfo":{"name":"test","version":"1"}}})",
        token));
    EXPECT_EQ(r.status, 200) << r.body;
    return Header(r, "MCP-Session-Id");
  }

  http::Response Call(const std::string& session, const std::string& tool, const std::string& args = "{}",
                      const std::string& token = "bst_ana") {
    return endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":")" + tool +
                                     R"(","arguments":)" + args + "}}",
                                 token, session));
  }

  FakeClock clock_;
  FakeDirectory directory_;
  FakePolicy policy_;
  FakeCredentials credentials_;
  FakeTools tools_;
  FakeAudit audit_;
  SessionCodec sessions_;
  metrics::Registry registry_;
  EdgeStats stats_;
  McpEndpoint endpoint_;
};

TEST_F(McpEndpointTest, InitializeNegotiatesTheVersionAndIssuesASession) {
  http::Response r = endpoint_.Handle(Post(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r).at("result").at("protocolVersion").as_string(), "2025-06-18");
  EXPECT_TRUE(Body(r).at("result").at("capabilities").at("tools").at("listChanged").as_bool());
  EXPECT_FALSE(Header(r, "MCP-Session-Id").empty());
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
}

TEST_F(McpEndpointTest, MissingOrUnknownTokensGet401WithWwwAuthenticate) {
  for (const std::string token : {"", "bst_unknown"}) {
    http::Response r = endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", token));
    EXPECT_EQ(r.status, 401);
    EXPECT_THAT(Header(r, "WWW-Authenticate"), HasSubstr("Bearer"));
  }
}

TEST_F(McpEndpointTest, ATokenOfAnotherTenantLooksLikeAnUnknownTenant) {
  http::Response other = endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "bst_hank"));
  http::Request unknown = Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "bst_ana");
  unknown.path = "/mcp/nosuch/pagerduty";
  http::Response missing = endpoint_.Handle(unknown);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(other.body, missing.body);
}

TEST_F(McpEndpointTest, AnInactiveTenantGetsTheActivationMessageVerbatim) {
  const std::string msg =
      "Activation required. AI access management must be enabled for your tenant before you can use it.";
  directory_.SetAccess("acme", TenantAccess{false, msg, 1});
  http::Response r = endpoint_.Handle(Post(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Body(r).at("error").at("message").as_string(), msg);
}

TEST_F(McpEndpointTest, TransportRulesAreEnforced) {
  std::string session = Initialize();
  http::Request no_accept = Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", "bst_ana", session);
  no_accept.headers[1].second = "application/json";
  EXPECT_EQ(endpoint_.Handle(no_accept).status, 406);

  http::Request wrong_type = Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", "bst_ana", session);
  wrong_type.headers[2].second = "text/plain";
  EXPECT_EQ(endpoint_.Handle(wrong_type).status, 415);

  EXPECT_EQ(endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})")).status, 400);
  EXPECT_EQ(endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", "bst_ana", "forged.id")).status, 404);

  http::Request bad_version = Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", "bst_ana", session);
  bad_version.headers.emplace_back("MCP-Protocol-Version", "1999-01-01");
  EXPECT_EQ(endpoint_.Handle(bad_version).status, 400);

  http::Request put = Post("{}");
  put.method = "PUT";
  EXPECT_EQ(endpoint_.Handle(put).status, 405);

  http::Request bad_path = Post("{}");
  bad_path.path = "/mcp/acme";
  EXPECT_EQ(endpoint_.Handle(bad_path).status, 404);
}

TEST_F(McpEndpointTest, ForeignOriginsAndHostsAreRefusedAndAllowedOnesPass) {
  http::Request evil_origin = Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  evil_origin.headers.emplace_back("Origin", "http://evil.example.com");
  EXPECT_EQ(endpoint_.Handle(evil_origin).status, 403);

  http::Request evil_host = Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  evil_host.headers[0].second = "evil.example.com";
  EXPECT_EQ(endpoint_.Handle(evil_host).status, 403);

  std::string session = Initialize();
  http::Request claude = Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "bst_ana", session);
  claude.headers.emplace_back("Origin", "https://claude.ai");
  EXPECT_EQ(endpoint_.Handle(claude).status, 200);
  http::Request local = Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "bst_ana", session);
  local.headers.emplace_back("Origin", "http://localhost:6274");
  EXPECT_EQ(endpoint_.Handle(local).status, 200);
}

TEST_F(McpEndpointTest, MalformedMessagesGetJsonRpcErrors) {
  std::string session = Initialize();
  http::Response parse = endpoint_.Handle(Post("{not json", "bst_ana", session));
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(RpcCode(parse), -32700);
  http::Response batch = endpoint_.Handle(Post(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", "bst_ana", session));
  EXPECT_EQ(RpcCode(batch), -32600);
  http::Response unknown = endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":9,"method":"resources/list"})", "bst_ana", session));
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(RpcCode(unknown), -32601);
  EXPECT_EQ(Body(unknown).at("id").as_int64(), 9);
}

TEST_F(McpEndpointTest, NotificationsAreAcceptedWith202AndPingAnswersEmpty) {
  std::string session = Initialize();
  http::Response note = endpoint_.Handle(Post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", "bst_ana", session));
  EXPECT_EQ(note.status, 202);
  EXPECT_TRUE(note.body.empty());
  http::Response ping = endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":"p","method":"ping"})", "bst_ana", session));
  EXPECT_TRUE(Body(ping).at("result").as_object().empty());
}

TEST_F(McpEndpointTest, SessionsAreBoundToTheirUser) {
  std::string anas = Initialize("bst_ana");
  EXPECT_EQ(endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "bst_bo", anas)).status, 404);
}

TEST_F(McpEndpointTest, DeleteEndsTheSession) {
  std::string session = Initialize();
  http::Request del = Post("", "bst_ana", session);
  del.method = "DELETE";
  EXPECT_EQ(endpoint_.Handle(del).status, 200);
  EXPECT_EQ(endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "bst_ana", session)).status, 404);
}

TEST_F(McpEndpointTest, ToolsListShowsExactlyTheAllowedToolsAcrossPages) {
  std::string session = Initialize();
  std::vector<std::string> names;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    std::string params = cursor.empty() ? "{}" : R"({"cursor":")" + cursor + "\"}";
    http::Response r = endpoint_.Handle(
        Post(R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":)" + params + "}", "bst_ana", session));
    auto result = Body(r).at("result").as_object();
    for (const auto& t : result.at("tools").as_array()) names.emplace_back(t.at("name").as_string());
    if (!result.contains("nextCursor")) break;
    cursor = std::string(result.at("nextCursor").as_string());
  }
  EXPECT_THAT(names, ::testing::ElementsAre("list_incidents", "create_incident"));

  http::Response bad = endpoint_.Handle(
      Post(R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"bogus"}})", "bst_ana", session));
  EXPECT_EQ(RpcCode(bad), -32602);
}

TEST_F(McpEndpointTest, AnAllowedCallRunsWithTheVaultCredentialAndIsAudited) {
  std::string session = Initialize();
  http::Response r = Call(session, "list_incidents", R"({"statuses":["triggered"]})");
  auto result = Body(r).at("result").as_object();
  EXPECT_FALSE(result.at("isError").as_bool());
  EXPECT_EQ(result.at("structuredContent").at("tool").as_string(), "list_incidents");
  EXPECT_EQ(tools_.last_authorization, "Token token=sim-key");
  ASSERT_EQ(audit_.events.size(), 1u);
  EXPECT_EQ(audit_.events[0].email, "ana@acme.com");
  EXPECT_EQ(audit_.events[0].outcome, "ok");
  EXPECT_TRUE(audit_.events[0].allowed);
  EXPECT_EQ(audit_.events[0].arguments_digest.size(), 64u);
  EXPECT_EQ(r.body.find("sim-key"), std::string::npos);
}

TEST_F(McpEndpointTest, ADeniedCallIsRefusedWithItsReasonAuditedAndNeverRun) {
  std::string session = Initialize("bst_bo");
  http::Response r = Call(session, "list_incidents", "{}", "bst_bo");
  auto result = Body(r).at("result").as_object();
  EXPECT_TRUE(result.at("isError").as_bool());
  EXPECT_THAT(std::string(result.at("content").at(0).at("text").as_string()), HasSubstr("not in any toolset"));
  EXPECT_EQ(tools_.runs, 0);
  ASSERT_EQ(audit_.events.size(), 1u);
  EXPECT_EQ(audit_.events[0].outcome, "denied");
  EXPECT_EQ(audit_.events[0].reason, "not_granted");
}

TEST_F(McpEndpointTest, UnknownToolsAreInvalidParamsAndBadArgumentsAreToolErrors) {
  std::string session = Initialize();
  EXPECT_EQ(RpcCode(Call(session, "drop_database")), -32602);
  http::Response bad = Call(session, "list_incidents", R"({"limit":"ten"})");
  EXPECT_TRUE(Body(bad).at("result").at("isError").as_bool());
  EXPECT_THAT(std::string(Body(bad).at("result").at("content").at(0).at("text").as_string()), HasSubstr("limit"));
  http::Response no_name = endpoint_.Handle(
      Post(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{}}})", "bst_ana", session));
  EXPECT_EQ(RpcCode(no_name), -32602);
}

TEST_F(McpEndpointTest, AUserWithoutAGrantGetsTheAuthorizeLinkAsElicitationOrToolError) {
  credentials_.needs_oauth = true;
  std::string plain = Initialize();
  http::Response as_text = Call(plain, "list_incidents");
  EXPECT_TRUE(Body(as_text).at("result").at("isError").as_bool());
  EXPECT_THAT(std::string(Body(as_text).at("result").at("content").at(0).at("text").as_string()),
              HasSubstr("https://identity.example/oauth/authorize"));

  std::string eliciting = Initialize("bst_ana", R"({"elicitation":{"url":{}}})");
  http::Response as_elicitation = Call(eliciting, "list_incidents");
  EXPECT_EQ(RpcCode(as_elicitation), -32042);
  EXPECT_EQ(Body(as_elicitation).at("error").at("data").at("elicitations").at(0).at("url").as_string(),
            "https://identity.example/oauth/authorize?state=abc");
  EXPECT_EQ(tools_.runs, 0);
  EXPECT_EQ(audit_.events.back().outcome, "authorization_required");
}

TEST_F(McpEndpointTest, ACredentialPagerDutyRejectsIsForgottenAndTheModelIsTold) {
  policy_.Allow("u-ana", "list_services");
  tools_.reject_key = true;
  std::string session = Initialize();
  http::Response r = Call(session, "list_services");
  EXPECT_TRUE(Body(r).at("result").at("isError").as_bool());
  EXPECT_THAT(std::string(Body(r).at("result").at("content").at(0).at("text").as_string()),
              HasSubstr("rejected the credential"));
  EXPECT_EQ(credentials_.forgotten, 1);
  EXPECT_EQ(audit_.events.back().outcome, "credential_rejected");
  EXPECT_EQ(audit_.events.back().upstream_status, 401);
}

TEST_F(McpEndpointTest, NoToolRunsWhenTheAuditQueueIsFull) {
  std::string session = Initialize();
  audit_.full = true;
  http::Response r = Call(session, "list_incidents");
  EXPECT_EQ(RpcCode(r), -32003);
  EXPECT_EQ(tools_.runs, 0);
}

TEST_F(McpEndpointTest, NoToolRunsWhoseAuditEventCouldNotBeStored) {
  // An identity field governance could not store (here invalid UTF-8 from the directory).
  directory_.AddToken("bst_odd", Identity{"t-acme", "acme", "u-odd", "odd\xff@acme.com", {}, "personal", "tok9"});
  policy_.Allow("u-odd", "list_incidents");
  std::string session = Initialize("bst_odd");
  http::Response r = Call(session, "list_incidents", "{}", "bst_odd");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(RpcCode(r), mcp::kInternalError);
  EXPECT_EQ(tools_.runs, 0);
  absl::MutexLock l(&audit_.mu);
  EXPECT_TRUE(audit_.events.empty());
}

TEST_F(McpEndpointTest, PathSegmentsThatAreNotNamesAre404BeforeAuthentication) {
  for (const std::string& path : std::vector<std::string>{"/mcp/acme/pager\xff", "/mcp/acme/pager%FF", "/mcp/acme/-x", "/mcp/ACME/pagerduty",
                                 "/mcp/acme/" + std::string(64, 'p'), "/mcp/acme/pager duty"}) {
    http::Request req = Post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", "");
    req.path = path;
    EXPECT_EQ(endpoint_.Handle(req).status, 404) << path;  // without a token: 401 if it got that far
  }
  EXPECT_EQ(directory_.authentications, 0);
  EXPECT_TRUE(ParseMcpPath("/mcp/acme-eu/pager_duty-2").has_value());
}

TEST_F(McpEndpointTest, OverTheUserLimitRequestsAreAnsweredUnderTheirIdWithRetryAdvice) {
  std::string session = Initialize();
  // The default user budget is a burst of 40 at 20/s; the fake clock stands still.
  for (int i = 0; i < 39; ++i) {
    ASSERT_EQ(endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", "bst_ana", session)).status, 200);
  }
  const int runs = tools_.runs;

  // tools/call: a tool error the model reads, under the call's id.
  http::Response call = Call(session, "list_incidents");
  EXPECT_EQ(call.status, 200);
  EXPECT_EQ(Body(call).at("id").as_int64(), 3);
  EXPECT_TRUE(Body(call).at("result").at("isError").as_bool());
  EXPECT_THAT(Body(call).at("result").at("content").at(0).at("text").as_string().c_str(),
              HasSubstr("Wait 1 second and retry"));
  EXPECT_EQ(Header(call, "Retry-After"), "1");
  EXPECT_EQ(tools_.runs, runs);

  // Any other request: a JSON-RPC error under its id, with the wait in its data.
  http::Response list =
      endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":"l-1","method":"tools/list"})", "bst_ana", session));
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(Body(list).at("id").as_string(), "l-1");
  EXPECT_EQ(RpcCode(list), -32002);
  EXPECT_EQ(Body(list).at("error").at("data").at("retryAfterSeconds").as_int64(), 1);

  // A notification has no id to answer under: plain 429.
  http::Response note = endpoint_.Handle(
      Post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", "bst_ana", session));
  EXPECT_EQ(note.status, 429);
  EXPECT_EQ(Header(note, "Retry-After"), "1");

  // Bo, another user of the same tenant, is not held back; Ana passes again a second later.
  EXPECT_EQ(endpoint_.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", "bst_bo", Initialize("bst_bo"))).status,
            200);
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(Body(Call(session, "list_incidents")).at("result").at("isError").as_bool());
}

TEST_F(McpEndpointTest, ATenantCanHaveItsOwnPerUserLimit) {
  EndpointOptions options = Options();
  options.user_requests_per_second_by_tenant["acme"] = 0.25;  // a burst of 0.5: not even one
  McpEndpoint slow(options, directory_, policy_, credentials_, tools_, audit_, sessions_, clock_, stats_);
  http::Response r = slow.Handle(Post(R"({"jsonrpc":"2.0","id":9,"method":"ping"})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r).at("id").as_int64(), 9);
  EXPECT_EQ(Body(r).at("error").at("data").at("retryAfterSeconds").as_int64(), 2);
  // Globex keeps the default.
  http::Request other = Post(R"({"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})", "bst_hank");
  other.path = "/mcp/globex/pagerduty";
  EXPECT_EQ(slow.Handle(other).status, 200);
  EXPECT_TRUE(Body(slow.Handle(other)).as_object().contains("result"));
}

}  // namespace
}  // namespace bastion::edge
