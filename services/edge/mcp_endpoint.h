// The MCP endpoint `/mcp/<tenant-slug>/<server-name>` over Streamable HTTP: transport rules
// (methods, Accept, Content-Type, Origin/Host, sessions, protocol version), authentication,
// tenant access, and the MCP methods (initialize, ping, tools/list, tools/call). Synchronous:
// the HTTP layer runs it on the edge's executor, never on an I/O thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/variant.h"
#include "common/crypto/crypto.h"
#include "common/http/http_server.h"
#include "common/mcp/jsonrpc.h"
#include "common/mcp/protocol.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/edge/backends.h"
#include "services/edge/concurrency_limiter.h"
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
  // Per-user rates for the users of particular tenants (by slug), instead of the one above.
  std::map<std::string, double> user_requests_per_second_by_tenant;
  // Below PagerDuty's 960 requests/minute per credential, so one user cannot exhaust a shared key.
  double credential_calls_per_minute = 900;
  // Tool calls running at once (<= 0: unlimited). A slow call holds an edge worker for its
  // whole run, so these keep one tenant, or one user, from holding them all.
  int tenant_calls_in_flight = 8;
  int user_calls_in_flight = 4;
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
  // The client token it came with: the stream stays open only while this still authenticates.
  crypto::SecretString token;
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
  // Over a rate limit: a request is answered under its own id with retry advice, in the form
  // clients pass on (a tool error for tools/call, else a JSON-RPC error); anything else gets 429.
  http::Response RateLimited(const http::Request& request, Context& ctx, http::Response refusal);
  RateLimiter& UserLimiter(const std::string& tenant_slug);

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
  std::map<std::string, std::unique_ptr<RateLimiter>> tenant_user_limiters_;  // by slug; fixed at start
  RateLimiter credential_limiter_;
  ConcurrencyLimiter calls_in_flight_;
  AccessTokenAuthenticator* access_tokens_ = nullptr;
};

// A tenant slug or server name as Bastion allows them: 1 to 63 of [a-z0-9_-], starting with a
// letter or digit. Anything else in the path cannot name a tenant or server.
bool IsRouteName(absl::string_view name);
// "/mcp/acme/pagerduty" -> {"acme", "pagerduty"}; nullopt for anything else, including segments
// that are not route names (so a malformed path is 404 before authentication).
std::optional<std::pair<std::string, std::string>> ParseMcpPath(absl::string_view path);

}  // namespace bastion::edge
