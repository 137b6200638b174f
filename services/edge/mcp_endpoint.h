// The MCP endpoint `/mcp/<tenant-slug>/<server-name>` over Streamable HTTP: transport rules
// (methods, Accept, Content-Type, Origin/Host, sessions, protocol version), authentication,
// tenant access, and the MCP methods (initialize, ping, tools/list, tools/call). Synchronous:
// the HTTP layer runs it on the edge's executor, never on an I/O thread.
#pragma once

#include <string>
#include <vector>

#include "absl/types/variant.h"
#include "common/http/http_server.h"
#include "common/mcp/jsonrpc.h"
#include "common/mcp/protocol.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/edge/backends.h"
#include "services/edge/rate_limiter.h"
#include "services/edge/session.h"

namespace bastion::edge {

struct EndpointOptions {
  // Origins (scheme://host[:port]) browsers may call from; requests without Origin pass.
  std::vector<std::string> allowed_origins;
  // Host names (no port) the endpoint answers to; guards against DNS rebinding.
  std::vector<std::string> allowed_hosts = {"localhost", "127.0.0.1", "[::1]"};
  size_t tools_page_size = 50;
  mcp::ServerInfo info = {"bastion", "Bastion", "0.1.0",
                          "Tools for the company's PagerDuty. Calls run with the credentials your "
                          "administrators configured and are audited under your name."};
  double tenant_requests_per_second = 200;
  double user_requests_per_second = 20;
  // Below PagerDuty's 960 requests/minute per credential, so one user cannot exhaust a shared key.
  double credential_calls_per_minute = 900;
};

struct EdgeStats {
  explicit EdgeStats(metrics::Registry& registry);
  void Request(const std::string& method, const std::string& outcome, absl::Duration latency);
  void ToolCall(const std::string& outcome);

  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& latency;
  metrics::Family<metrics::Counter>& tool_calls;
};

// What a valid GET needs to open its server-to-client stream.
struct StreamGrant {
  Identity identity;
  std::string session_id;
  std::string server;
};

class McpEndpoint {
 public:
  McpEndpoint(EndpointOptions options, TenantDirectory& directory, PolicyClient& policy,
              CredentialClient& credentials, ToolRunner& tools, AuditSink& audit,
              SessionCodec& sessions, const Clock& clock, EdgeStats& stats);

  // POST and DELETE (and refusals of anything else).
  http::Response Handle(const http::Request& request);
  // Turns on sign-in: access tokens are verified by `tokens` and 401 answers carry the RFC 9728
  // challenge. Call before serving.
  void EnableSignIn(AccessTokenAuthenticator* tokens) { access_tokens_ = tokens; }
  // GET: an error response, or what the caller needs to open the SSE stream.
  absl::variant<http::Response, StreamGrant> PrepareStream(const http::Request& request);

 private:
  struct Route {
    std::string tenant_slug;
    std::string server;
  };
  struct Context;

  // Checks shared by every method; fills `ctx` or returns the refusal.
  std::optional<http::Response> Admit(const http::Request& request, Context& ctx);
  http::Response HandlePost(const http::Request& request, Context& ctx);
  boost::json::object Initialize(const mcp::Message& m, Context& ctx, std::string* session_id);
  boost::json::object ListTools(const mcp::Message& m, Context& ctx);
  boost::json::object CallTool(const mcp::Message& m, Context& ctx);
  boost::json::object Audited(Context& ctx, AuditEvent event, boost::json::object reply);

  const EndpointOptions options_;
  TenantDirectory& directory_;
  PolicyClient& policy_;
  CredentialClient& credentials_;
  ToolRunner& tools_;
  AuditSink& audit_;
  SessionCodec& sessions_;
  const Clock& clock_;
  EdgeStats& stats_;
  RateLimiter tenant_limiter_;
  RateLimiter user_limiter_;
  RateLimiter credential_limiter_;
  AccessTokenAuthenticator* access_tokens_ = nullptr;
};

// "/mcp/acme/pagerduty" -> {"acme", "pagerduty"}; nullopt for anything else.
std::optional<std::pair<std::string, std::string>> ParseMcpPath(absl::string_view path);

}  // namespace bastion::edge
