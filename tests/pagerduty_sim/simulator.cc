#include "tests/pagerduty_sim/simulator.h"

#include <algorithm>
#include <cstring>
#include <queue>
#include <utility>

#include <boost/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim {

namespace json = boost::json;

namespace {

constexpr size_t kMaxRecordedRequests = 10000;
constexpr int kRateLimitPerMinute = 960;  // PagerDuty's documented REST limit per user.
constexpr const char* kRecordedHeaders[] = {"Accept", "Content-Type", "From", "User-Agent"};
constexpr const char* kSecretFormFields[] = {"client_secret", "code", "code_verifier", "refresh_token"};

http::Response FromReply(const ApiReply& reply) {
  http::Response r;
  r.status = reply.status;
  r.body = reply.body;
  if (!reply.body.empty()) r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

std::string AuthScheme(absl::string_view value) {
  if (absl::StartsWith(value, "Token ")) return "Token";
  if (absl::StartsWith(value, "Bearer ")) return "Bearer";
  return "malformed";
}

std::string RedactForm(absl::string_view body) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    bool secret = std::any_of(std::begin(kSecretFormFields), std::end(kSecretFormFields),
                              [&](const char* f) { return kv.first == f; });
    parts.push_back(secret ? absl::StrCat(kv.first, "=REDACTED") : std::string(part));
  }
  return absl::StrJoin(parts, "&");
}

json::object FaultsJson(const Faults& f) {
  return json::object{{"rate_limited", f.rate_limited},
                      {"rate_limit_reset_seconds", f.rate_limit_reset_seconds},
                      {"server_errors", f.server_errors},
                      {"server_error_status", f.server_error_status},
                      {"drop_connections", f.drop_connections},
                      {"latency_ms", absl::ToInt64Milliseconds(f.latency)},
                      {"path_prefix", internal::J(f.path_prefix)}};
}

}  // namespace

// Sends delayed responses from one thread, so added latency never blocks an I/O thread.
class Simulator::Delayer {
 public:
  Delayer() : thread_([this] { Run(); }) {}
  ~Delayer() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  void After(absl::Duration delay, std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    queue_.push(Item{absl::Now() + delay, seq_++, std::move(fn)});
  }

 private:
  struct Item {
    absl::Time at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void Run() {
    for (;;) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || (!queue_.empty() && queue_.top().at <= absl::Now());
        };
        absl::Time wake = queue_.empty() ? absl::Now() + absl::Milliseconds(50) : queue_.top().at;
        mu_.AwaitWithDeadline(absl::Condition(&due), std::min(wake, absl::Now() + absl::Milliseconds(50)));
        if (stopping_) {
          // Answer everything still waiting rather than leave clients hanging.
          while (!queue_.empty()) {
            auto f = queue_.top().fn;
            queue_.pop();
            mu_.Unlock();
            f();
            mu_.Lock();
          }
          return;
        }
        if (queue_.empty() || queue_.top().at > absl::Now()) continue;
        fn = queue_.top().fn;
        queue_.pop();
      }
      fn();
    }
  }

  absl::Mutex mu_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

std::optional<std::string> RecordedRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

absl::StatusOr<std::map<std::string, KeyAccess>> ParseApiKeys(absl::string_view spec) {
  std::map<std::string, KeyAccess> keys;
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, absl::MaxSplits(':', 1));
    absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    absl::string_view access = absl::StripAsciiWhitespace(kv.second);
    if (key.empty()) return absl::InvalidArgumentError("--api_keys: an entry has an empty key");
    if (access == "full" || access.empty()) {
      keys[std::string(key)] = KeyAccess::kFull;
    } else if (access == "read_only") {
      keys[std::string(key)] = KeyAccess::kReadOnly;
    } else {
      return absl::InvalidArgumentError("--api_keys: access must be full or read_only");
    }
  }
  return keys;
}

absl::StatusOr<std::map<std::string, std::string>> ParseOAuthClients(absl::string_view spec) {
  std::map<std::string, std::string> clients;
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, absl::MaxSplits(':', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return absl::InvalidArgumentError("--oauth_clients: entries are client_id:secret");
    }
    clients[std::string(kv.first)] = std::string(kv.second);
  }
  return clients;
}

Simulator::Simulator(SimulatorOptions options)
    : options_(std::move(options)),
      api_(options_.seed, options_.subdomain, [this] { return Now(); }),
      oauth_(OAuthOptions{options_.oauth_clients, options_.access_token_lifetime, absl::Minutes(10),
                          options_.default_oauth_user},
             [this] { return Now(); },
             [this](absl::string_view who) -> std::optional<std::string> {
               if (api_.UserExists(who)) return std::string(who);
               return api_.UserByEmail(who);
             }),
      delayer_(std::make_unique<Delayer>()) {}

Simulator::~Simulator() { Shutdown(); }

absl::Status Simulator::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("the simulator is already started");
  http::HttpServerOptions server_options;
  server_options.host = options_.host;
  server_options.port = options_.port;
  server_options.io_threads = options_.io_threads;
  server_ = std::make_unique<http::HttpServer>(server_options);
  server_->RoutePrefix("*", "/", [this](http::Request request, std::shared_ptr<http::Responder> responder) {
    Dispatch(std::move(request), std::move(responder));
  });
  absl::Status status = server_->Start();
  if (!status.ok()) server_.reset();
  return status;
}

void Simulator::Shutdown() {
  if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
  delayer_.reset();  // Flushes delayed responses (dropped: the server is gone).
}

int Simulator::port() const { return server_ ? server_->port() : 0; }

std::string Simulator::base_url() const { return absl::StrCat("http://", options_.host, ":", port()); }

void Simulator::SetFaults(Faults faults) {
  absl::MutexLock lock(&mu_);
  faults_ = std::move(faults);
}

Faults Simulator::faults() {
  absl::MutexLock lock(&mu_);
  return faults_;
}

absl::Time Simulator::Now() {
  absl::Time base = options_.clock ? options_.clock->Now() : absl::Now();
  absl::MutexLock lock(&mu_);
  return base + clock_offset_;
}

void Simulator::AdvanceClock(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  clock_offset_ += d;
}

int64_t Simulator::TokenRequests(absl::string_view grant_type) { return oauth_.TokenRequests(grant_type); }

void Simulator::RevokeOAuthUser(absl::string_view user_id) { oauth_.RevokeUser(user_id); }

OAuthTokens Simulator::IssueOAuthTokens(absl::string_view client_id, absl::string_view user_id,
                                        absl::string_view scope) {
  return oauth_.Issue(client_id, user_id, scope);
}

std::vector<RecordedRequest> Simulator::requests() {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void Simulator::ClearRequests() {
  absl::MutexLock lock(&mu_);
  requests_dropped_ += requests_.size();
  requests_.clear();
}

void Simulator::Dispatch(http::Request request, std::shared_ptr<http::Responder> responder) {
  if (absl::StartsWith(request.path, "/_sim/")) return responder->Respond(Control(request));

  RecordedRequest record{request.method, request.path, request.query, {}, request.body, 0};
  for (const char* name : kRecordedHeaders) {
    if (auto v = request.Header(name)) record.headers.emplace_back(name, std::string(*v));
  }
  if (auto auth = request.Header("Authorization")) record.headers.emplace_back("Authorization", AuthScheme(*auth));
  if (request.path == "/oauth/token") record.body = RedactForm(request.body);

  size_t index;
  std::optional<http::Response> injected;
  bool drop = false;
  absl::Duration latency;
  {
    absl::MutexLock lock(&mu_);
    if (requests_.size() >= kMaxRecordedRequests) {
      requests_.erase(requests_.begin());
      ++requests_dropped_;
    }
    index = requests_dropped_ + requests_.size();
    requests_.push_back(std::move(record));
    bool matches = absl::StartsWith(request.path, faults_.path_prefix);
    latency = matches ? faults_.latency : absl::ZeroDuration();
    if (matches && faults_.rate_limited > 0) {
      --faults_.rate_limited;
      http::Response r = FromReply(ErrorReply(429, 2020, "Rate Limit Exceeded"));
      r.headers.emplace_back("ratelimit-limit", absl::StrCat(kRateLimitPerMinute));
      r.headers.emplace_back("ratelimit-remaining", "0");
      r.headers.emplace_back("ratelimit-reset", absl::StrCat(faults_.rate_limit_reset_seconds));
      injected = std::move(r);
    } else if (matches && faults_.server_errors > 0) {
      --faults_.server_errors;
      injected = FromReply(ErrorReply(faults_.server_error_status, 2000, "Internal Server Error"));
    } else if (matches && faults_.drop_connections > 0) {
      --faults_.drop_connections;
      drop = true;
    }
  }
  http::Response response = injected ? *std::move(injected) : Serve(request);
  Finish(index, std::move(responder), drop ? std::nullopt : std::make_optional(std::move(response)),
         latency);
}

void Simulator::Finish(size_t record, std::shared_ptr<http::Responder> responder,
                       std::optional<http::Response> response, absl::Duration latency) {
  {
    absl::MutexLock lock(&mu_);
    if (record >= requests_dropped_ && record - requests_dropped_ < requests_.size()) {
      RecordedRequest& recorded = requests_[record - requests_dropped_];
      if (response) {
        recorded.status = response->status;
      } else {
        recorded.dropped = true;
      }
    }
  }
  auto send = [responder = std::move(responder), response = std::move(response)]() mutable {
    if (!response) return responder->Abort();
    responder->Respond(*std::move(response));
  };
  if (latency <= absl::ZeroDuration() || delayer_ == nullptr) return send();
  delayer_->After(latency, std::move(send));
}

http::Response Simulator::Serve(const http::Request& request) {
  if (request.path == "/oauth/authorize") {
    if (request.method != "GET") return http::JsonResponse(405, R"({"error":"method_not_allowed"})");
    return oauth_.Authorize(request);
  }
  if (request.path == "/oauth/token") {
    if (request.method != "POST") return http::JsonResponse(405, R"({"error":"method_not_allowed"})");
    return oauth_.Token(request);
  }
  return ServeRest(request);
}

http::Response Simulator::ServeRest(const http::Request& request) {
  ApiRequest api_request{request.method, request.path, request.query, request.body, std::nullopt, Caller{}};
  std::optional<absl::string_view> auth = request.Header("Authorization");
  if (!auth || auth->empty()) {
    return FromReply(ErrorReply(401, 2006, "Authentication failed", {"The Authorization header is missing"}));
  }
  if (absl::StartsWith(*auth, "Token token=")) {
    std::string key(absl::StripAsciiWhitespace(auth->substr(strlen("Token token="))));
    auto it = options_.api_keys.find(key);
    if (it == options_.api_keys.end()) {
      return FromReply(ErrorReply(401, 2006, "Authentication failed", {"The API key is invalid"}));
    }
    api_request.caller.account_level = true;
    api_request.caller.read_only = it->second == KeyAccess::kReadOnly;
  } else if (absl::StartsWith(*auth, "Bearer ")) {
    OAuthServer::TokenInfo info;
    switch (oauth_.Lookup(absl::StripAsciiWhitespace(auth->substr(strlen("Bearer "))), &info)) {
      case OAuthServer::TokenState::kUnknown:
        return FromReply(ErrorReply(401, 2006, "Authentication failed", {"The access token is invalid or revoked"}));
      case OAuthServer::TokenState::kExpired:
        return FromReply(ErrorReply(401, 2006, "Authentication failed", {"The access token has expired"}));
      case OAuthServer::TokenState::kValid:
        break;
    }
    api_request.caller.account_level = false;
    api_request.caller.user_id = info.user_id;
    api_request.caller.scopes = std::move(info.scopes);
  } else {
    return FromReply(ErrorReply(401, 2006, "Authentication failed",
                                {"Use 'Authorization: Token token=<key>' or 'Authorization: Bearer <token>'"}));
  }
  // PagerDuty tolerates most Accept headers but not ones that exclude JSON or ask for another
  // API version.
  if (auto accept = request.Header("Accept"); accept && !accept->empty()) {
    std::string a = absl::AsciiStrToLower(*accept);
    if (!absl::StrContains(a, "json") && !absl::StrContains(a, "*/*")) {
      return FromReply(ErrorReply(406, 2001, "Not Acceptable", {"Accept must allow application/json"}));
    }
    size_t v = a.find("version=");
    if (absl::StrContains(a, "vnd.pagerduty") && v != std::string::npos && a.substr(v + 8, 1) != "2") {
      return FromReply(ErrorReply(406, 2001, "Not Acceptable", {"Only version=2 of the REST API is served"}));
    }
  }
  if (auto from = request.Header("From")) api_request.from = std::string(*from);
  return FromReply(api_.Handle(api_request));
}

http::Response Simulator::Control(const http::Request& request) {
  const std::string& path = request.path;
  std::optional<json::value> body;
  if (!request.body.empty()) {
    body = internal::ParseJson(request.body);
    if (!body || !body->is_object()) return http::JsonResponse(400, R"({"error":"body must be a JSON object"})");
  }
  const json::object empty;
  const json::object& in = body ? body->as_object() : empty;
  auto number = [&](const char* key, int64_t fallback) -> int64_t {
    const json::value* v = in.if_contains(key);
    return v && v->is_int64() ? v->as_int64() : fallback;
  };

  if (path == "/_sim/healthz") return http::JsonResponse(200, R"({"status":"ok"})");
  if (path == "/_sim/faults") {
    if (request.method == "POST") {
      Faults f;
      f.rate_limited = static_cast<int>(number("rate_limited", 0));
      f.rate_limit_reset_seconds = static_cast<int>(number("rate_limit_reset_seconds", 1));
      f.server_errors = static_cast<int>(number("server_errors", 0));
      f.server_error_status = static_cast<int>(number("server_error_status", 500));
      f.drop_connections = static_cast<int>(number("drop_connections", 0));
      f.latency = absl::Milliseconds(number("latency_ms", 0));
      f.path_prefix = std::string(Str(in, "path_prefix"));
      if (f.server_error_status < 500 || f.server_error_status > 599 || f.rate_limited < 0 || f.server_errors < 0 ||
          f.drop_connections < 0) {
        return http::JsonResponse(400, R"({"error":"counts must be >= 0 and server_error_status 5xx"})");
      }
      SetFaults(f);
    } else if (request.method == "DELETE") {
      SetFaults(Faults{});
    }
    return http::JsonResponse(200, json::serialize(FaultsJson(faults())));
  }
  if (path == "/_sim/requests") {
    if (request.method == "DELETE") {
      ClearRequests();
      return http::JsonResponse(200, R"({"requests":[]})");
    }
    json::array list;
    for (const RecordedRequest& r : requests()) {
      json::object headers;
      for (const auto& [k, v] : r.headers) headers[k] = v;
      list.push_back(json::object{{"method", r.method},
                                  {"path", r.path},
                                  {"query", r.query},
                                  {"headers", std::move(headers)},
                                  {"body", r.body},
                                  {"status", r.status},
                                  {"dropped", r.dropped}});
    }
    return http::JsonResponse(200, json::serialize(json::object{{"requests", std::move(list)}}));
  }
  if (path == "/_sim/clock") {
    if (request.method == "POST") AdvanceClock(absl::Seconds(number("advance_seconds", 0)));
    return http::JsonResponse(200, json::serialize(json::object{{"now", Iso(Now())}}));
  }
  if (path == "/_sim/stats") {
    json::object counts;
    for (const char* grant : {"authorization_code", "refresh_token"}) counts[grant] = TokenRequests(grant);
    return http::JsonResponse(200, json::serialize(json::object{{"token_requests", std::move(counts)}}));
  }
  if (path == "/_sim/oauth/revoke" && request.method == "POST") {
    RevokeOAuthUser(Str(in, "user_id"));
    return http::JsonResponse(200, R"({"revoked":true})");
  }
  return http::JsonResponse(404, R"({"error":"unknown simulator control endpoint"})");
}

}  // namespace bastion::pagerduty_sim
