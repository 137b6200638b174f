#include "tests/pagerduty_sim/rest_api.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim {

namespace json = boost::json;
using internal::Call;

namespace {

std::vector<std::string> Segments(absl::string_view path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

// OAuth scopes: "read"/"write" are PagerDuty's classic all-resource scopes; a granular
// "<resource>.write" also allows "<resource>.read".
bool ScopeAllows(const std::vector<std::string>& granted, absl::string_view required) {
  for (const std::string& s : granted) {
    if (s == "write" || s == required) return true;
    if (s == "read" && absl::EndsWith(required, ".read")) return true;
    if (absl::EndsWith(required, ".read") && absl::EndsWith(s, ".write") &&
        absl::StripSuffix(s, ".write") == absl::StripSuffix(required, ".read")) {
      return true;
    }
  }
  return false;
}

}  // namespace

RestApi::RestApi(uint64_t seed, std::string subdomain, std::function<absl::Time()> now)
    : now_(std::move(now)), account_(seed, now_(), std::move(subdomain)) {
  AddRoutes();
}

void RestApi::Add(const char* method, const char* path, bool writes, const char* scope, bool from,
                  Body body) {
  routes_.push_back(Route{Operation{method, path, writes, scope, from}, Segments(path), std::move(body)});
}

void RestApi::AddRoutes() {
  internal::Register add = [this](const char* method, const char* path, bool writes, const char* scope,
                                  bool from, internal::Handler handler) {
    Add(method, path, writes, scope, from, std::move(handler));
  };
  internal::AddIncidentRoutes(add);
  internal::AddScheduleRoutes(add);
  internal::AddDirectoryRoutes(add);
  internal::AddPlatformRoutes(add);
}

std::vector<Operation> RestApi::Operations() const {
  std::vector<Operation> out;
  for (const Route& r : routes_) out.push_back(r.op);
  return out;
}

ApiReply RestApi::Handle(const ApiRequest& request) {
  const std::vector<std::string> segments = Segments(request.path);
  const Route* best = nullptr;
  int best_literals = -1;
  std::map<std::string, std::string> params;
  for (const Route& route : routes_) {
    if (route.op.method != request.method || route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> candidate;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& t = route.segments[i];
      if (t.size() > 2 && t.front() == '{' && t.back() == '}') {
        candidate[t.substr(1, t.size() - 2)] = internal::PercentDecode(segments[i]);
      } else if (t == segments[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    // "/users/me" must beat "/users/{id}": the most literal template wins.
    if (ok && literals > best_literals) {
      best = &route;
      best_literals = literals;
      params = std::move(candidate);
    }
  }
  if (best == nullptr) return internal::NotFound();

  const Caller& caller = request.caller;
  if (best->op.writes && caller.read_only) {
    return ErrorReply(403, 2010, "Access Denied",
                      {"This API key is read-only: it cannot create, update or delete"});
  }
  if (!caller.account_level && !best->op.scope.empty() && !ScopeAllows(caller.scopes, best->op.scope)) {
    return ErrorReply(403, 2010, "Access Denied",
                      {absl::StrCat("The access token lacks the OAuth scope ", best->op.scope)});
  }

  absl::MutexLock lock(&mu_);
  Call call{request, std::move(params), internal::ParseForm(request.query), json::value(nullptr), account_, now_(), {}};
  if (request.from && !request.from->empty()) {
    for (const Object& user : account_.Items("users")) {
      if (absl::EqualsIgnoreCase(Str(user, "email"), *request.from)) {
        call.from_user_id = std::string(Str(user, "id"));
      }
    }
  }
  if (best->op.from_required) {
    if (!request.from || request.from->empty()) {
      return internal::Invalid({"The From header is required for this operation: the email "
                                "address of a user in this account"});
    }
    if (!call.from_user_id) return internal::Invalid({"Requester User Not Found"});
  }
  if (!absl::StripAsciiWhitespace(request.body).empty()) {
    std::optional<json::value> body = internal::ParseJson(request.body);
    if (!body || !body->is_object()) return internal::Invalid({"The request body is not a JSON object"});
    call.body = std::move(*body);
  }
  return best->body(call);
}

std::optional<Object> RestApi::Find(absl::string_view collection, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  const Object* o = account_.Find(collection, id);
  if (o == nullptr) return std::nullopt;
  return *o;
}

std::vector<Object> RestApi::Items(absl::string_view collection) {
  absl::MutexLock lock(&mu_);
  return account_.Items(collection);
}

std::optional<std::string> RestApi::UserByEmail(absl::string_view email) {
  absl::MutexLock lock(&mu_);
  for (const Object& user : account_.Items("users")) {
    if (absl::EqualsIgnoreCase(Str(user, "email"), email)) return std::string(Str(user, "id"));
  }
  return std::nullopt;
}

bool RestApi::UserExists(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  return account_.Find("users", id) != nullptr;
}

}  // namespace bastion::pagerduty_sim
