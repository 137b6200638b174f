#include "services/edge/edge_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/log/log.h"

namespace bastion::edge {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

http::Response Page(int status, absl::string_view title, absl::string_view text) {
  http::Response r;
  r.status = status;
  r.headers = {{"Content-Type", "text/html; charset=utf-8"},
               {"Cache-Control", "no-store"},
               {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"}};
  r.body = absl::StrCat(
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>", HtmlEscape(title),
      "</title><style>body{font-family:sans-serif;max-width:36em;margin:4em auto;}</style></head>"
      "<body><h1>", HtmlEscape(title), "</h1><p>", HtmlEscape(text), "</p></body></html>");
  return r;
}

void Busy(const std::shared_ptr<http::Responder>& responder) {
  http::Response r = http::JsonResponse(
      503, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32003,"message":"Bastion is busy; retry shortly"}})");
  r.headers.emplace_back("Retry-After", "1");
  responder->Respond(std::move(r));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    size_t eq = part.find('=');
    if (eq == absl::string_view::npos) {
      out.emplace_back(Decode(part), "");
    } else {
      out.emplace_back(Decode(part.substr(0, eq)), Decode(part.substr(eq + 1)));
    }
  }
  return out;
}

std::string RequestIdOf(const http::Request& request) {
  auto given = request.Header("x-request-id");
  const bool usable = given.has_value() && !given->empty() && given->size() <= 128 &&
                      std::all_of(given->begin(), given->end(), [](char c) { return c > 0x20 && c < 0x7f; });
  return usable ? std::string(*given) : crypto::NewUuid();
}

std::string StreamHub::ListChangedEvent(int64_t id) {
  return absl::StrCat("id: ", id, "\nevent: message\ndata: ",
                      R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})", "\n\n");
}

StreamHub::ToolsSeen StreamHub::AllowedTools(const Identity& who, const std::string& server) {
  auto allowed = policy_.ListAllowedTools(who, server);
  if (!allowed.ok()) return {"?", absl::InfiniteFuture()};  // unknown: the next successful check decides
  std::vector<std::string> names = allowed->names;
  std::sort(names.begin(), names.end());
  return {absl::StrJoin(names, ","), allowed->valid_until};
}

void StreamHub::Add(const StreamGrant& grant, std::shared_ptr<http::StreamWriter> writer, bool resumed) {
  ToolsSeen seen = AllowedTools(grant.identity, grant.server);
  auto stream = std::make_shared<Stream>(Stream{grant.identity, grant.server, grant.session_id,
                                                SessionCodec::HashOf(grant.session_id), grant.token,
                                                std::move(writer), std::move(seen.names), seen.valid_until});
  absl::MutexLock lock(&mu_);
  if (resumed) stream->writer->Write(ListChangedEvent(next_event_id_++));
  streams_[grant.identity.tenant_id].push_back(std::move(stream));
}

void StreamHub::Recheck(const std::shared_ptr<Stream>& stream) {
  ToolsSeen now = AllowedTools(stream->identity, stream->server);
  absl::MutexLock lock(&mu_);
  if (now.names == "?" || stream->writer->closed()) return;
  stream->tools_valid_until = now.valid_until;
  if (now.names == stream->tools) return;
  stream->tools = std::move(now.names);
  stream->writer->Write(ListChangedEvent(next_event_id_++));
}

void StreamHub::NotifyToolsChanged(const std::string& tenant_id) {
  std::vector<std::shared_ptr<Stream>> affected;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(tenant_id);
    if (it == streams_.end()) return;
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto& s) { return s->writer->closed(); }),
               list.end());
    affected = list;
  }
  for (const auto& stream : affected) {
    if (!executor_.TrySubmit([this, stream] { Recheck(stream); })) {
      log::Warn("busy: a stream's tool list was not rechecked after a policy change");
    }
  }
}

std::vector<std::shared_ptr<StreamHub::Stream>> StreamHub::OpenStreams() {
  std::vector<std::shared_ptr<Stream>> open;
  absl::MutexLock lock(&mu_);
  for (auto& [tenant, list] : streams_) {
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto& s) { return s->writer->closed(); }),
               list.end());
    open.insert(open.end(), list.begin(), list.end());
  }
  return open;
}

void StreamHub::EndSession(const std::string& session_hash) {
  for (const auto& stream : OpenStreams()) {
    if (stream->session_hash == session_hash) stream->writer->Close();
  }
}

std::string StreamHub::WhyClose(const Stream& stream) {
  if (!sessions_.Verify(stream.session_id).ok()) return "session ended or expired";
  const std::string& token = stream.token.value();
  auto who = access_tokens_ != nullptr && access_tokens_->Handles(token)
                 ? access_tokens_->Authenticate(token, stream.identity.tenant_slug, stream.server)
                 : directory_.Authenticate(token);
  if (who.ok()) return who->user_id == stream.identity.user_id ? "" : "token now names another user";
  const auto code = who.status().code();
  // Revoked, expired, disabled: the tenant service refuses the token. Any other failure (it is
  // unreachable) proves nothing, and the next round asks again.
  if (code == absl::StatusCode::kUnauthenticated || code == absl::StatusCode::kPermissionDenied) {
    return "token no longer accepted";
  }
  return "";
}

void StreamHub::Revalidate() {
  const absl::Time now = clock_.Now();
  for (const auto& stream : OpenStreams()) {
    bool grant_expired;
    {
      absl::MutexLock lock(&mu_);
      grant_expired = stream->tools_valid_until <= now;
    }
    const bool queued = executor_.TrySubmit([this, stream, grant_expired] {
      if (std::string why = WhyClose(*stream); !why.empty()) {
        log::Info("closing an MCP stream", {{"reason", why},
                                           {"tenant_id", stream->identity.tenant_id},
                                           {"user_id", stream->identity.user_id}});
        stream->writer->Close();
        return;
      }
      if (grant_expired) Recheck(stream);
    });
    if (!queued) log::Warn("busy: an open stream was not rechecked this round");
  }
}

void StreamHub::KeepAlive() {
  absl::MutexLock lock(&mu_);
  for (auto& [tenant, list] : streams_) {
    for (auto w = list.begin(); w != list.end();) {
      if ((*w)->writer->closed() || !(*w)->writer->Write(": keepalive\n\n")) {
        w = list.erase(w);
      } else {
        ++w;
      }
    }
  }
}

size_t StreamHub::open_streams() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [tenant, list] : streams_) n += list.size();
  return n;
}

void RegisterEdgeRoutes(http::HttpServer& server, McpEndpoint& endpoint, CredentialClient& credentials,
                        Executor& executor, StreamHub& hub) {
  server.RoutePrefix("*", "/mcp/", [&endpoint, &executor, &hub](http::Request request,
                                                               std::shared_ptr<http::Responder> responder) {
    const bool queued = executor.TrySubmit([&endpoint, &hub, request = std::move(request), responder]() {
      log::ScopedRequestId rid(RequestIdOf(request));
      if (request.method != "GET") {
        responder->Respond(endpoint.Handle(request));
        return;
      }
      auto prepared = endpoint.PrepareStream(request);
      if (auto* refusal = absl::get_if<http::Response>(&prepared)) {
        responder->Respond(std::move(*refusal));
        return;
      }
      const StreamGrant& grant = absl::get<StreamGrant>(prepared);
      auto writer = responder->StartStream(
          200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
      if (writer == nullptr) return;
      writer->Write(": stream open\n\n");
      hub.Add(grant, std::move(writer), request.Header("last-event-id").has_value());
    });
    if (!queued) Busy(responder);
  });

  server.Route("GET", "/oauth/callback", [&credentials, &executor](http::Request request,
                                                                   std::shared_ptr<http::Responder> responder) {
    const bool queued = executor.TrySubmit([&credentials, request = std::move(request), responder]() {
      std::string state, code, error;
      for (auto& [k, v] : ParseQuery(request.query)) {
        if (k == "state") state = v;
        if (k == "code") code = v;
        if (k == "error") error = v;
      }
      if (!error.empty()) {
        responder->Respond(Page(400, "PagerDuty was not connected",
                                absl::StrCat("PagerDuty answered: ", error,
                                             ". Ask your AI client to try the tool again to get a new link.")));
        return;
      }
      if (state.empty() || code.empty()) {
        responder->Respond(Page(400, "PagerDuty was not connected",
                                "This page needs the code and state PagerDuty sends back. Start again from "
                                "the link your AI client showed you."));
        return;
      }
      auto done = credentials.CompleteUserAuthorization(state, code);
      if (!done.ok()) {
        responder->Respond(Page(400, "PagerDuty was not connected",
                                absl::StrCat(done.status().message(),
                                             " Ask your AI client to try the tool again to get a new link.")));
        return;
      }
      responder->Respond(Page(200, "PagerDuty is connected",
                              absl::StrCat(*done, ". You can close this window and return to your AI client.")));
    });
    if (!queued) Busy(responder);
  });
}

}  // namespace bastion::edge
