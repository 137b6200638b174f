// Shared by the simulator's REST handlers: the parsed request a handler sees, PagerDuty's reply
// and paging conventions, and small JSON helpers. Internal to tests/pagerduty_sim.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/pagerduty_sim/account.h"
#include "tests/pagerduty_sim/rest_api.h"

namespace bastion::pagerduty_sim::internal {

// One request as a handler sees it; the handler runs with the account locked.
struct Call {
  const ApiRequest& request;
  std::map<std::string, std::string> params;  // Path template parameters.
  std::vector<std::pair<std::string, std::string>> query;  // Decoded, in order.
  boost::json::value body;  // Null when the request had none.
  Account& account;
  absl::Time now;
  std::optional<std::string> from_user_id;  // The user the From header names.

  const std::string& Param(const std::string& name) const { return params.at(name); }
  // `key` or `key[]`; the first value.
  std::optional<std::string> Query(absl::string_view key) const;
  // Every value of `key` / `key[]`.
  std::vector<std::string> QueryList(absl::string_view key) const;
  // The user acting: the From header's, else the OAuth token's; empty for neither.
  std::string ActingUserId() const;
  // body[key] when it is an object, else nullptr.
  Object* Wrapped(absl::string_view key);
};

using Handler = std::function<ApiReply(Call&)>;
using Register = std::function<void(const char* method, const char* path, bool writes,
                                    const char* scope, bool from_required, Handler handler)>;

void AddIncidentRoutes(const Register& add);
void AddScheduleRoutes(const Register& add);
void AddDirectoryRoutes(const Register& add);
void AddPlatformRoutes(const Register& add);

ApiReply JsonReply(int status, const boost::json::value& body);
// {"<key>": entity} with private members removed.
ApiReply EntityReply(int status, absl::string_view key, const Object& entity);
ApiReply NoContent();
ApiReply NotFound();
// 400 "Invalid Input Provided" (code 2001) with details.
ApiReply Invalid(std::vector<std::string> errors);

enum class Paging {
  kClassic,  // limit, offset, more, total (null unless total=true)
  kNoTotal,  // limit, offset, more: the /v3 APIs
};
// One page of `items` per the request's limit/offset, or the 400 PagerDuty gives for bad ones.
ApiReply OffsetPage(const Call& c, absl::string_view key, std::vector<boost::json::value> items,
                    Paging paging = Paging::kClassic);
// Validated limit/offset; nullopt plus `error` when they break PagerDuty's rules.
struct PageParams {
  int limit = 25;
  int offset = 0;
};
std::optional<PageParams> ParsePage(const Call& c, ApiReply* error);

boost::json::string_view J(absl::string_view s);
absl::string_view S(const boost::json::string& s);
std::optional<absl::Time> ParseTime(absl::string_view text);
bool ContainsIgnoreCase(absl::string_view haystack, absl::string_view needle);
// The "id" member of member `key` of `o` when it is an object, else "".
absl::string_view RefId(const Object& o, absl::string_view key);
bool HasRef(const Object& o, absl::string_view array_key, absl::string_view id);
// Merges body members into `target`, skipping identity members.
void Merge(Object& target, const Object& patch);
// Objects of `collection` rendered for a list response.
std::vector<boost::json::value> Rendered(const std::vector<Object>& items);
std::optional<boost::json::value> ParseJson(absl::string_view text);

// Who a v2 schedule puts on call at `at` (overrides first, then the first layer's rotation),
// with that shift's bounds; empty when nobody is.
std::string OnCallUser(Account& account, const Object& schedule, absl::Time at, absl::Time* start,
                       absl::Time* end);
// The users an escalation policy's rule at `level` (1-based) notifies at `at`.
std::vector<std::string> LevelUsers(Account& account, const Object& policy, int level, absl::Time at);
// Percent-decoding ('+' is a space), and key=value&... as in query strings and form bodies.
std::string PercentDecode(absl::string_view in);
std::vector<std::pair<std::string, std::string>> ParseForm(absl::string_view query);
// A {"id","type":"user_reference",...} for the user, expanded.
Object UserRef(Account& account, absl::string_view user_id);

}  // namespace bastion::pagerduty_sim::internal
