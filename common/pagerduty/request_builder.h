// Turns a tool call's arguments into PagerDuty REST requests, purely: no I/O, no clock, no
// globals. The executor sends the requests, follows pages and runs the composite protocols below.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pagerduty/catalog.h"

namespace bastion::pagerduty {

// The PagerDuty user behind the credential (GET /users/me), when there is one.
struct UserIdentity {
  std::string id;
  std::string email;
  std::vector<std::string> team_ids;
};

struct CallContext {
  absl::Time now = absl::UnixEpoch();  // the caller sets the current time
  // Absent for an account-level API key: tools that act as "me" then refuse to run.
  std::optional<UserIdentity> user;
};

// What the executor does with a request's response.
enum class StepRole {
  kResult,    // part of the tool's result
  kLookup,    // feeds a follow-up builder below; not shown to the model
  kFallback,  // send only if the previous request failed as IsV3ScheduleRedirect describes
};

struct UpstreamRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string path;           // filled in, each path parameter percent-encoded
  std::string path_template;  // the spec's template, e.g. "/incidents/{id}"
  // In order; an array argument repeats its key (`statuses[]=a&statuses[]=b`). Unencoded.
  std::vector<std::pair<std::string, std::string>> query;
  std::optional<boost::json::value> body;  // present for POST and PUT
  FromHeader from = FromHeader::kNone;     // kOptional: send `From` when an email is known
  bool needs_from = false;  // the operation requires the acting user's email in `From`
  // kOffset: resend with `offset` advanced by the items received (other params unchanged) while
  // the response says `more` and fewer than max_records were collected. kCursor: resend with
  // `after` set to the response's `after` until it is null.
  Pagination pagination = Pagination::kNone;
  std::string response_key;  // where the result sits in the response body; empty if none
  // For lists: stop collecting after this many items (pages are followed until then).
  int max_records = 0;
  // When set, keep only list items whose "id" is listed (list_teams scope=my).
  std::optional<std::vector<std::string>> keep_ids;
  StepRole role = StepRole::kResult;
  size_t call_index = 0;  // index into ToolDef::calls
};

// The requests for a call with already validated arguments (see validate.h), in the order they
// must be sent. Schema defaults are applied first; path arguments fill every call's template,
// the others go to the tool's last call unless its handler says otherwise. Arguments of the
// wrong shape give InvalidArgument, never a crash. Errors: InvalidArgument for arguments the
// schema cannot express a rule for (e.g. manage_incidents with nothing to change), and
// FailedPrecondition when the tool needs a user identity that `context` does not have.
//
// Composite tools return only what their arguments determine:
// - manage_incidents: one PUT /incidents per given field (status, urgency, assignment,
//   escalation_level); the last response is the result.
// - list_oncalls with service_ids: one kLookup GET /services/{id} per service; then
//   BuildOncallsRequest with the escalation policy IDs found. Without service_ids: GET /oncalls.
// - append_event_orchestration_router_rule: the kLookup GET of the router; then
//   BuildAppendRouterRuleRequest with its response.
// - list_schedules: GET /schedules and GET /v3/schedules (both kResult); for each shift-based
//   schedule listed without a name, up to kMaxScheduleLookups and only if `enrich`,
//   BuildScheduleV3Lookup.
// - get_schedule: with kind, the one matching GET; without, the v2 GET then the v3 GET as
//   kFallback.
// - update_schedule: the PUT when name and time_zone are both given; otherwise the kLookup
//   GET /v3/schedules/{id}, then BuildUpdateScheduleRequest with its response.
absl::StatusOr<std::vector<UpstreamRequest>> BuildRequests(const ToolDef& tool,
                                                           const boost::json::object& args,
                                                           const CallContext& context = {});

inline constexpr int kMaxScheduleLookups = 50;

// GET /oncalls for list_oncalls, with `escalation_policy_ids` (from the services) added to any
// the caller gave.
absl::StatusOr<UpstreamRequest> BuildOncallsRequest(
    const ToolDef& tool, const boost::json::object& args,
    const std::vector<std::string>& escalation_policy_ids);

// PUT of the router read by the lookup (its response body, wrapped or not) with the new rule
// appended to the first rule set. FailedPrecondition if the router has no rule set.
absl::StatusOr<UpstreamRequest> BuildAppendRouterRuleRequest(const ToolDef& tool,
                                                             const boost::json::object& args,
                                                             const boost::json::value& router);

// GET /v3/schedules/{id} for list_schedules' name lookups.
absl::StatusOr<UpstreamRequest> BuildScheduleV3Lookup(const ToolDef& tool,
                                                      std::string_view schedule_id);

// PUT /v3/schedules/{id} with name and time_zone taken from `current` (the lookup's response
// body) where the arguments leave them out.
absl::StatusOr<UpstreamRequest> BuildUpdateScheduleRequest(const ToolDef& tool,
                                                           const boost::json::object& args,
                                                           const boost::json::value& current);

// True for the 400 that GET /schedules/{id} returns for a shift-based schedule, whose message
// points to the v3 API. A genuine bad request is not mistaken for it.
bool IsV3ScheduleRedirect(int http_status, std::string_view response_body);

// `path?query` with every key and value percent-encoded (RFC 3986 unreserved kept).
std::string RequestTarget(const UpstreamRequest& request);

// Longest `path?query` sent to PagerDuty. Common proxies and servers refuse URLs past 8 KiB,
// and a request with thousands of filter values holds an edge worker for nothing (issue 11,
// defect 3), so such a request is refused before it is sent.
inline constexpr size_t kMaxRequestTargetBytes = 8192;

// InvalidArgument, telling the model to narrow its filters, when RequestTarget(request) is
// longer than kMaxRequestTargetBytes. BuildRequests and BuildOncallsRequest check every request
// they build; the executor checks again before each send (paging adds parameters).
absl::Status CheckRequestTargetSize(const UpstreamRequest& request);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view text);

}  // namespace bastion::pagerduty
