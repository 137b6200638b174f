#include "services/edge/mcp_endpoint.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/log/log.h"
#include "services/edge/audit_queue.h"

namespace bastion::edge {
namespace {

constexpr int kAccessRefused = -32001;  // server-defined: tenant inactive or switched off
constexpr int kRateLimited = -32002;
constexpr int kUnavailable = -32003;

std::string Serialize(const boost::json::object& o) { return boost::json::serialize(o); }

http::Response Json(int status, const boost::json::object& body) {
  return http::JsonResponse(status, Serialize(body));
}

http::Response RpcError(int status, const boost::json::value& id, int code, absl::string_view message,
                        std::optional<boost::json::value> data = std::nullopt) {
  return Json(status, mcp::MakeError(id, code, message, std::move(data)));
}

bool AcceptsBoth(absl::string_view accept) {
  bool json = false, sse = false;
  for (absl::string_view part : absl::StrSplit(accept, ',')) {
    absl::string_view media = absl::StripAsciiWhitespace(part.substr(0, part.find(';')));
    json = json || absl::EqualsIgnoreCase(media, "application/json") || media == "*/*" ||
           absl::EqualsIgnoreCase(media, "application/*");
    sse = sse || absl::EqualsIgnoreCase(media, "text/event-stream") || media == "*/*" ||
          absl::EqualsIgnoreCase(media, "text/*");
  }
  return json && sse;
}

bool Accepts(absl::string_view accept, absl::string_view wanted) {
  for (absl::string_view part : absl::StrSplit(accept, ',')) {
    absl::string_view media = absl::StripAsciiWhitespace(part.substr(0, part.find(';')));
    if (absl::EqualsIgnoreCase(media, wanted) || media == "*/*") return true;
  }
  return false;
}

// "host:port" or "[::1]:port" -> host, lower-cased.
std::string HostName(absl::string_view host) {
  if (absl::StartsWith(host, "[")) {
    size_t end = host.find(']');
    return absl::AsciiStrToLower(host.substr(0, end == absl::string_view::npos ? host.size() : end + 1));
  }
  return absl::AsciiStrToLower(host.substr(0, host.find(':')));
}

std::string OriginHost(absl::string_view origin) {
  size_t scheme = origin.find("://");
  if (scheme == absl::string_view::npos) return "";
  return HostName(origin.substr(scheme + 3));
}

std::string MethodLabel(const std::string& method) {
  static const char* const kKnown[] = {"initialize", "ping", "tools/list", "tools/call"};
  for (const char* k : kKnown) {
    if (method == k) return method;
  }
  if (absl::StartsWith(method, "notifications/")) return "notification";
  return "other";
}

std::string Canonical(const boost::json::value& v);

std::string Canonical(const boost::json::object& o) {
  std::vector<std::pair<std::string, const boost::json::value*>> members;
  for (const auto& kv : o) members.emplace_back(std::string(kv.key()), &kv.value());
  std::sort(members.begin(), members.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i) out += ",";
    out += boost::json::serialize(boost::json::value(members[i].first)) + ":" + Canonical(*members[i].second);
  }
  return out + "}";
}

std::string Canonical(const boost::json::value& v) {
  if (v.is_object()) return Canonical(v.as_object());
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.as_array().size(); ++i) {
      if (i) out += ",";
      out += Canonical(v.as_array()[i]);
    }
    return out + "]";
  }
  return boost::json::serialize(v);
}

// Whole seconds, rounded up: a client that waits this long finds a token.
int64_t RetryAfterSeconds(absl::Duration wait) {
  return std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
}

std::string RateLimitMessage(int64_t seconds) {
  return absl::StrCat("Rate limited: you are sending requests faster than Bastion allows. Wait ", seconds,
                      seconds == 1 ? " second" : " seconds", " and retry.");
}

}  // namespace

EdgeStats::EdgeStats(metrics::Registry& registry)
    : requests(metrics::BuildCounter()
                   .Name("bastion_edge_requests_total")
                   .Help("MCP requests by JSON-RPC method and outcome.")
                   .Register(registry)),
      latency(metrics::BuildHistogram()
                  .Name("bastion_edge_request_duration_seconds")
                  .Help("Time to answer an MCP request, by JSON-RPC method.")
                  .Register(registry)),
      tool_calls(metrics::BuildCounter()
                     .Name("bastion_edge_tool_calls_total")
                     .Help("tools/call requests by outcome.")
                     .Register(registry)) {}

void EdgeStats::Request(const std::string& method, const std::string& outcome, absl::Duration d) {
  requests.Add({{"method", method}, {"outcome", outcome}}).Increment();
  latency.Add({{"method", method}}, metrics::DefaultLatencyBuckets()).Observe(absl::ToDoubleSeconds(d));
}

void EdgeStats::ToolCall(const std::string& outcome) { tool_calls.Add({{"outcome", outcome}}).Increment(); }

bool IsRouteName(absl::string_view name) {
  if (name.empty() || name.size() > 63 || !(absl::ascii_islower(name[0]) || absl::ascii_isdigit(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_';
  });
}

std::optional<std::pair<std::string, std::string>> ParseMcpPath(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  // "", "mcp", tenant, server
  if (parts.size() != 4 || !parts[0].empty() || parts[1] != "mcp" || !IsRouteName(parts[2]) ||
      !IsRouteName(parts[3])) {
    return std::nullopt;
  }
  return std::make_pair(std::string(parts[2]), std::string(parts[3]));
}

struct McpEndpoint::Context {
  absl::Time start;
  std::string tenant_slug;
  std::string server;
  Identity identity;
  bool url_elicitation = false;
  std::string method_label = "other";
  std::string outcome = "ok";
  std::string tool;
  absl::Duration retry_after;  // when rate limited: until the next request would pass
  crypto::SecretString token;  // the bearer token, once Admit found one
};

McpEndpoint::McpEndpoint(EndpointOptions options, TenantDirectory& directory, PolicyClient& policy,
                         CredentialClient& credentials, ToolRunner& tools, AuditSink& audit,
                         SessionCodec& sessions, const Clock& clock, EdgeStats& stats)
    : options_(std::move(options)),
      directory_(directory),
      policy_(policy),
      credentials_(credentials),
      tools_(tools),
      audit_(audit),
      sessions_(sessions),
      clock_(clock),
      stats_(stats),
      tenant_limiter_(options_.tenant_requests_per_second, options_.tenant_requests_per_second * 2, clock),
      user_limiter_(options_.user_requests_per_second, options_.user_requests_per_second * 2, clock),
      credential_limiter_(options_.credential_calls_per_minute / 60.0, options_.credential_calls_per_minute / 6.0,
                          clock),
      calls_in_flight_(options_.tenant_calls_in_flight, options_.user_calls_in_flight) {
  for (const auto& [slug, rate] : options_.user_requests_per_second_by_tenant) {
    tenant_user_limiters_[slug] = std::make_unique<RateLimiter>(rate, rate * 2, clock);
  }
}

RateLimiter& McpEndpoint::UserLimiter(const std::string& tenant_slug) {
  auto it = tenant_user_limiters_.find(tenant_slug);
  return it == tenant_user_limiters_.end() ? user_limiter_ : *it->second;
}

std::optional<http::Response> McpEndpoint::Admit(const http::Request& request, Context& ctx) {
  auto route = ParseMcpPath(request.path);
  if (!route) {
    ctx.outcome = "not_found";
    return RpcError(404, nullptr, mcp::kInvalidRequest, "Not found: MCP endpoints are /mcp/<tenant>/<server>");
  }
  ctx.tenant_slug = route->first;
  ctx.server = route->second;

  // DNS rebinding: a browser tricked into calling us carries a foreign Host or Origin.
  if (auto host = request.Header("host"); host.has_value()) {
    const std::string name = HostName(*host);
    if (std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), name) ==
        options_.allowed_hosts.end()) {
      ctx.outcome = "forbidden";
      return RpcError(403, nullptr, mcp::kInvalidRequest, "Forbidden: this Host is not served here");
    }
  }
  if (auto origin = request.Header("origin"); origin.has_value()) {
    const std::string o = absl::AsciiStrToLower(*origin);
    const bool listed = std::find(options_.allowed_origins.begin(), options_.allowed_origins.end(), o) !=
                        options_.allowed_origins.end();
    const std::string oh = OriginHost(o);
    const bool same_host = std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), oh) !=
                           options_.allowed_hosts.end();
    if (!listed && !same_host) {
      ctx.outcome = "forbidden";
      return RpcError(403, nullptr, mcp::kInvalidRequest, "Forbidden: Origin not allowed");
    }
  }

  auto auth = request.Header("authorization");
  std::string token;
  if (auth.has_value() && auth->size() > 7 && absl::EqualsIgnoreCase(auth->substr(0, 7), "bearer ")) {
    token = std::string(absl::StripAsciiWhitespace(auth->substr(7)));
  }
  auto unauthorized = [&](absl::string_view why) {
    http::Response r = RpcError(401, nullptr, mcp::kInvalidRequest, why);
    std::string challenge = "Bearer realm=\"bastion\"";
    if (access_tokens_ != nullptr) {
      // RFC 9728 §5.1: where to find out how to sign in to exactly this URL.
      absl::StrAppend(&challenge, ", resource_metadata=\"",
                      access_tokens_->ResourceMetadataUrl(ctx.tenant_slug, ctx.server), "\", scope=\"mcp\"");
      if (!token.empty()) absl::StrAppend(&challenge, ", error=\"invalid_token\"");
    }
    r.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    return r;
  };
  if (token.empty()) {
    ctx.outcome = "unauthenticated";
    return unauthorized(access_tokens_ != nullptr
                            ? "Unauthorized: sign in (your client can discover how) or send Authorization: Bearer "
                              "<token issued by your Bastion admin>"
                            : "Unauthorized: send Authorization: Bearer <token issued by your Bastion admin>");
  }
  auto identity = access_tokens_ != nullptr && access_tokens_->Handles(token)
                      ? access_tokens_->Authenticate(token, ctx.tenant_slug, ctx.server)
                      : directory_.Authenticate(token);
  if (!identity.ok()) {
    const auto code = identity.status().code();
    if (code == absl::StatusCode::kUnauthenticated || code == absl::StatusCode::kPermissionDenied) {
      ctx.outcome = "unauthenticated";
      return unauthorized(absl::StrCat("Unauthorized: ", identity.status().message()));
    }
    ctx.outcome = "unavailable";
    return RpcError(503, nullptr, kUnavailable, "Bastion cannot verify your token right now; retry shortly");
  }
  // A token of another tenant gets exactly what an unknown tenant gets.
  if (identity->tenant_slug != ctx.tenant_slug) {
    ctx.outcome = "not_found";
    return RpcError(404, nullptr, mcp::kInvalidRequest, "Not found: no such MCP server");
  }
  ctx.identity = *std::move(identity);
  ctx.token = crypto::SecretString(std::move(token));

  if (!tenant_limiter_.Allow(ctx.identity.tenant_id, &ctx.retry_after) ||
      !UserLimiter(ctx.tenant_slug).Allow(ctx.identity.user_id, &ctx.retry_after)) {
    ctx.outcome = "rate_limited";
    const int64_t seconds = RetryAfterSeconds(ctx.retry_after);
    http::Response r = RpcError(429, nullptr, kRateLimited, RateLimitMessage(seconds),
                                boost::json::value(boost::json::object{{"retryAfterSeconds", seconds}}));
    r.headers.emplace_back("Retry-After", absl::StrCat(seconds));
    return r;
  }

  auto access = directory_.CheckAccess(ctx.tenant_slug);
  if (!access.ok()) {
    ctx.outcome = "unavailable";
    return RpcError(503, nullptr, kUnavailable, "Bastion cannot check your tenant's access right now; retry shortly");
  }
  if (!access->allowed) {
    ctx.outcome = "access_refused";
    return RpcError(403, nullptr, kAccessRefused, access->message);
  }

  if (auto version = request.Header("mcp-protocol-version");
      version.has_value() && !mcp::IsSupportedProtocolVersion(*version)) {
    ctx.outcome = "bad_request";
    return RpcError(400, nullptr, mcp::kInvalidRequest,
                    absl::StrCat("Bad Request: unsupported MCP-Protocol-Version ", *version,
                                 "; supported: 2025-11-25, 2025-06-18, 2025-03-26"));
  }
  return std::nullopt;
}

http::Response McpEndpoint::Handle(const http::Request& request) {
  Context ctx;
  ctx.start = clock_.Now();
  http::Response response;
  if (request.method != "POST" && request.method != "DELETE" && request.method != "GET") {
    response = RpcError(405, nullptr, mcp::kInvalidRequest, "Method not allowed: use POST, GET or DELETE");
    response.headers.emplace_back("Allow", "GET, POST, DELETE");
    return response;
  }
  if (auto refusal = Admit(request, ctx); refusal.has_value()) {
    response = ctx.outcome == "rate_limited" && request.method == "POST"
                   ? RateLimited(request, ctx, *std::move(refusal))
                   : *std::move(refusal);
  } else if (request.method == "DELETE") {
    auto id = request.Header("mcp-session-id");
    if (!id.has_value()) {
      ctx.outcome = "bad_request";
      response = RpcError(400, nullptr, mcp::kInvalidRequest, "Bad Request: MCP-Session-Id header is required");
    } else {
      auto session = sessions_.Verify(std::string(*id));
      if (!session.ok() || session->user_id != ctx.identity.user_id || session->server != ctx.server) {
        ctx.outcome = "session_not_found";
        response = RpcError(404, nullptr, mcp::kInvalidRequest, "Session not found");
      } else {
        sessions_.End(std::string(*id));
        response.status = 200;
      }
    }
    ctx.method_label = "delete";
  } else if (request.method == "GET") {
    response = RpcError(405, nullptr, mcp::kInvalidRequest, "Use PrepareStream for GET");
  } else {
    response = HandlePost(request, ctx);
  }
  const absl::Duration latency = clock_.Now() - ctx.start;
  stats_.Request(ctx.method_label, ctx.outcome, latency);
  // One access line per request: who (ids, never tokens), what, how it ended.
  log::Info("mcp request", {{"http_method", request.method},
                            {"method", ctx.method_label},
                            {"tool", ctx.tool},
                            {"status", response.status},
                            {"outcome", ctx.outcome},
                            {"tenant_id", ctx.identity.tenant_id},
                            {"user_id", ctx.identity.user_id},
                            {"latency_ms", static_cast<double>(absl::ToDoubleMilliseconds(latency))}});
  return response;
}

absl::variant<http::Response, StreamGrant> McpEndpoint::PrepareStream(const http::Request& request) {
  Context ctx;
  ctx.start = clock_.Now();
  ctx.method_label = "stream";
  auto prepared = [&]() -> absl::variant<http::Response, StreamGrant> {
    if (auto refusal = Admit(request, ctx); refusal.has_value()) return *std::move(refusal);
    if (!Accepts(request.Header("accept").value_or(""), "text/event-stream")) {
      ctx.outcome = "bad_request";
      return RpcError(406, nullptr, mcp::kInvalidRequest, "Not Acceptable: GET must accept text/event-stream");
    }
    auto id = request.Header("mcp-session-id");
    if (!id.has_value()) {
      ctx.outcome = "bad_request";
      return RpcError(400, nullptr, mcp::kInvalidRequest, "Bad Request: MCP-Session-Id header is required");
    }
    auto session = sessions_.Verify(std::string(*id));
    if (!session.ok() || session->user_id != ctx.identity.user_id || session->server != ctx.server) {
      ctx.outcome = "session_not_found";
      return RpcError(404, nullptr, mcp::kInvalidRequest, "Session not found");
    }
    return StreamGrant{ctx.identity, std::string(*id), ctx.server, ctx.token};
  }();
  stats_.Request(ctx.method_label, ctx.outcome, clock_.Now() - ctx.start);
  return prepared;
}

http::Response McpEndpoint::HandlePost(const http::Request& request, Context& ctx) {
  if (!AcceptsBoth(request.Header("accept").value_or(""))) {
    ctx.outcome = "bad_request";
    return RpcError(406, nullptr, mcp::kInvalidRequest,
                    "Not Acceptable: Accept must list application/json and text/event-stream");
  }
  auto content_type = request.Header("content-type").value_or("");
  if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))),
                              "application/json")) {
    ctx.outcome = "bad_request";
    return RpcError(415, nullptr, mcp::kInvalidRequest, "Unsupported Media Type: send Content-Type: application/json");
  }
  mcp::ParseOutcome parsed = mcp::ParseMessage(request.body);
  if (!parsed.message.has_value()) {
    ctx.outcome = "bad_request";
    return Json(400, parsed.error_response);
  }
  const mcp::Message& m = *parsed.message;
  ctx.method_label = MethodLabel(m.method);

  if (m.kind == mcp::Message::Kind::kRequest && m.method == "initialize") {
    std::string session_id;
    boost::json::object reply = Initialize(m, ctx, &session_id);
    http::Response r = Json(200, reply);
    if (!session_id.empty()) r.headers.emplace_back("MCP-Session-Id", session_id);
    return r;
  }

  auto id_header = request.Header("mcp-session-id");
  if (!id_header.has_value()) {
    ctx.outcome = "bad_request";
    return RpcError(400, m.id, mcp::kInvalidRequest, "Bad Request: MCP-Session-Id header is required; call initialize first");
  }
  auto session = sessions_.Verify(std::string(*id_header));
  if (!session.ok() || session->user_id != ctx.identity.user_id || session->tenant_id != ctx.identity.tenant_id ||
      session->server != ctx.server) {
    ctx.outcome = "session_not_found";
    return RpcError(404, m.id, mcp::kInvalidRequest, "Session not found; initialize a new session");
  }

  ctx.url_elicitation = absl::EndsWith(session->protocol_version, "+url");
  if (m.kind != mcp::Message::Kind::kRequest) {
    return http::Response{202, {}, ""};
  }
  if (m.method == "ping") return Json(200, mcp::MakeResult(m.id, boost::json::object{}));
  if (m.method == "tools/list") return Json(200, ListTools(m, ctx));
  if (m.method == "tools/call") return Json(200, CallTool(m, ctx));
  ctx.outcome = "method_not_found";
  return Json(200, mcp::MakeError(m.id, mcp::kMethodNotFound, absl::StrCat("Method not found: ", m.method)));
}

http::Response McpEndpoint::RateLimited(const http::Request& request, Context& ctx, http::Response refusal) {
  mcp::ParseOutcome parsed = mcp::ParseMessage(request.body);
  if (!parsed.message.has_value() || parsed.message->kind != mcp::Message::Kind::kRequest) return refusal;
  const mcp::Message& m = *parsed.message;
  ctx.method_label = MethodLabel(m.method);
  const int64_t seconds = RetryAfterSeconds(ctx.retry_after);
  // The SDKs turn an HTTP 429 into a transport failure; an answer under the request's id reaches
  // the caller. For tools/call a tool error reaches the model itself, which can wait and retry.
  http::Response r = m.method == "tools/call"
                         ? Json(200, mcp::MakeResult(m.id, mcp::ToolError(RateLimitMessage(seconds))))
                         : Json(200, mcp::MakeError(m.id, kRateLimited, RateLimitMessage(seconds),
                                                    boost::json::value(boost::json::object{
                                                        {"retryAfterSeconds", seconds}})));
  r.headers.emplace_back("Retry-After", absl::StrCat(seconds));
  return r;
}

boost::json::object McpEndpoint::Initialize(const mcp::Message& m, Context& ctx, std::string* session_id) {
  auto init = mcp::ParseInitialize(m.params);
  if (!init.ok()) {
    ctx.outcome = "invalid_params";
    return mcp::MakeError(m.id, mcp::kInvalidParams, init.status().message());
  }
  const std::string version = mcp::NegotiateProtocolVersion(init->protocol_version);
  // The elicitation capability is remembered in the session so tools/call knows what to send.
  *session_id = sessions_.Issue(ctx.identity.tenant_id, ctx.identity.user_id, ctx.server,
                                init->url_elicitation ? version + "+url" : version);
  return mcp::MakeResult(m.id, mcp::MakeInitializeResult(version, options_.info));
}

boost::json::object McpEndpoint::ListTools(const mcp::Message& m, Context& ctx) {
  std::string cursor;
  if (m.params.is_object()) {
    if (const auto* c = m.params.as_object().if_contains("cursor"); c != nullptr && !c->is_null()) {
      if (!c->is_string()) {
        ctx.outcome = "invalid_params";
        return mcp::MakeError(m.id, mcp::kInvalidParams, "Invalid params: cursor must be a string");
      }
      cursor = std::string(c->as_string());
    }
  }
  auto allowed = policy_.ListAllowedTools(ctx.identity, ctx.server);
  if (!allowed.ok()) {
    if (allowed.status().code() == absl::StatusCode::kNotFound) {
      ctx.outcome = "not_found";
      return mcp::MakeError(m.id, mcp::kInvalidRequest, "No such MCP server in this tenant");
    }
    ctx.outcome = "unavailable";
    return mcp::MakeError(m.id, kUnavailable, "Bastion cannot load your tools right now; retry shortly");
  }
  const absl::flat_hash_set<std::string> allowed_names(allowed->names.begin(), allowed->names.end());
  std::vector<boost::json::object> visible;
  for (const auto& def : tools_.Definitions()) {
    const auto& name = def.at("name").as_string();
    if (allowed_names.contains(absl::string_view(name.data(), name.size()))) visible.push_back(def);
  }
  auto page = mcp::PageTools(visible, cursor, options_.tools_page_size);
  if (!page.ok()) {
    ctx.outcome = "invalid_params";
    return mcp::MakeError(m.id, mcp::kInvalidParams, page.status().message());
  }
  boost::json::object result{{"tools", std::move(page->tools)}};
  if (!page->next_cursor.empty()) result["nextCursor"] = page->next_cursor;
  return mcp::MakeResult(m.id, std::move(result));
}

boost::json::object McpEndpoint::Audited(Context& ctx, AuditEvent event, boost::json::object reply) {
  event.latency = clock_.Now() - ctx.start;
  ctx.outcome = event.outcome;
  stats_.ToolCall(event.outcome);
  if (!audit_.Record(std::move(event))) {
    log::Error("audit event could not be queued");
  }
  return reply;
}

boost::json::object McpEndpoint::CallTool(const mcp::Message& m, Context& ctx) {
  auto call = mcp::ParseToolCall(m.params);
  if (!call.ok()) {
    ctx.outcome = "invalid_params";
    return mcp::MakeError(m.id, mcp::kInvalidParams, absl::StrCat("Invalid params: ", call.status().message()));
  }
  ctx.tool = call->name;
  if (!tools_.Knows(call->name)) {
    ctx.outcome = "invalid_params";
    return mcp::MakeError(m.id, mcp::kInvalidParams, absl::StrCat("Unknown tool: ", call->name));
  }
  // Never run a call that cannot be audited.
  if (!audit_.HasRoom()) {
    ctx.outcome = "audit_unavailable";
    return mcp::MakeError(m.id, kUnavailable,
                          "Bastion cannot record tool calls right now, so it runs none; retry shortly");
  }
  AuditEvent event;
  event.event_id = crypto::NewUuid();
  event.time = clock_.Now();
  event.tenant_id = ctx.identity.tenant_id;
  event.user_id = ctx.identity.user_id;
  event.email = ctx.identity.email;
  event.client_type = ctx.identity.client_type;
  event.token_id = ctx.identity.token_id;
  event.server = ctx.server;
  event.tool = call->name;
  event.request_id = log::CurrentRequestId();
  event.arguments_digest = crypto::HexEncode(crypto::Sha256(Canonical(call->arguments)));
  // Never run a call whose audit event governance would refuse: it would run unrecorded.
  if (absl::Status storable = ValidateAuditEvent(event); !storable.ok()) {
    ctx.outcome = "error";
    log::Error("tool call refused: its audit event could not be stored",
               {{"tenant_id", ctx.identity.tenant_id}, {"user_id", ctx.identity.user_id},
                {"error", storable.message()}});
    return mcp::MakeError(m.id, mcp::kInternalError,
                          "Bastion cannot record this call in its audit log, so it does not run it");
  }

  auto decision = policy_.Authorize(ctx.identity, ctx.server, call->name);
  if (!decision.ok()) {
    event.outcome = "error";
    event.reason = "policy_unavailable";
    return Audited(ctx, std::move(event),
                   mcp::MakeError(m.id, kUnavailable, "Bastion cannot check this tool's policy right now; retry shortly"));
  }
  event.allowed = decision->allowed;
  event.reason = decision->reason;
  if (!decision->allowed) {
    event.outcome = "denied";
    return Audited(ctx, std::move(event),
                   mcp::MakeResult(m.id, mcp::ToolError(absl::StrCat("Bastion refused ", call->name, ": ",
                                                                     decision->message))));
  }

  // Held until the call returns; over the limit the model is told at once, nothing is sent.
  const ConcurrencyLimiter::Slot slot = calls_in_flight_.TryAcquire(ctx.identity.tenant_id, ctx.identity.user_id);
  if (!slot) {
    event.outcome = "rate_limited";
    return Audited(ctx, std::move(event), mcp::MakeResult(m.id, mcp::ToolError(slot.Message())));
  }

  if (!credential_limiter_.Allow(absl::StrCat(ctx.identity.tenant_id, "/", ctx.server))) {
    event.outcome = "rate_limited";
    return Audited(ctx, std::move(event),
                   mcp::MakeResult(m.id, mcp::ToolError("This PagerDuty credential is at its request budget; "
                                                        "wait a minute and retry")));
  }

  auto credential = credentials_.GetUpstreamCredential(ctx.identity, ctx.server);
  if (!credential.ok()) {
    if (credential.status().code() == absl::StatusCode::kFailedPrecondition ||
        credential.status().code() == absl::StatusCode::kNotFound) {
      auto needed = credentials_.BeginUserAuthorization(ctx.identity, ctx.server);
      event.outcome = "authorization_required";
      if (needed.ok()) {
        const std::string text = absl::StrCat(needed->message.empty() ? "Connect your PagerDuty account first."
                                                                     : needed->message,
                                              " Open this link, approve access, then retry: ", needed->url);
        if (ctx.url_elicitation) {
          boost::json::object data{
              {"elicitations", boost::json::array{{{"mode", "url"},
                                                   {"elicitationId", crypto::NewUuid()},
                                                   {"url", needed->url},
                                                   {"message", text}}}}};
          return Audited(ctx, std::move(event),
                         mcp::MakeError(m.id, mcp::kUrlElicitationRequired, text, boost::json::value(data)));
        }
        return Audited(ctx, std::move(event), mcp::MakeResult(m.id, mcp::ToolError(text)));
      }
      return Audited(ctx, std::move(event),
                     mcp::MakeResult(m.id, mcp::ToolError(absl::StrCat(
                                               "No usable PagerDuty credential: ", credential.status().message()))));
    }
    event.outcome = "error";
    return Audited(ctx, std::move(event),
                   mcp::MakeError(m.id, kUnavailable, "Bastion cannot reach its credential vault; retry shortly"));
  }

  ToolOutcome outcome = tools_.Run(call->name, call->arguments, *credential);
  event.upstream_status = outcome.upstream_status;
  switch (outcome.kind) {
    case ToolOutcome::Kind::kOk:
      event.outcome = "ok";
      return Audited(ctx, std::move(event), mcp::MakeResult(m.id, mcp::ToolResult(outcome.result)));
    case ToolOutcome::Kind::kInvalidArguments:
      event.outcome = "invalid_arguments";
      break;
    case ToolOutcome::Kind::kCredentialRejected:
      event.outcome = "credential_rejected";
      credentials_.Forget(ctx.identity, ctx.server);
      break;
    case ToolOutcome::Kind::kPermissionMissing:
      event.outcome = "permission_missing";
      break;
    case ToolOutcome::Kind::kUpstreamError:
    case ToolOutcome::Kind::kUnavailable:
      event.outcome = "upstream_error";
      break;
  }
  return Audited(ctx, std::move(event), mcp::MakeResult(m.id, mcp::ToolError(outcome.message)));
}

}  // namespace bastion::edge
