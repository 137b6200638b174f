#include "common/pagerduty/request_builder.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "common/pagerduty/text.h"
#include "common/status/status_macros.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
using internal::Cat;
using internal::Contains;
using internal::Split;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(Cat(field, ": ", problem));
}

// Top-level arguments the caller left out get the schema's documented default, so the model
// sees in the schema exactly what will be sent.
json::object WithDefaults(const json::object& schema, const json::object& args) {
  json::object out = args;
  const json::value* properties = schema.if_contains("properties");
  if (properties == nullptr || !properties->is_object()) return out;
  for (const auto& property : properties->get_object()) {
    if (out.contains(property.key()) || !property.value().is_object()) continue;
    if (const json::value* fallback = property.value().get_object().if_contains("default")) {
      out[property.key()] = *fallback;
    }
  }
  return out;
}

const json::object& PropertySchema(const json::object& schema, std::string_view name) {
  static const json::object kEmpty;
  const json::value* properties = schema.if_contains("properties");
  if (properties == nullptr || !properties->is_object()) return kEmpty;
  const json::value* property = properties->get_object().if_contains(name);
  if (property == nullptr || !property->is_object()) return kEmpty;
  return property->get_object();
}

absl::StatusOr<std::string> QueryValue(const json::value& value, std::string_view field) {
  switch (value.kind()) {
    case json::kind::string:
      return std::string(value.get_string());
    case json::kind::bool_:
      return std::string(value.get_bool() ? "true" : "false");
    case json::kind::int64:
      return std::to_string(value.get_int64());
    case json::kind::uint64:
      return std::to_string(value.get_uint64());
    case json::kind::double_:
      return json::serialize(value);
    default:
      return Invalid(field, "expected a string, number or boolean");
  }
}

absl::Status AddQuery(UpstreamRequest& request, const std::string& key, const json::value& value,
                      std::string_view field) {
  if (value.is_array()) {
    for (const json::value& item : value.get_array()) {
      ASSIGN_OR_RETURN(std::string text, QueryValue(item, field));
      request.query.emplace_back(key, std::move(text));
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string text, QueryValue(value, field));
  request.query.emplace_back(key, std::move(text));
  return absl::OkStatus();
}

// "2025-01-31T09:00:00+01:00" → "2025-01-31T08:00:00Z". Fractions of a second are dropped:
// PagerDuty's change-event filters take whole seconds (`YYYY-MM-DDThh:mm:ssZ`).
absl::StatusOr<std::string> ToUtc(std::string_view text, std::string_view field) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &time, &error)) {
    return Invalid(field, "expected an ISO 8601 date-time with offset, e.g. 2025-01-31T09:00:00Z");
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

absl::Status SetBodyPath(json::object& body, std::string_view dotted, const json::value& value,
                         std::string_view field) {
  std::vector<std::string_view> segments = Split(dotted, '.');
  json::object* node = &body;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    json::value& child = (*node)[segments[i]];
    if (child.is_null()) child = json::object();
    if (!child.is_object()) return Invalid(field, "conflicts with another argument");
    node = &child.get_object();
  }
  (*node)[segments.back()] = value;
  return absl::OkStatus();
}

// "{arg}" strings in a body default stand for the value of that top-level argument.
std::optional<json::value> Substitute(const json::value& value, const json::object& args) {
  if (value.is_string()) {
    std::string_view text = value.get_string();
    if (text.size() > 2 && text.front() == '{' && text.back() == '}') {
      const json::value* arg = args.if_contains(text.substr(1, text.size() - 2));
      if (arg == nullptr) return std::nullopt;
      return *arg;
    }
    return value;
  }
  if (value.is_object()) {
    json::object out;
    for (const auto& member : value.get_object()) {
      std::optional<json::value> item = Substitute(member.value(), args);
      if (!item) return std::nullopt;
      out[member.key()] = std::move(*item);
    }
    return json::value(std::move(out));
  }
  return value;
}

void ApplyDefault(json::value& node, const std::vector<std::string_view>& segments, size_t index,
                  const json::value& value, const json::object& args) {
  if (!node.is_object()) return;
  json::object& object = node.get_object();
  std::string_view segment = segments[index];
  const bool each = segment.size() >= 2 && segment.substr(segment.size() - 2) == "[]";
  if (each) segment.remove_suffix(2);
  if (index + 1 == segments.size()) {
    if (object.contains(segment)) return;
    if (std::optional<json::value> filled = Substitute(value, args)) object[segment] = *filled;
    return;
  }
  json::value* child = object.if_contains(segment);
  if (child == nullptr) return;
  if (!each) {
    ApplyDefault(*child, segments, index + 1, value, args);
  } else if (child->is_array()) {
    for (json::value& item : child->get_array()) {
      ApplyDefault(item, segments, index + 1, value, args);
    }
  }
}

// A request under construction: path parameters are collected, then filled in at the end.
struct Draft {
  UpstreamRequest request;
  std::map<std::string, std::string> path_params;
};

absl::Status ApplyTarget(const ArgTarget& target, const json::value& value,
                         const std::string& field, const json::object& schema, Draft& draft,
                         bool path_only) {
  UpstreamRequest& request = draft.request;
  if (target.kind == ArgTarget::Kind::kPath) {
    if (!value.is_string()) return Invalid(field, "expected a string ID");
    std::string id(value.get_string());
    // Percent-encoding keeps "/" inside the segment, but "." and ".." would still be read as
    // dot-segments by URL normalisation and reach another resource.
    if (id.empty() || id == "." || id == "..") return Invalid(field, "expected a PagerDuty ID");
    draft.path_params[target.name] = std::move(id);
    return absl::OkStatus();
  }
  if (path_only) return absl::OkStatus();
  switch (target.kind) {
    case ArgTarget::Kind::kQuery:
      return AddQuery(request, target.name, value, field);
    case ArgTarget::Kind::kQueryUtc: {
      if (!value.is_string()) return Invalid(field, "expected an ISO 8601 date-time");
      ASSIGN_OR_RETURN(const std::string utc, ToUtc(value.get_string(), field));
      request.query.emplace_back(target.name, utc);
      return absl::OkStatus();
    }
    case ArgTarget::Kind::kBody:
      if (!request.body) return Invalid(field, "this request has no body");
      return SetBodyPath(request.body->get_object(), target.name, value, field);
    case ArgTarget::Kind::kBodyRoot:
      if (!request.body) return Invalid(field, "this request has no body");
      if (!value.is_object()) return Invalid(field, "expected an object");
      for (const auto& member : value.get_object()) {
        request.body->get_object()[member.key()] = member.value();
      }
      return absl::OkStatus();
    case ArgTarget::Kind::kLimit: {
      if (!value.is_int64() || value.get_int64() < 1)
        return Invalid(field, "expected integer >= 1");
      const int64_t limit = std::min<int64_t>(value.get_int64(), 1000000);
      if (request.pagination != Pagination::kNone) {
        request.max_records = static_cast<int>(limit);
        if (!target.name.empty()) {
          request.query.emplace_back(target.name,
                                     std::to_string(std::min<int64_t>(limit, kMaxPageSize)));
        }
      } else if (!target.name.empty()) {
        request.query.emplace_back(target.name, std::to_string(limit));
      }
      return absl::OkStatus();
    }
    case ArgTarget::Kind::kFields: {
      if (!value.is_object()) return Invalid(field, "expected an object");
      const json::object members = WithDefaults(schema, value.get_object());
      for (const ArgMapping& mapping : target.fields) {
        const json::value* member = members.if_contains(mapping.arg);
        if (member == nullptr) continue;
        RETURN_IF_ERROR(ApplyTarget(mapping.target, *member, Cat(field, ".", mapping.arg),
                                    PropertySchema(schema, mapping.arg), draft, path_only));
      }
      return absl::OkStatus();
    }
    case ArgTarget::Kind::kSpecial:
    case ArgTarget::Kind::kPath:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

Draft StartDraft(const ToolDef& tool, size_t call_index) {
  const RestCall& call = tool.calls[call_index];
  Draft draft;
  UpstreamRequest& request = draft.request;
  request.method = call.method;
  request.path_template = call.path;
  request.from = call.from;
  request.needs_from = call.from == FromHeader::kRequired;
  request.pagination = call.pagination;
  request.response_key = call.response_key;
  request.max_records = call.max_records;
  request.call_index = call_index;
  if (call.method == HttpMethod::kPost || call.method == HttpMethod::kPut) {
    request.body = json::object();
  }
  return draft;
}

absl::StatusOr<UpstreamRequest> FinishDraft(Draft draft) {
  UpstreamRequest& request = draft.request;
  std::string path;
  std::string_view rest = request.path_template;
  while (!rest.empty()) {
    const size_t open = rest.find('{');
    if (open == std::string_view::npos) {
      path.append(rest);
      break;
    }
    const size_t close = rest.find('}', open);
    if (close == std::string_view::npos) break;
    path.append(rest.substr(0, open));
    const std::string name(rest.substr(open + 1, close - open - 1));
    auto it = draft.path_params.find(name);
    if (it == draft.path_params.end()) {
      return absl::InvalidArgumentError(
          Cat("arguments: nothing fills {", name, "} in ", request.path_template));
    }
    path.append(PercentEncode(it->second));
    rest.remove_prefix(close + 1);
  }
  request.path = std::move(path);
  return std::move(request);
}

// One request for calls[call_index]. Path arguments fill whichever placeholders the call has;
// the other arguments apply only when `path_only` is false.
absl::StatusOr<UpstreamRequest> BuildCall(const ToolDef& tool, size_t call_index,
                                          const json::object& args, bool path_only) {
  Draft draft = StartDraft(tool, call_index);
  for (const ArgMapping& mapping : tool.args) {
    const json::value* value = args.if_contains(mapping.arg);
    if (value == nullptr) continue;
    const bool wanted = mapping.target.kind != ArgTarget::Kind::kPath ||
                        Contains(draft.request.path_template, Cat("{", mapping.target.name, "}"));
    if (!wanted) continue;
    RETURN_IF_ERROR(ApplyTarget(mapping.target, *value, Cat("arguments.", mapping.arg),
                                PropertySchema(tool.input_schema, mapping.arg), draft, path_only));
  }
  if (!path_only && draft.request.body) {
    for (const auto& entry : tool.body_defaults) {
      std::vector<std::string_view> segments = Split(entry.key(), '.');
      ApplyDefault(*draft.request.body, segments, 0, entry.value(), args);
    }
  }
  return FinishDraft(std::move(draft));
}

absl::StatusOr<UpstreamRequest> BuildCallForId(const ToolDef& tool, size_t call_index,
                                               std::string_view id, StepRole role) {
  Draft draft = StartDraft(tool, call_index);
  if (id.empty() || id == "." || id == "..") {
    return absl::InvalidArgumentError(Cat("\"", id, "\" is not a PagerDuty ID"));
  }
  draft.path_params["id"] = std::string(id);
  draft.request.role = role;
  return FinishDraft(std::move(draft));
}

const json::object* ObjectArg(const json::object& args, std::string_view name) {
  const json::value* value = args.if_contains(name);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

std::string StringArg(const json::object& args, std::string_view name) {
  const json::value* value = args.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

absl::StatusOr<const UserIdentity*> RequireUser(const CallContext& context, std::string_view what) {
  if (!context.user) {
    return absl::FailedPreconditionError(
        Cat(what,
            " needs a user-level PagerDuty credential; this connection uses an "
            "account-level API key. Scope the request differently or connect as a user."));
  }
  return &*context.user;
}

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildUserScope(const ToolDef& tool,
                                                            const json::object& args,
                                                            const CallContext& context) {
  ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 0, args, false));
  const std::string scope = StringArg(args, "request_scope");
  if (scope == "assigned") {
    ASSIGN_OR_RETURN(const UserIdentity* user, RequireUser(context, "request_scope \"assigned\""));
    request.query.emplace_back("user_ids[]", user->id);
  } else if (scope == "teams") {
    ASSIGN_OR_RETURN(const UserIdentity* user, RequireUser(context, "request_scope \"teams\""));
    // Without any team the filter would vanish and every incident would come back.
    if (user->team_ids.empty()) {
      return absl::FailedPreconditionError(
          "request_scope \"teams\": the calling user is on no team; use request_scope \"all\"");
    }
    for (const std::string& team : user->team_ids) request.query.emplace_back("team_ids[]", team);
  }
  return std::vector<UpstreamRequest>{std::move(request)};
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildLogWindow(const ToolDef& tool,
                                                            const json::object& args,
                                                            const CallContext& context) {
  ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 0, args, false));
  json::object query_model;
  if (const json::object* given = ObjectArg(args, "query_model")) query_model = *given;
  std::string since = StringArg(query_model, "since");
  std::string until = StringArg(query_model, "until");
  if (since.empty()) since = Rfc3339(context.now - absl::Hours(24 * 7));
  if (until.empty()) until = Rfc3339(context.now);
  request.query.insert(request.query.begin(), {{"since", since}, {"until", until}});
  return std::vector<UpstreamRequest>{std::move(request)};
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildManageIncidents(const ToolDef& tool,
                                                                  const json::object& args) {
  const json::object* manage = ObjectArg(args, "manage_request");
  if (manage == nullptr) return Invalid("arguments.manage_request", "expected an object");
  const json::value* ids = manage->if_contains("incident_ids");
  if (ids == nullptr || !ids->is_array() || ids->get_array().empty()) {
    return Invalid("arguments.manage_request.incident_ids", "expected a non-empty list of IDs");
  }
  // Each field is its own PUT, as in the official server, so one rejected change (say, an
  // escalation level the policy lacks) does not block the others.
  std::vector<std::pair<std::string, json::value>> changes;
  if (const json::value* status = manage->if_contains("status")) {
    changes.emplace_back("status", *status);
  }
  if (const json::value* urgency = manage->if_contains("urgency")) {
    changes.emplace_back("urgency", *urgency);
  }
  if (const json::value* assignment = manage->if_contains("assignment")) {
    if (!assignment->is_object() || !assignment->get_object().contains("id")) {
      return Invalid("arguments.manage_request.assignment", "expected a user reference with id");
    }
    json::object assignee = {{"id", assignment->get_object().at("id")}, {"type", "user_reference"}};
    changes.emplace_back("assignments", json::array{json::object{{"assignee", assignee}}});
  }
  if (const json::value* level = manage->if_contains("escalation_level")) {
    changes.emplace_back("escalation_level", *level);
  }
  if (changes.empty()) {
    return Invalid("arguments.manage_request",
                   "give at least one of status, urgency, assignment or escalation_level");
  }
  std::vector<UpstreamRequest> requests;
  for (const auto& [key, value] : changes) {
    json::array incidents;
    for (const json::value& id : ids->get_array()) {
      if (!id.is_string()) {
        return Invalid("arguments.manage_request.incident_ids", "expected string IDs");
      }
      incidents.push_back(json::object{{"id", id}, {"type", "incident_reference"}, {key, value}});
    }
    ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 0, args, true));
    request.body = json::object{{"incidents", std::move(incidents)}};
    requests.push_back(std::move(request));
  }
  return requests;
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildAddResponders(const ToolDef& tool,
                                                                const json::object& args,
                                                                const CallContext& context) {
  ASSIGN_OR_RETURN(const UserIdentity* user, RequireUser(context, "add_responders"));
  ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 0, args, false));
  request.body->get_object()["requester_id"] = user->id;
  return std::vector<UpstreamRequest>{std::move(request)};
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildListOncalls(const ToolDef& tool,
                                                              const json::object& args) {
  const json::value* services = args.if_contains("service_ids");
  if (services == nullptr || !services->is_array() || services->get_array().empty()) {
    ASSIGN_OR_RETURN(UpstreamRequest request, BuildOncallsRequest(tool, args, {}));
    return std::vector<UpstreamRequest>{std::move(request)};
  }
  std::vector<UpstreamRequest> lookups;
  for (const json::value& service : services->get_array()) {
    if (!service.is_string()) return Invalid("arguments.service_ids", "expected string IDs");
    ASSIGN_OR_RETURN(UpstreamRequest lookup,
                     BuildCallForId(tool, 0, service.get_string(), StepRole::kLookup));
    lookups.push_back(std::move(lookup));
  }
  return lookups;
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildListSchedules(const ToolDef& tool,
                                                                const json::object& args) {
  json::object filters;
  if (const json::object* given = ObjectArg(args, "query_model")) filters = *given;
  ASSIGN_OR_RETURN(UpstreamRequest layered, BuildCall(tool, 0, args, false));
  ASSIGN_OR_RETURN(UpstreamRequest shifted, BuildCall(tool, 1, args, false));
  if (const json::value* query = filters.if_contains("query")) {
    RETURN_IF_ERROR(AddQuery(layered, "query", *query, "arguments.query_model.query"));
    RETURN_IF_ERROR(AddQuery(shifted, "query", *query, "arguments.query_model.query"));
  }
  // The v3 list filters by name only; team and include apply to layer-based schedules.
  if (const json::value* teams = filters.if_contains("team_ids")) {
    RETURN_IF_ERROR(AddQuery(layered, "team_ids[]", *teams, "arguments.query_model.team_ids"));
  }
  if (const json::value* include = filters.if_contains("include")) {
    RETURN_IF_ERROR(AddQuery(layered, "include[]", *include, "arguments.query_model.include"));
  }
  int limit = layered.max_records;
  if (const json::value* given = filters.if_contains("limit")) {
    if (!given->is_int64() || given->get_int64() < 1) {
      return Invalid("arguments.query_model.limit", "expected integer >= 1");
    }
    limit = static_cast<int>(std::min<int64_t>(given->get_int64(), 1000));
  }
  layered.max_records = limit;
  shifted.max_records = limit;
  layered.query.emplace_back("limit", std::to_string(std::min(limit, kMaxPageSize)));
  shifted.query.emplace_back("limit", std::to_string(limit));
  return std::vector<UpstreamRequest>{std::move(layered), std::move(shifted)};
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildGetSchedule(const ToolDef& tool,
                                                              const json::object& args) {
  const std::string kind = StringArg(args, "kind");
  if (kind == "layer_based") {
    ASSIGN_OR_RETURN(UpstreamRequest layered, BuildCall(tool, 0, args, false));
    return std::vector<UpstreamRequest>{std::move(layered)};
  }
  ASSIGN_OR_RETURN(UpstreamRequest shifted, BuildCall(tool, 1, args, false));
  if (kind == "shift_based") return std::vector<UpstreamRequest>{std::move(shifted)};
  ASSIGN_OR_RETURN(UpstreamRequest layered, BuildCall(tool, 0, args, false));
  shifted.role = StepRole::kFallback;
  return std::vector<UpstreamRequest>{std::move(layered), std::move(shifted)};
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildUpdateSchedule(const ToolDef& tool,
                                                                 const json::object& args) {
  const json::object* data = ObjectArg(args, "schedule_data");
  // PUT /v3/schedules/{id} rejects a body without name or time_zone, so a partial update
  // first reads the current values.
  if (data != nullptr && data->contains("name") && data->contains("time_zone")) {
    ASSIGN_OR_RETURN(UpstreamRequest put, BuildCall(tool, 1, args, false));
    return std::vector<UpstreamRequest>{std::move(put)};
  }
  ASSIGN_OR_RETURN(UpstreamRequest lookup, BuildCall(tool, 0, args, true));
  lookup.role = StepRole::kLookup;
  return std::vector<UpstreamRequest>{std::move(lookup)};
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildMyTeams(const ToolDef& tool,
                                                          const json::object& args,
                                                          const CallContext& context) {
  if (StringArg(args, "scope") != "my") {
    ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 0, args, false));
    return std::vector<UpstreamRequest>{std::move(request)};
  }
  ASSIGN_OR_RETURN(const UserIdentity* user, RequireUser(context, "scope \"my\""));
  // PagerDuty cannot list teams by ID, so list them all and keep the caller's.
  ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 0, args, true));
  request.query.emplace_back("limit", std::to_string(kMaxPageSize));
  request.keep_ids = user->team_ids;
  return std::vector<UpstreamRequest>{std::move(request)};
}

const json::object* Unwrap(const json::value& response, std::string_view key) {
  if (!response.is_object()) return nullptr;
  const json::object& object = response.get_object();
  if (const json::value* inner = object.if_contains(key)) {
    return inner->is_object() ? &inner->get_object() : nullptr;
  }
  return &object;
}

absl::Status CheckHandler(const ToolDef& tool, Handler handler, std::string_view builder) {
  if (tool.handler == handler) return absl::OkStatus();
  return absl::InvalidArgumentError(Cat(builder, " does not apply to tool ", tool.name));
}

absl::StatusOr<std::vector<UpstreamRequest>> BuildSteps(const ToolDef& tool,
                                                        const json::object& raw_args,
                                                        const CallContext& context) {
  const json::object args = WithDefaults(tool.input_schema, raw_args);
  switch (tool.handler) {
    case Handler::kNone: {
      ASSIGN_OR_RETURN(UpstreamRequest request,
                       BuildCall(tool, tool.calls.size() - 1, args, false));
      return std::vector<UpstreamRequest>{std::move(request)};
    }
    case Handler::kUserScope:
      return BuildUserScope(tool, args, context);
    case Handler::kLogWindow:
      return BuildLogWindow(tool, args, context);
    case Handler::kManageIncidents:
      return BuildManageIncidents(tool, args);
    case Handler::kAddResponders:
      return BuildAddResponders(tool, args, context);
    case Handler::kListOncalls:
      return BuildListOncalls(tool, args);
    case Handler::kAppendRouterRule: {
      ASSIGN_OR_RETURN(UpstreamRequest lookup, BuildCall(tool, 0, args, true));
      lookup.role = StepRole::kLookup;
      return std::vector<UpstreamRequest>{std::move(lookup)};
    }
    case Handler::kListSchedules:
      return BuildListSchedules(tool, args);
    case Handler::kGetSchedule:
      return BuildGetSchedule(tool, args);
    case Handler::kUpdateSchedule:
      return BuildUpdateSchedule(tool, args);
    case Handler::kMyTeams:
      return BuildMyTeams(tool, args, context);
  }
  return absl::InternalError(Cat("no request builder for ", tool.name));
}

}  // namespace

absl::StatusOr<std::vector<UpstreamRequest>> BuildRequests(const ToolDef& tool,
                                                           const boost::json::object& raw_args,
                                                           const CallContext& context) {
  ASSIGN_OR_RETURN(std::vector<UpstreamRequest> steps, BuildSteps(tool, raw_args, context));
  for (const UpstreamRequest& step : steps) RETURN_IF_ERROR(CheckRequestTargetSize(step));
  return steps;
}

absl::Status CheckRequestTargetSize(const UpstreamRequest& request) {
  const size_t size = RequestTarget(request).size();
  if (size <= kMaxRequestTargetBytes) return absl::OkStatus();
  // Name the parameter that takes the most room, so the model knows which filter to narrow.
  std::map<std::string, size_t> bytes_by_key;
  for (const auto& [key, value] : request.query) {
    bytes_by_key[key] += PercentEncode(key).size() + PercentEncode(value).size() + 2;
  }
  std::string largest;
  size_t largest_bytes = 0;
  for (const auto& [key, bytes] : bytes_by_key) {
    if (bytes > largest_bytes) {
      largest = key;
      largest_bytes = bytes;
    }
  }
  return absl::InvalidArgumentError(
      Cat("the request to PagerDuty would need a URL of ", std::to_string(size),
          " bytes, over the limit of ", std::to_string(kMaxRequestTargetBytes),
          largest.empty() ? "" : Cat(" (most of it is ", largest, ")"),
          "; it was not sent. Narrow the filters: give fewer or shorter values in list "
          "arguments, or split the call into several smaller ones."));
}

absl::StatusOr<UpstreamRequest> BuildOncallsRequest(
    const ToolDef& tool, const boost::json::object& raw_args,
    const std::vector<std::string>& escalation_policy_ids) {
  RETURN_IF_ERROR(CheckHandler(tool, Handler::kListOncalls, "BuildOncallsRequest"));
  const json::object args = WithDefaults(tool.input_schema, raw_args);
  ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 1, args, false));
  for (const std::string& id : escalation_policy_ids) {
    const std::pair<std::string, std::string> param("escalation_policy_ids[]", id);
    if (std::find(request.query.begin(), request.query.end(), param) == request.query.end()) {
      request.query.push_back(param);
    }
  }
  RETURN_IF_ERROR(CheckRequestTargetSize(request));
  return request;
}

absl::StatusOr<UpstreamRequest> BuildAppendRouterRuleRequest(const ToolDef& tool,
                                                             const boost::json::object& args,
                                                             const boost::json::value& router) {
  RETURN_IF_ERROR(CheckHandler(tool, Handler::kAppendRouterRule, "BuildAppendRouterRuleRequest"));
  const json::object* new_rule = ObjectArg(args, "new_rule");
  if (new_rule == nullptr) return Invalid("arguments.new_rule", "expected an object");
  const json::object* path = Unwrap(router, "orchestration_path");
  const json::value* sets = path != nullptr ? path->if_contains("sets") : nullptr;
  if (sets == nullptr || !sets->is_array() || sets->get_array().empty() ||
      !sets->get_array()[0].is_object()) {
    return absl::FailedPreconditionError(Cat("event orchestration ",
                                             StringArg(args, "orchestration_id"),
                                             " has no router rule set to append to"));
  }
  const json::object& first = sets->get_array()[0].get_object();
  json::array rules;
  if (const json::value* existing = first.if_contains("rules"); existing && existing->is_array()) {
    rules = existing->get_array();
  }
  rules.push_back(*new_rule);
  json::object rule_set = {{"id", first.contains("id") ? first.at("id") : json::value("start")},
                           {"rules", std::move(rules)}};
  json::object updated = {{"type", "router"}, {"sets", json::array{std::move(rule_set)}}};
  if (const json::value* catch_all = path->if_contains("catch_all")) {
    updated["catch_all"] = *catch_all;
  }
  ASSIGN_OR_RETURN(UpstreamRequest request, BuildCall(tool, 1, args, true));
  request.body = json::object{{"orchestration_path", std::move(updated)}};
  return request;
}

absl::StatusOr<UpstreamRequest> BuildScheduleV3Lookup(const ToolDef& tool,
                                                      std::string_view schedule_id) {
  RETURN_IF_ERROR(CheckHandler(tool, Handler::kListSchedules, "BuildScheduleV3Lookup"));
  return BuildCallForId(tool, 2, schedule_id, StepRole::kLookup);
}

absl::StatusOr<UpstreamRequest> BuildUpdateScheduleRequest(const ToolDef& tool,
                                                           const boost::json::object& args,
                                                           const boost::json::value& current) {
  RETURN_IF_ERROR(CheckHandler(tool, Handler::kUpdateSchedule, "BuildUpdateScheduleRequest"));
  json::object filled = args;
  json::object data;
  if (const json::object* given = ObjectArg(args, "schedule_data")) data = *given;
  if (const json::object* schedule = Unwrap(current, "schedule")) {
    for (std::string_view key : {"name", "time_zone"}) {
      const json::value* value = schedule->if_contains(key);
      if (!data.contains(key) && value != nullptr && value->is_string()) data[key] = *value;
    }
  }
  filled["schedule_data"] = std::move(data);
  return BuildCall(tool, 1, filled, false);
}

bool IsV3ScheduleRedirect(int http_status, std::string_view response_body) {
  if (http_status != 400) return false;
  std::string message(response_body);
  boost::system::error_code error;
  json::value parsed = json::parse(response_body, error);
  if (!error && parsed.is_object()) {
    const json::value* inner = parsed.get_object().if_contains("error");
    message.clear();
    if (inner != nullptr && inner->is_object()) {
      const json::value* text = inner->get_object().if_contains("message");
      if (text != nullptr && text->is_string()) message = std::string(text->get_string());
    }
  }
  absl::AsciiStrToLower(&message);
  for (std::string_view marker : {"shift-based", "v3 schedules api", "/v3/schedules"}) {
    if (Contains(message, marker)) return true;
  }
  return false;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string RequestTarget(const UpstreamRequest& request) {
  std::string target = request.path;
  char separator = '?';
  for (const auto& [key, value] : request.query) {
    target.push_back(separator);
    target.append(PercentEncode(key));
    target.push_back('=');
    target.append(PercentEncode(value));
    separator = '&';
  }
  return target;
}

}  // namespace bastion::pagerduty
