// The PagerDuty tool catalog: the 103 MCP tools of PagerDuty's official MCP server, each with
// its input schema, annotations, OAuth scopes and the REST calls it maps to (data in tools/*.json).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bastion::pagerduty {

enum class Access { kRead, kWrite };

enum class HttpMethod { kGet, kPost, kPut, kDelete };

// Whether the REST operation declares a `From` header (the acting user's email).
enum class FromHeader { kNone, kOptional, kRequired };

// How a list operation pages. kOffset: `offset`/`limit` query params, the response has `more`.
// kCursor: the response's `after` value is sent back as the `after` query param.
enum class Pagination { kNone, kOffset, kCursor };

// Tools whose behaviour is not plain data: they need the caller's identity, the clock, or more
// than one request. request_builder.h documents what each handler produces.
enum class Handler {
  kNone,
  kUserScope,         // list_incidents: request_scope assigned/teams needs the caller's identity
  kLogWindow,         // list_log_entries: default window is the last 7 days
  kManageIncidents,   // one PUT /incidents per field given
  kAddResponders,     // requester_id is the caller's user ID
  kListOncalls,       // service_ids are resolved to escalation policies first
  kAppendRouterRule,  // read the router, add the rule, write the router back
  kListSchedules,     // layer-based and shift-based lists, then name lookups
  kGetSchedule,       // v2 first, v3 when PagerDuty points there
  kUpdateSchedule,    // read the schedule first when name or time_zone is missing
  kMyTeams,           // scope my: all teams, filtered to the caller's
};

// MCP tool annotations. Clients treat them as hints; defaults follow the MCP specification.
struct Annotations {
  bool read_only = false;
  bool destructive = true;
  bool idempotent = false;
  bool open_world = true;
};

// One REST operation a tool calls, as the OpenAPI document names it.
struct RestCall {
  HttpMethod method = HttpMethod::kGet;
  std::string path;  // spec template, e.g. "/incidents/{id}"
  FromHeader from = FromHeader::kNone;
  std::string oauth_scope;  // x-pd-requires-scope; empty when the operation has none
  Pagination pagination = Pagination::kNone;
  std::string response_key;  // member of the response body holding the result; empty if none
  int max_records = 0;       // default cap on list items collected across pages; 0 if not a list
};

struct ArgMapping;

// Where one argument (or one member of an object argument) goes in the request.
struct ArgTarget {
  enum class Kind {
    kPath,      // fills {name} in the path template
    kQuery,     // query parameter `name`; arrays repeat it (PagerDuty's `key[]=v` style)
    kQueryUtc,  // a date-time query parameter `name`, sent in UTC (`Z`) whatever its offset,
                // for operations that answer 400 to any other offset
    kBody,      // JSON body at dotted path `name`, e.g. "incident" or "filters.team_ids"
    kBodyRoot,  // an object whose members are merged into the body's top level
    kLimit,     // caps the records returned; also the first page size in query param `name`
                // (clamped to kMaxPageSize) unless `name` is empty
    kFields,    // an object whose members are mapped one by one (`fields`)
    kSpecial,   // handled by the tool's Handler; `name` says how
  };
  Kind kind = Kind::kSpecial;
  std::string name;
  std::vector<ArgMapping> fields;
};

struct ArgMapping {
  std::string arg;
  ArgTarget target;
};

struct ToolDef {
  std::string name;
  std::string title;
  std::string description;
  boost::json::object input_schema;
  Annotations annotations;
  Access access = Access::kRead;
  std::vector<std::string> oauth_scopes;  // distinct scopes of all calls, in call order
  std::vector<RestCall> calls;            // every operation the tool may send, in call order
  std::vector<ArgMapping> args;           // one per input_schema property
  // Body members filled in when absent ("set" in the data): dotted path (a `[]` suffix applies to
  // every array element) → value; a string "{arg}" stands for that top-level argument's value.
  boost::json::object body_defaults;
  Handler handler = Handler::kNone;
};

// PagerDuty's largest page size for classic list endpoints.
inline constexpr int kMaxPageSize = 100;

// All tools, sorted by name. Parsed once from the embedded data; malformed data is a build
// defect and aborts with the reason.
const std::vector<ToolDef>& Catalog();

// The tool with this name, or nullptr.
const ToolDef* FindTool(std::string_view name);

// The MCP `Tool` object for tools/list: name, title, description, inputSchema, annotations.
boost::json::object ToMcpTool(const ToolDef& tool);

// Several REST requests, or requests that depend on earlier responses or the caller's identity.
bool IsComposite(const ToolDef& tool);

std::string_view MethodName(HttpMethod method);

}  // namespace bastion::pagerduty
