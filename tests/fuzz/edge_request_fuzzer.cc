// Raw HTTP requests to the edge's MCP endpoint: Boost.Beast parses the head as the edge's HTTP
// server does (same body limit), then McpEndpoint handles it (path, Host, Origin, Authorization,
// Accept, Content-Type, MCP-Protocol-Version, MCP-Session-Id, the JSON-RPC body) and the OAuth
// callback's query is decoded. The literal `$SESSION` in an input stands for a session id the
// fixture issued, so seeds can reach the session-bound methods. Nothing may crash; every answer
// is a status the edge sends and, when JSON, valid JSON.
#include <cstdint>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/edge/edge_server.h"
#include "services/edge/mcp_endpoint.h"
#include "services/edge/session.h"
#include "services/edge/testing/fakes.h"

namespace {

namespace bhttp = boost::beast::http;
using namespace bastion;
using namespace bastion::edge;

constexpr size_t kMaxBodyBytes = 1 << 20;  // the edge's default --max_body_bytes

EndpointOptions Options() {
  EndpointOptions o;
  o.allowed_origins = {"https://claude.ai"};
  o.tools_page_size = 2;
  // The fake clock never advances: limits high enough that the fuzzer is never throttled.
  o.tenant_requests_per_second = 1e12;
  o.user_requests_per_second = 1e12;
  o.credential_calls_per_minute = 1e12;
  return o;
}

struct Fixture {
  FakeClock clock{absl::FromUnixSeconds(1767225600)};
  FakeDirectory directory;
  FakePolicy policy;
  FakeCredentials credentials;
  FakeTools tools;
  FakeAudit audit;
  metrics::Registry registry;
  EdgeStats stats{registry};
  SessionCodec sessions{{"session-key"}, clock, absl::Hours(24)};
  McpEndpoint endpoint{Options(), directory, policy, credentials, tools, audit, sessions, clock, stats};
  std::string session = sessions.Issue("t-acme", "u-ana", "pagerduty", "2025-11-25");

  Fixture() {
    directory.AddToken("bst_ana", Identity{"t-acme", "acme", "u-ana", "ana@acme.com", {}, "personal", "tok1"});
    directory.AddToken("bst_hank",
                       Identity{"t-globex", "globex", "u-hank", "hank@globex.com", {}, "personal", "tok3"});
    directory.SetAccess("paused", TenantAccess{false, "AI access is paused by your administrators", 1});
    policy.Allow("u-ana", "list_incidents");
    policy.Allow("u-ana", "create_incident");
  }
};

void CheckResponse(const http::Response& r) {
  if (r.status < 200 || r.status > 599) __builtin_trap();
  auto type = http::FindHeader(r.headers, "content-type");
  if (type.has_value() && *type == "application/json") {
    boost::system::error_code ec;
    (void)boost::json::parse(r.body, ec);
    if (ec) __builtin_trap();  // the edge sent broken JSON
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  const std::string raw = absl::StrReplaceAll(
      std::string(reinterpret_cast<const char*>(data), size), {{"$SESSION", f->session}});

  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(kMaxBodyBytes);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(raw), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers 400 before the edge sees it

  // The conversion HttpServer does before a handler runs.
  auto& message = parser.get();
  http::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = "127.0.0.1";

  if (request.path == "/oauth/callback") {
    for (auto& [key, value] : ParseQuery(request.query)) (void)key.size(), (void)value.size();
    return 0;
  }
  if (request.method == "GET") {
    auto prepared = f->endpoint.PrepareStream(request);
    if (auto* refusal = absl::get_if<http::Response>(&prepared)) CheckResponse(*refusal);
  } else {
    CheckResponse(f->endpoint.Handle(request));
  }
  absl::MutexLock lock(&f->audit.mu);
  f->audit.events.clear();
  return 0;
}
