#include "common/pagerduty/executor.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/log/log.h"
#include "common/pagerduty/catalog.h"
#include "common/pagerduty/request_builder.h"
#include "common/pagerduty/text.h"
#include "common/pagerduty/validate.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
using internal::Cat;
using Query = std::vector<std::pair<std::string, std::string>>;

constexpr char kAccept[] = "application/vnd.pagerduty+json;version=2";
constexpr char kContentType[] = "application/json";
constexpr char kRejected[] = "PagerDuty rejected the credential: it is invalid or expired";
// PagerDuty refuses any page that reaches past this many records.
constexpr int kMaxOffsetPlusLimit = 10000;
// Upstream text quoted in a message is cut here so one odd reply cannot flood the model.
constexpr size_t kMaxQuotedBytes = 400;

std::string_view Str(const json::value* value) {
  if (value == nullptr || !value->is_string()) return {};
  return value->get_string();
}

const json::value* Member(const json::value& value, std::string_view key) {
  return value.is_object() ? value.get_object().if_contains(key) : nullptr;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string Truncated(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return std::string(text);
  return Cat(text.substr(0, kMaxQuotedBytes), "...");
}

// The status-class label of one HTTP exchange; 429 gets its own class because it means
// PagerDuty's rate limit, which operators watch separately from other refusals.
std::string StatusClass(const absl::StatusOr<http::ClientResponse>& response) {
  if (!response.ok()) return "transport_error";
  const int status = response->status;
  if (status == 429) return "429";
  if (status >= 200 && status <= 599) return Cat(std::to_string(status / 100), "xx");
  return "other";
}

std::string DurationText(absl::Duration d) {
  return Cat(std::to_string(absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)))), " s");
}

// The argument's value, else the schema's default for it, as text ("" when neither).
std::string ArgOrDefault(const ToolDef& tool, const json::object& args, std::string_view name) {
  if (const json::value* given = args.if_contains(name); given != nullptr && given->is_string()) {
    return std::string(given->get_string());
  }
  const json::value* properties = tool.input_schema.if_contains("properties");
  const json::value* property = properties ? Member(*properties, name) : nullptr;
  const json::value* fallback = property ? Member(*property, "default") : nullptr;
  return std::string(Str(fallback));
}

bool BoolArgOrDefault(const ToolDef& tool, const json::object& args, std::string_view name,
                      bool otherwise) {
  if (const json::value* given = args.if_contains(name); given != nullptr && given->is_bool()) {
    return given->get_bool();
  }
  const json::value* properties = tool.input_schema.if_contains("properties");
  const json::value* property = properties ? Member(*properties, name) : nullptr;
  const json::value* fallback = property ? Member(*property, "default") : nullptr;
  return fallback != nullptr && fallback->is_bool() ? fallback->get_bool() : otherwise;
}

// Tools that act as "me" need the caller's PagerDuty user before their requests can be built.
bool NeedsUser(const ToolDef& tool, const json::object& args) {
  switch (tool.handler) {
    case Handler::kAddResponders:
      return true;
    case Handler::kUserScope: {
      const std::string scope = ArgOrDefault(tool, args, "request_scope");
      return scope == "assigned" || scope == "teams";
    }
    case Handler::kMyTeams:
      return ArgOrDefault(tool, args, "scope") == "my";
    default:
      return false;
  }
}

bool NeedsFrom(const ToolDef& tool) {
  return std::any_of(tool.calls.begin(), tool.calls.end(),
                     [](const RestCall& call) { return call.from == FromHeader::kRequired; });
}

// "Not Found (code 2100): detail; detail" from PagerDuty's {"error":{"message","code","errors"}}.
std::string ErrorText(const json::value& body, std::string_view raw) {
  const json::value* error = Member(body, "error");
  if (error == nullptr) return raw.empty() ? "no details" : Truncated(raw);
  if (error->is_string()) return Truncated(error->get_string());
  std::string text(Str(Member(*error, "message")));
  if (const json::value* code = Member(*error, "code"); code != nullptr && code->is_number()) {
    text = Cat(text, text.empty() ? "" : " ", "(code ", json::serialize(*code), ")");
  }
  if (const json::value* errors = Member(*error, "errors"); errors && errors->is_array()) {
    std::string details;
    for (const json::value& item : errors->get_array()) {
      details = Cat(details, details.empty() ? "" : "; ",
                    item.is_string() ? std::string(item.get_string()) : json::serialize(item));
    }
    if (!details.empty()) text = Cat(text, ": ", details);
  }
  return Truncated(text.empty() ? std::string(raw) : text);
}

json::value ParseOrNull(std::string_view body) {
  boost::system::error_code error;
  json::value parsed = json::parse(body, error);
  return error ? json::value(nullptr) : parsed;
}

std::optional<absl::Duration> SecondsHeader(const http::ClientResponse& response,
                                            absl::string_view name) {
  std::optional<absl::string_view> value = response.Header(name);
  double seconds = 0;
  if (!value || !absl::SimpleAtod(absl::StripAsciiWhitespace(*value), &seconds))
    return std::nullopt;
  if (!(seconds >= 0)) return std::nullopt;  // Also rejects NaN.
  return absl::Seconds(std::min(seconds, 3600.0));
}

// Why an exchange that never produced an HTTP response failed, and whether trying again is safe.
std::string TransportFailureText(const UpstreamRequest& request, const absl::Status& status,
                                 bool idempotent) {
  const std::string what = Cat(MethodName(request.method), " ", request.path);
  std::string text;
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      text = Cat("PagerDuty did not answer ", what, " in time");
      break;
    case absl::StatusCode::kUnavailable:
      text = Cat("PagerDuty could not be reached for ", what);
      break;
    default:
      text = Cat("The request ", what, " to PagerDuty failed: ",
                 Truncated(std::string_view(status.message().data(), status.message().size())));
  }
  return Cat(text, idempotent ? "; try again later."
                              : "; not retried because the change may have been made: check "
                                "before trying again.");
}

// Replaces every copy of the credential (whole, or the token after its scheme) in `text`.
std::string Scrub(std::string text, const std::string& authorization) {
  std::vector<std::string> secrets = {authorization};
  const size_t space = authorization.find_last_of(" =");
  if (space != std::string::npos) secrets.push_back(authorization.substr(space + 1));
  for (const std::string& secret : secrets) {
    if (secret.size() < 8) continue;  // Too short to be a secret, too common to replace.
    for (size_t at; (at = text.find(secret)) != std::string::npos;) {
      text.replace(at, secret.size(), "[redacted]");
    }
  }
  return text;
}

// One tool call in progress: its deadline, the identity it acts as and what it has seen.
class ToolCall {
 public:
  ToolCall(http::HttpClient& http, const ExecutorOptions& options, const Clock& clock,
           Sleeper& sleeper, const ToolDef& tool, const json::object& args,
           const Credential& credential, std::string base_url,
           metrics::Family<metrics::Counter>* upstream_responses)
      : http_(http),
        options_(options),
        clock_(clock),
        sleeper_(sleeper),
        tool_(tool),
        args_(args),
        credential_(credential),
        base_url_(std::move(base_url)),
        deadline_(clock.Now() + options.total_budget),
        from_email_(credential.from_email),
        upstream_responses_(upstream_responses) {}

  Outcome Run();

 private:
  // The parsed 2xx body (null when empty) of one request, retried as far as that is safe; on
  // failure nullopt, with failure_ saying why.
  std::optional<json::value> Exchange(const UpstreamRequest& request, const Query& query);
  // One request's result for the model: pages followed and assembled, the entity unwrapped.
  std::optional<json::value> Fetch(const UpstreamRequest& request);
  std::optional<json::value> FetchList(const UpstreamRequest& request);
  std::optional<UserIdentity> FetchIdentity();

  Outcome RunSteps(const std::vector<UpstreamRequest>& steps);
  Outcome RunManageIncidents(const std::vector<UpstreamRequest>& steps);
  Outcome RunListOncalls(const std::vector<UpstreamRequest>& steps);
  Outcome RunAppendRouterRule(const std::vector<UpstreamRequest>& steps);
  Outcome RunListSchedules(const std::vector<UpstreamRequest>& steps);
  Outcome RunGetSchedule(const std::vector<UpstreamRequest>& steps);
  Outcome RunUpdateSchedule(const std::vector<UpstreamRequest>& steps);

  json::value Shape(const UpstreamRequest& request, json::value body) const;
  absl::Duration Backoff(int attempt);
  Outcome ResponseFailure(const UpstreamRequest& request, const http::ClientResponse& response);
  // A failure worth retrying after `after`, which this call does not wait out.
  Outcome RetryLater(const UpstreamRequest& request,
                     const absl::StatusOr<http::ClientResponse>& response, absl::Duration after);
  Outcome Ok(json::value result) const;
  Outcome Failure(Outcome::Kind kind, std::string message) const;
  Outcome FromBuildError(const absl::Status& status) const;
  int Cap(const UpstreamRequest& request) const;

  http::HttpClient& http_;
  const ExecutorOptions& options_;
  const Clock& clock_;
  Sleeper& sleeper_;
  const ToolDef& tool_;
  const json::object& args_;
  const Credential& credential_;
  const std::string base_url_;
  const absl::Time deadline_;
  std::string from_email_;
  metrics::Family<metrics::Counter>* const upstream_responses_;
  absl::BitGen random_;

  Outcome failure_;
  int last_status_ = 0;
  std::string last_body_;
  int requests_sent_ = 0;
  absl::Duration waited_ = absl::ZeroDuration();  // between retries, all requests together
};

Outcome ToolCall::Ok(json::value result) const {
  Outcome outcome;
  outcome.kind = Outcome::Kind::kOk;
  // MCP structuredContent must be an object.
  outcome.result =
      result.is_object() ? std::move(result) : json::object{{"result", std::move(result)}};
  outcome.upstream_status = last_status_;
  outcome.requests_sent = requests_sent_;
  return outcome;
}

Outcome ToolCall::Failure(Outcome::Kind kind, std::string message) const {
  Outcome outcome;
  outcome.kind = kind;
  outcome.message = std::move(message);
  outcome.upstream_status = last_status_;
  outcome.requests_sent = requests_sent_;
  return outcome;
}

Outcome ToolCall::FromBuildError(const absl::Status& status) const {
  const std::string message(status.message().data(), status.message().size());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return Failure(Outcome::Kind::kInvalidArguments, message);
    default:
      return Failure(Outcome::Kind::kUnavailable, Cat(tool_.name, " could not run: ", message));
  }
}

int ToolCall::Cap(const UpstreamRequest& request) const {
  const int ceiling = std::max(1, options_.max_records);
  return request.max_records > 0 ? std::min(request.max_records, ceiling) : ceiling;
}

absl::Duration ToolCall::Backoff(int attempt) {
  absl::Duration wait = options_.initial_backoff;
  for (int i = 0; i < attempt && wait < options_.max_backoff; ++i) wait *= 2;
  wait = std::min(wait, options_.max_backoff);
  // Jitter spreads the retries of many callers that failed together.
  return wait / 2 + absl::Uniform(random_, 0.0, 1.0) * (wait / 2);
}

Outcome ToolCall::ResponseFailure(const UpstreamRequest& request,
                                  const http::ClientResponse& response) {
  const int status = response.status;
  const json::value body = ParseOrNull(response.body);
  const std::string what = Cat(MethodName(request.method), " ", request.path);
  const std::string details = ErrorText(body, response.body);
  if (status == 401) return Failure(Outcome::Kind::kCredentialRejected, kRejected);
  if (status == 403) {
    std::string scope;
    if (request.call_index < tool_.calls.size())
      scope = tool_.calls[request.call_index].oauth_scope;
    std::string need;
    if (!scope.empty()) {
      need = Cat(tool_.name, " needs the OAuth scope ", scope);
      if (tool_.oauth_scopes.size() > 1) {
        std::string all;
        for (const std::string& s : tool_.oauth_scopes) all = Cat(all, all.empty() ? "" : ", ", s);
        need = Cat(need, " (all it uses: ", all, ")");
      }
    } else {
      need = Cat(tool_.name, " needs a PagerDuty user or key allowed to do this");
    }
    return Failure(Outcome::Kind::kPermissionMissing,
                   Cat("PagerDuty denied ", what, " (403: ", details, "). ", need,
                       "; with a REST API key, one that is not read-only."));
  }
  if (status == 429) {
    std::optional<absl::Duration> reset = SecondsHeader(response, "ratelimit-reset");
    return Failure(
        Outcome::Kind::kUnavailable,
        Cat("PagerDuty is rate limiting this credential (429)",
            reset ? Cat("; the limit resets in ", DurationText(*reset)) : "", ". Retry later."));
  }
  if (status >= 500) {
    const bool idempotent = request.method != HttpMethod::kPost;
    return Failure(
        Outcome::Kind::kUnavailable,
        Cat("PagerDuty failed on ", what, " (", std::to_string(status), ": ", details, ")",
            idempotent ? "; retried without success. Try again later."
                       : "; not retried because the change may have been made: "
                         "check before trying again."));
  }
  Outcome outcome =
      Failure(Outcome::Kind::kUpstreamError,
              Cat("PagerDuty refused ", what, " (", std::to_string(status), "): ", details));
  if (body.is_object()) outcome.result = body;
  return outcome;
}

Outcome ToolCall::RetryLater(const UpstreamRequest& request,
                             const absl::StatusOr<http::ClientResponse>& response,
                             absl::Duration after) {
  const std::string what = Cat(MethodName(request.method), " ", request.path);
  const std::string advice = Cat("; retry in ", DurationText(after), ".");
  if (!response.ok()) {
    const bool timed_out = response.status().code() == absl::StatusCode::kDeadlineExceeded;
    return Failure(Outcome::Kind::kUnavailable,
                   Cat("PagerDuty ", timed_out ? "did not answer " : "could not be reached for ",
                       what, timed_out ? " in time" : "", advice));
  }
  if (response->status == 429) {
    return Failure(Outcome::Kind::kUnavailable,
                   Cat("PagerDuty is rate limiting this credential (429); the limit resets in ",
                       DurationText(after), ". Retry after that."));
  }
  return Failure(Outcome::Kind::kUnavailable,
                 Cat("PagerDuty failed on ", what, " (", std::to_string(response->status), ": ",
                     ErrorText(ParseOrNull(response->body), response->body), ")", advice));
}

std::optional<json::value> ToolCall::Exchange(const UpstreamRequest& request, const Query& query) {
  UpstreamRequest target;
  target.path = request.path;
  target.query = query;
  if (absl::Status size = CheckRequestTargetSize(target); !size.ok()) {
    failure_ = Failure(Outcome::Kind::kInvalidArguments,
                       std::string(size.message().data(), size.message().size()));
    return std::nullopt;
  }
  http::ClientRequest base;
  base.method = std::string(MethodName(request.method));
  base.url = Cat(base_url_, RequestTarget(target));
  base.headers = {{"Authorization", credential_.authorization},
                  {"Accept", kAccept},
                  {"Content-Type", kContentType}};
  if (request.needs_from || (request.from == FromHeader::kOptional && !from_email_.empty())) {
    base.headers.emplace_back("From", from_email_);
  }
  if (request.body) base.body = json::serialize(*request.body);
  const bool idempotent = request.method != HttpMethod::kPost;

  for (int attempt = 0;; ++attempt) {
    const absl::Duration remaining = deadline_ - clock_.Now();
    if (remaining <= absl::ZeroDuration()) {
      failure_ = Failure(Outcome::Kind::kUnavailable,
                         Cat("PagerDuty did not complete ", tool_.name, " within ",
                             DurationText(options_.total_budget), "; try again later."));
      return std::nullopt;
    }
    http::ClientRequest attempt_request = base;
    attempt_request.timeout = std::min(options_.request_timeout, remaining);
    ++requests_sent_;
    absl::StatusOr<http::ClientResponse> response = http_.SendSync(std::move(attempt_request));
    if (upstream_responses_ != nullptr) {
      upstream_responses_->Add({{"class", StatusClass(response)}}).Increment();
    }

    std::optional<absl::Duration> wait;
    std::optional<absl::Duration> reset;  // When PagerDuty's rate-limit window reopens.
    if (!response.ok()) {
      const absl::StatusCode code = response.status().code();
      const bool transient =
          code == absl::StatusCode::kDeadlineExceeded || code == absl::StatusCode::kUnavailable;
      if (!transient || !idempotent || attempt >= options_.max_retries) {
        failure_ = Failure(Outcome::Kind::kUnavailable,
                           TransportFailureText(request, response.status(), idempotent));
        return std::nullopt;
      }
      wait = Backoff(attempt);
    } else {
      last_status_ = response->status;
      if (response->status == 429 && attempt < options_.max_retries) {
        // PagerDuty says when the window resets; without that, back off. 429 is safe to
        // retry for any method: PagerDuty did not act on the request.
        reset = SecondsHeader(*response, "ratelimit-reset");
        if (!reset) reset = SecondsHeader(*response, "retry-after");
        wait = reset ? *reset + absl::Uniform(random_, 0.0, 1.0) * absl::Milliseconds(250)
                     : Backoff(attempt);
      } else if (response->status >= 500 && idempotent && attempt < options_.max_retries) {
        wait = Backoff(attempt);
      }
    }

    if (wait) {
      // Waits are short or not at all: see ExecutorOptions::max_retry_wait.
      if (waited_ + *wait > options_.max_retry_wait || clock_.Now() + *wait >= deadline_) {
        failure_ = RetryLater(request, response, reset.value_or(*wait));
        return std::nullopt;
      }
      log::Warn("pagerduty request retried",
                {{"tool", tool_.name},
                 {"method", std::string(MethodName(request.method))},
                 {"path", request.path_template},
                 {"status", last_status_},
                 {"attempt", attempt + 1},
                 {"wait_ms", static_cast<long long>(absl::ToInt64Milliseconds(*wait))}});
      waited_ += *wait;
      sleeper_.Sleep(*wait);
      continue;
    }

    last_body_ = response->body;
    if (response->status < 200 || response->status > 299) {
      failure_ = ResponseFailure(request, *response);
      return std::nullopt;
    }
    if (absl::StripAsciiWhitespace(response->body).empty()) return json::value(nullptr);
    boost::system::error_code error;
    json::value parsed = json::parse(response->body, error);
    if (error) {
      failure_ = Failure(Outcome::Kind::kUpstreamError,
                         Cat("PagerDuty answered ", MethodName(request.method), " ", request.path,
                             " with a body that is not JSON"));
      return std::nullopt;
    }
    return parsed;
  }
}

json::value ToolCall::Shape(const UpstreamRequest& request, json::value body) const {
  if (body.is_null()) return json::object{{"ok", true}};
  const json::value* inner =
      request.response_key.empty() ? nullptr : Member(body, request.response_key);
  if (inner == nullptr) return body;
  if (!inner->is_array()) return *inner;
  const size_t cap = static_cast<size_t>(Cap(request));
  json::array items;
  bool more = false;
  for (const json::value& item : inner->get_array()) {
    if (request.keep_ids) {
      const std::string_view id = Str(Member(item, "id"));
      if (std::find(request.keep_ids->begin(), request.keep_ids->end(), id) ==
          request.keep_ids->end()) {
        continue;
      }
    }
    if (items.size() >= cap) {
      more = true;
      break;
    }
    items.push_back(item);
  }
  const json::value* upstream_more = Member(body, "more");
  if (upstream_more != nullptr && upstream_more->is_bool() && upstream_more->get_bool())
    more = true;
  const size_t count = items.size();
  return json::object{
      {request.response_key, std::move(items)}, {"total_returned", count}, {"more", more}};
}

std::optional<json::value> ToolCall::Fetch(const UpstreamRequest& request) {
  if (request.pagination != Pagination::kNone) return FetchList(request);
  std::optional<json::value> body = Exchange(request, request.query);
  if (!body) return std::nullopt;
  return Shape(request, std::move(*body));
}

std::optional<json::value> ToolCall::FetchList(const UpstreamRequest& request) {
  const size_t cap = static_cast<size_t>(Cap(request));
  const std::string& key = request.response_key;
  // The caller's own starting point (an `offset` argument) is kept; the executor owns the rest.
  Query query;
  int offset = 0;
  bool send_offset = false;
  std::optional<size_t> limit_at;
  for (const auto& [name, value] : request.query) {
    if (request.pagination == Pagination::kOffset && name == "offset") {
      int given = 0;
      if (absl::SimpleAtoi(value, &given) && given > 0) offset = given;
      send_offset = true;
      continue;
    }
    if (name == "limit") limit_at = query.size();
    query.emplace_back(name, value);
  }
  int page_size = 0;
  if (request.pagination == Pagination::kOffset) {
    if (!limit_at) {
      limit_at = query.size();
      query.emplace_back("limit", "");
    }
    if (!absl::SimpleAtoi(query[*limit_at].second, &page_size) || page_size < 1) {
      page_size = static_cast<int>(std::min<size_t>(cap, kMaxPageSize));
    }
    page_size = std::min(page_size, kMaxPageSize);
  }

  json::array items;
  bool more = false;
  std::optional<json::value> total;
  for (int page = 0;; ++page) {
    Query page_query = query;
    if (request.pagination == Pagination::kOffset) {
      const int limit = std::min(page_size, kMaxOffsetPlusLimit - offset);
      if (limit < 1) {
        more = true;  // PagerDuty serves nothing past offset+limit 10000.
        break;
      }
      page_query[*limit_at].second = std::to_string(limit);
      if (offset > 0 || send_offset) page_query.emplace_back("offset", std::to_string(offset));
    }
    std::optional<json::value> body = Exchange(request, page_query);
    if (!body) return std::nullopt;
    if (page == 0) {
      if (const json::value* count = Member(*body, "total"); count && count->is_number()) {
        total = *count;
      }
    }
    const json::value* listed = Member(*body, key);
    const size_t received = listed && listed->is_array() ? listed->get_array().size() : 0;
    bool truncated = false;
    if (received > 0) {
      for (const json::value& item : listed->get_array()) {
        if (request.keep_ids) {
          const std::string_view id = Str(Member(item, "id"));
          if (std::find(request.keep_ids->begin(), request.keep_ids->end(), id) ==
              request.keep_ids->end()) {
            continue;
          }
        }
        if (items.size() >= cap) {
          truncated = true;
          break;
        }
        items.push_back(item);
      }
    }
    std::optional<std::pair<std::string, std::string>> next;
    bool upstream_more = false;
    if (request.pagination == Pagination::kOffset) {
      const json::value* flag = Member(*body, "more");
      upstream_more = flag != nullptr && flag->is_bool() && flag->get_bool() && received > 0;
    } else if (std::string_view cursor = Str(Member(*body, "next_cursor")); !cursor.empty()) {
      next.emplace("cursor", std::string(cursor));
    } else if (std::string_view after = Str(Member(*body, "after")); !after.empty()) {
      next.emplace("after", std::string(after));
    }
    if (next) upstream_more = true;
    if (truncated || items.size() >= cap) {
      more = truncated || upstream_more;
      break;
    }
    if (!upstream_more) break;
    if (request.pagination == Pagination::kOffset) {
      offset += static_cast<int>(received);
    } else {
      query.erase(std::remove_if(query.begin(), query.end(),
                                 [&](const auto& param) { return param.first == next->first; }),
                  query.end());
      query.push_back(*next);
    }
  }
  const size_t count = items.size();
  json::object result{{key, std::move(items)}, {"total_returned", count}, {"more", more}};
  if (total && !request.keep_ids) result["total"] = *total;
  return json::value(std::move(result));
}

std::optional<UserIdentity> ToolCall::FetchIdentity() {
  UpstreamRequest me;
  me.method = HttpMethod::kGet;
  me.path = me.path_template = "/users/me";
  me.response_key = "user";
  me.call_index = tool_.calls.size();  // Not one of the tool's calls: no scope to name.
  std::optional<json::value> body = Exchange(me, {});
  if (!body) return std::nullopt;
  const json::value* user = Member(*body, "user");
  UserIdentity identity;
  if (user != nullptr) {
    identity.id = std::string(Str(Member(*user, "id")));
    identity.email = std::string(Str(Member(*user, "email")));
    if (const json::value* teams = Member(*user, "teams"); teams && teams->is_array()) {
      for (const json::value& team : teams->get_array()) {
        const std::string_view id = Str(Member(team, "id"));
        if (!id.empty()) identity.team_ids.emplace_back(id);
      }
    }
  }
  if (identity.id.empty()) {
    failure_ =
        Failure(Outcome::Kind::kUpstreamError,
                "PagerDuty's /users/me answer names no user, so the calling user is unknown");
    return std::nullopt;
  }
  return identity;
}

Outcome ToolCall::RunSteps(const std::vector<UpstreamRequest>& steps) {
  std::optional<json::value> result;
  for (const UpstreamRequest& step : steps) {
    result = Fetch(step);
    if (!result) return failure_;
  }
  return Ok(result ? std::move(*result) : json::object{{"ok", true}});
}

Outcome ToolCall::RunManageIncidents(const std::vector<UpstreamRequest>& steps) {
  // Each field is its own PUT; one PagerDuty refuses does not stop the others. Credential,
  // permission and availability failures would repeat on every PUT, so they stop the run.
  json::array applied;
  json::array failed;
  std::optional<Outcome> first_failure;
  json::value incidents = json::array{};
  for (const UpstreamRequest& step : steps) {
    std::string change = "change";
    if (const json::value* list = Member(*step.body, "incidents");
        list && list->is_array() && !list->get_array().empty()) {
      for (const auto& member : list->get_array()[0].get_object()) {
        if (member.key() != "id" && member.key() != "type") change = std::string(member.key());
      }
    }
    std::optional<json::value> result = Fetch(step);
    if (result) {
      applied.emplace_back(change);
      if (const json::value* updated = Member(*result, "incidents")) incidents = *updated;
      continue;
    }
    if (failure_.kind != Outcome::Kind::kUpstreamError && applied.empty()) return failure_;
    failed.push_back(json::object{{"change", change}, {"error", failure_.message}});
    if (!first_failure) first_failure = failure_;
    if (failure_.kind != Outcome::Kind::kUpstreamError) break;
  }
  const size_t count = incidents.is_array() ? incidents.get_array().size() : 0;
  json::object result{{"incidents", incidents}, {"total_returned", count}, {"applied", applied}};
  if (!first_failure) return Ok(std::move(result));
  if (applied.empty() && failed.size() == 1) return *first_failure;
  std::string message = "Some changes were not applied.";
  if (!applied.empty()) {
    std::string done;
    for (const json::value& change : applied)
      done = Cat(done, done.empty() ? "" : ", ", change.get_string());
    message = Cat(message, " Applied: ", done, ".");
  }
  for (const json::value& item : failed) {
    message = Cat(message, " Not applied: ", item.at("change").get_string(), ": ",
                  item.at("error").get_string());
  }
  result["failed"] = std::move(failed);
  Outcome outcome = Failure(first_failure->kind, std::move(message));
  outcome.result = std::move(result);
  return outcome;
}

Outcome ToolCall::RunListOncalls(const std::vector<UpstreamRequest>& steps) {
  if (steps.empty() || steps[0].role != StepRole::kLookup) return RunSteps(steps);
  std::vector<std::string> policies;
  for (const UpstreamRequest& lookup : steps) {
    std::optional<json::value> service = Fetch(lookup);
    if (!service) return failure_;
    const std::string id(Str(Member(*service, "escalation_policy") != nullptr
                                 ? Member(*Member(*service, "escalation_policy"), "id")
                                 : nullptr));
    if (!id.empty() && std::find(policies.begin(), policies.end(), id) == policies.end()) {
      policies.push_back(id);
    }
  }
  const json::value* given = args_.if_contains("escalation_policy_ids");
  const bool has_given = given && given->is_array() && !given->get_array().empty();
  // Without a policy the query would lose its filter and list every on-call in the account.
  if (policies.empty() && !has_given) {
    return Ok(json::object{{"oncalls", json::array{}}, {"total_returned", 0}, {"more", false}});
  }
  absl::StatusOr<UpstreamRequest> oncalls = BuildOncallsRequest(tool_, args_, policies);
  if (!oncalls.ok()) return FromBuildError(oncalls.status());
  std::optional<json::value> result = Fetch(*oncalls);
  if (!result) return failure_;
  return Ok(std::move(*result));
}

Outcome ToolCall::RunAppendRouterRule(const std::vector<UpstreamRequest>& steps) {
  if (steps.empty() || steps[0].role != StepRole::kLookup) return RunSteps(steps);
  std::optional<json::value> router = Exchange(steps[0], steps[0].query);
  if (!router) return failure_;
  absl::StatusOr<UpstreamRequest> put = BuildAppendRouterRuleRequest(tool_, args_, *router);
  if (!put.ok()) {
    if (put.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Failure(Outcome::Kind::kUpstreamError,
                     std::string(put.status().message().data(), put.status().message().size()));
    }
    return FromBuildError(put.status());
  }
  std::optional<json::value> result = Fetch(*put);
  if (!result) return failure_;
  return Ok(std::move(*result));
}

Outcome ToolCall::RunListSchedules(const std::vector<UpstreamRequest>& steps) {
  json::array schedules;
  bool more = false;
  for (const UpstreamRequest& step : steps) {
    if (step.role != StepRole::kResult) continue;
    std::optional<json::value> list = Fetch(step);
    if (!list) return failure_;
    const bool shift_based = StartsWith(step.path_template, "/v3/");
    const json::value* items = Member(*list, "schedules");
    if (items != nullptr && items->is_array()) {
      for (json::value item : items->get_array()) {
        if (item.is_object())
          item.get_object()["kind"] = shift_based ? "shift_based" : "layer_based";
        schedules.push_back(std::move(item));
      }
    }
    if (const json::value* flag = Member(*list, "more");
        flag && flag->is_bool() && flag->get_bool()) {
      more = true;
    }
  }
  if (BoolArgOrDefault(tool_, args_, "enrich", true)) {
    int lookups = 0;
    for (json::value& item : schedules) {
      if (lookups >= kMaxScheduleLookups) break;
      if (Str(Member(item, "kind")) != "shift_based" || !Str(Member(item, "name")).empty())
        continue;
      const std::string_view id = Str(Member(item, "id"));
      if (id.empty()) continue;
      absl::StatusOr<UpstreamRequest> lookup = BuildScheduleV3Lookup(tool_, id);
      if (!lookup.ok()) continue;
      ++lookups;
      // A name is a nicety: a failed lookup leaves the schedule as listed.
      std::optional<json::value> schedule = Fetch(*lookup);
      if (!schedule) continue;
      if (std::string_view name = Str(Member(*schedule, "name")); !name.empty()) {
        item.get_object()["name"] = name;
      }
    }
  }
  const size_t count = schedules.size();
  return Ok(
      json::object{{"schedules", std::move(schedules)}, {"total_returned", count}, {"more", more}});
}

Outcome ToolCall::RunGetSchedule(const std::vector<UpstreamRequest>& steps) {
  if (steps.empty()) return RunSteps(steps);
  std::optional<json::value> result = Fetch(steps[0]);
  if (result) return Ok(std::move(*result));
  // A shift-based schedule answers the v2 GET with a 400 pointing at the v3 API.
  // The hint may sit in error.message or in error.errors; the check reads the message, so it is
  // given both.
  const json::value error_body =
      json::object{{"error", {{"message", ErrorText(ParseOrNull(last_body_), last_body_)}}}};
  if (steps.size() > 1 && steps[1].role == StepRole::kFallback &&
      failure_.kind == Outcome::Kind::kUpstreamError &&
      IsV3ScheduleRedirect(last_status_, json::serialize(error_body))) {
    result = Fetch(steps[1]);
    if (result) return Ok(std::move(*result));
  }
  return failure_;
}

Outcome ToolCall::RunUpdateSchedule(const std::vector<UpstreamRequest>& steps) {
  if (steps.empty() || steps[0].role != StepRole::kLookup) return RunSteps(steps);
  std::optional<json::value> current = Exchange(steps[0], steps[0].query);
  if (!current) return failure_;
  absl::StatusOr<UpstreamRequest> put = BuildUpdateScheduleRequest(tool_, args_, *current);
  if (!put.ok()) return FromBuildError(put.status());
  std::optional<json::value> result = Fetch(*put);
  if (!result) return failure_;
  return Ok(std::move(*result));
}

Outcome ToolCall::Run() {
  const bool user_credential = StartsWith(credential_.authorization, "Bearer ");
  CallContext context;
  context.now = clock_.Now();
  if (NeedsUser(tool_, args_)) {
    if (!user_credential) {
      return Failure(Outcome::Kind::kPermissionMissing,
                     Cat(tool_.name,
                         " with these arguments acts as the calling PagerDuty user, but this "
                         "connection uses an account-level API key, which has no user. Connect "
                         "with a user-level (OAuth) credential, or choose arguments that do not "
                         "refer to \"me\"."));
    }
    std::optional<UserIdentity> user = FetchIdentity();
    if (!user) return failure_;
    if (from_email_.empty()) from_email_ = user->email;
    context.user = std::move(*user);
  }
  absl::StatusOr<std::vector<UpstreamRequest>> steps = BuildRequests(tool_, args_, context);
  if (!steps.ok()) return FromBuildError(steps.status());
  if (NeedsFrom(tool_) && from_email_.empty()) {
    if (user_credential) {
      std::optional<UserIdentity> user = FetchIdentity();
      if (!user) return failure_;
      from_email_ = user->email;
    }
    if (from_email_.empty()) {
      return Failure(Outcome::Kind::kPermissionMissing,
                     Cat(tool_.name,
                         " must name the acting PagerDuty user (the From header), and this "
                         "connection has no user email. Ask an administrator to set the "
                         "connection's actor email."));
    }
  }
  switch (tool_.handler) {
    case Handler::kManageIncidents:
      return RunManageIncidents(*steps);
    case Handler::kListOncalls:
      return RunListOncalls(*steps);
    case Handler::kAppendRouterRule:
      return RunAppendRouterRule(*steps);
    case Handler::kListSchedules:
      return RunListSchedules(*steps);
    case Handler::kGetSchedule:
      return RunGetSchedule(*steps);
    case Handler::kUpdateSchedule:
      return RunUpdateSchedule(*steps);
    case Handler::kNone:
    case Handler::kUserScope:
    case Handler::kLogWindow:
    case Handler::kAddResponders:
    case Handler::kMyTeams:
      return RunSteps(*steps);
  }
  return RunSteps(*steps);
}

}  // namespace

std::string_view OutcomeKindName(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::kOk:
      return "ok";
    case Outcome::Kind::kInvalidArguments:
      return "invalid_arguments";
    case Outcome::Kind::kUpstreamError:
      return "upstream_error";
    case Outcome::Kind::kCredentialRejected:
      return "credential_rejected";
    case Outcome::Kind::kPermissionMissing:
      return "permission_missing";
    case Outcome::Kind::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

void RealSleeper::Sleep(absl::Duration duration) { absl::SleepFor(duration); }

RealSleeper& RealSleeper::Get() {
  static RealSleeper* const sleeper = new RealSleeper();
  return *sleeper;
}

Executor::Executor(http::HttpClient& http, ExecutorOptions options, const Clock& clock,
                   Sleeper& sleeper)
    : http_(http), options_(std::move(options)), clock_(clock), sleeper_(sleeper) {
  if (options_.registry != nullptr) {
    upstream_responses_ = &metrics::BuildCounter()
                               .Name("bastion_edge_upstream_responses_total")
                               .Help("HTTP exchanges with PagerDuty, retries included, by status class "
                                     "(429 apart; transport_error when nothing came back).")
                               .Register(*options_.registry);
  }
}

Outcome Executor::Run(std::string_view tool_name, const boost::json::value& arguments,
                      const Credential& credential) const {
  auto invalid = [](std::string message) {
    Outcome outcome;
    outcome.kind = Outcome::Kind::kInvalidArguments;
    outcome.message = std::move(message);
    return outcome;
  };
  const ToolDef* tool = FindTool(tool_name);
  if (tool == nullptr) return invalid(Cat("There is no PagerDuty tool named \"", tool_name, "\""));
  if (!arguments.is_null() && !arguments.is_object())
    return invalid("arguments: expected an object");
  const json::object args = arguments.is_object() ? arguments.get_object() : json::object();
  if (absl::Status valid = ValidateArguments(*tool, args); !valid.ok()) {
    return invalid(std::string(valid.message().data(), valid.message().size()));
  }

  std::string region =
      absl::AsciiStrToLower(absl::string_view(credential.region.data(), credential.region.size()));
  std::string base_url;
  if (region.empty() || region == "us") {
    base_url = options_.us_base_url;
  } else if (region == "eu") {
    base_url = options_.eu_base_url;
  } else {
    Outcome outcome;
    outcome.kind = Outcome::Kind::kUnavailable;
    outcome.message = Cat("This PagerDuty connection names the service region \"", region,
                          "\"; expected us or eu. Ask an administrator to fix the connection.");
    return outcome;
  }
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();

  ToolCall call(http_, options_, clock_, sleeper_, *tool, args, credential, std::move(base_url),
                upstream_responses_);
  Outcome outcome = call.Run();
  outcome.message = Scrub(std::move(outcome.message), credential.authorization);
  return outcome;
}

}  // namespace bastion::pagerduty
