#include "common/pagerduty/catalog.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

#include "common/pagerduty/catalog_data.h"
#include "common/pagerduty/text.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;

// The catalog is checked-in data, so a malformed entry is a defect of this build, not bad input:
// stop at start-up with the reason rather than serve a wrong tool list.
[[noreturn]] void DataError(std::string_view where, std::string_view what) {
  std::fprintf(stderr, "pagerduty catalog: %.*s: %.*s\n", static_cast<int>(where.size()),
               where.data(), static_cast<int>(what.size()), what.data());
  std::abort();
}

const json::value& Member(const json::object& object, std::string_view key,
                          std::string_view where) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) DataError(where, internal::Cat("missing \"", key, "\""));
  return *value;
}

std::string String(const json::object& object, std::string_view key, std::string_view where) {
  const json::value& value = Member(object, key, where);
  if (!value.is_string()) DataError(where, internal::Cat("\"", key, "\" must be a string"));
  return std::string(value.get_string());
}

const json::object& Object(const json::value& value, std::string_view where) {
  if (!value.is_object()) DataError(where, "expected an object");
  return value.get_object();
}

void CheckKeys(const json::object& object, std::initializer_list<std::string_view> allowed,
               std::string_view where) {
  for (const auto& member : object) {
    if (std::find(allowed.begin(), allowed.end(), member.key()) == allowed.end()) {
      DataError(where, internal::Cat("unknown key \"", std::string_view(member.key()), "\""));
    }
  }
}

// Replaces {"$def": "Name", ...overrides} with the shared fragment, overrides applied on top.
json::value ExpandDefs(const json::value& value, const json::object& defs, int depth = 0) {
  if (depth > 32) DataError("_defs.json", "$def nesting too deep (a cycle?)");
  if (value.is_array()) {
    json::array out;
    for (const json::value& item : value.get_array()) out.push_back(ExpandDefs(item, defs, depth));
    return out;
  }
  if (!value.is_object()) return value;
  const json::object& object = value.get_object();
  json::object out;
  if (const json::value* name = object.if_contains("$def")) {
    if (!name->is_string()) DataError("$def", "must name a fragment");
    const json::value* fragment = defs.if_contains(name->get_string());
    if (fragment == nullptr) {
      DataError("$def", internal::Cat("unknown fragment ", std::string_view(name->get_string())));
    }
    out = ExpandDefs(*fragment, defs, depth + 1).get_object();
  }
  for (const auto& member : object) {
    if (member.key() == "$def") continue;
    out[member.key()] = ExpandDefs(member.value(), defs, depth);
  }
  return out;
}

HttpMethod ParseMethod(std::string_view text, std::string_view where) {
  if (text == "GET") return HttpMethod::kGet;
  if (text == "POST") return HttpMethod::kPost;
  if (text == "PUT") return HttpMethod::kPut;
  if (text == "DELETE") return HttpMethod::kDelete;
  DataError(where, internal::Cat("unknown method ", text));
}

FromHeader ParseFrom(std::string_view text, std::string_view where) {
  if (text == "none") return FromHeader::kNone;
  if (text == "optional") return FromHeader::kOptional;
  if (text == "required") return FromHeader::kRequired;
  DataError(where, internal::Cat("unknown from ", text));
}

Pagination ParsePagination(std::string_view text, std::string_view where) {
  if (text == "none") return Pagination::kNone;
  if (text == "offset") return Pagination::kOffset;
  if (text == "cursor") return Pagination::kCursor;
  DataError(where, internal::Cat("unknown pagination ", text));
}

Handler ParseHandler(std::string_view text, std::string_view where) {
  static const std::pair<std::string_view, Handler> kHandlers[] = {
      {"user_scope", Handler::kUserScope},
      {"log_window", Handler::kLogWindow},
      {"manage_incidents", Handler::kManageIncidents},
      {"add_responders", Handler::kAddResponders},
      {"list_oncalls", Handler::kListOncalls},
      {"append_router_rule", Handler::kAppendRouterRule},
      {"list_schedules", Handler::kListSchedules},
      {"get_schedule", Handler::kGetSchedule},
      {"update_schedule", Handler::kUpdateSchedule},
      {"my_teams", Handler::kMyTeams},
  };
  for (const auto& [name, handler] : kHandlers) {
    if (name == text) return handler;
  }
  DataError(where, internal::Cat("unknown handler ", text));
}

RestCall ParseCall(const json::value& value, const std::string& where) {
  const json::object& object = Object(value, where);
  CheckKeys(object,
            {"method", "path", "from", "scope", "pagination", "response_key", "max_records"},
            where);
  RestCall call;
  call.method = ParseMethod(String(object, "method", where), where);
  call.path = String(object, "path", where);
  call.from = ParseFrom(String(object, "from", where), where);
  call.oauth_scope = String(object, "scope", where);
  if (call.oauth_scope == "-") call.oauth_scope.clear();
  if (object.contains("pagination")) {
    call.pagination = ParsePagination(String(object, "pagination", where), where);
  }
  if (object.contains("response_key")) call.response_key = String(object, "response_key", where);
  if (const json::value* max = object.if_contains("max_records")) {
    if (!max->is_int64() || max->get_int64() < 1) DataError(where, "max_records must be >= 1");
    call.max_records = static_cast<int>(max->get_int64());
  }
  if ((call.pagination != Pagination::kNone) != (call.max_records > 0)) {
    DataError(where, "paginated calls need max_records, others must not have it");
  }
  return call;
}

ArgTarget ParseTarget(const json::value& value, const std::string& where) {
  const json::object& object = Object(value, where);
  if (object.size() != 1) DataError(where, "a mapping has exactly one key");
  const auto& member = *object.begin();
  ArgTarget target;
  const std::string_view kind = member.key();
  if (kind == "fields") {
    target.kind = ArgTarget::Kind::kFields;
    for (const auto& field : Object(member.value(), where)) {
      const std::string field_where = internal::Cat(where, ".", std::string_view(field.key()));
      target.fields.push_back({std::string(field.key()), ParseTarget(field.value(), field_where)});
    }
    return target;
  }
  if (!member.value().is_string()) DataError(where, "a mapping names a string target");
  target.name = std::string(member.value().get_string());
  if (kind == "path") {
    target.kind = ArgTarget::Kind::kPath;
  } else if (kind == "query") {
    target.kind = ArgTarget::Kind::kQuery;
  } else if (kind == "query_utc") {
    target.kind = ArgTarget::Kind::kQueryUtc;
  } else if (kind == "body") {
    target.kind = target.name == "*" ? ArgTarget::Kind::kBodyRoot : ArgTarget::Kind::kBody;
    if (target.kind == ArgTarget::Kind::kBodyRoot) target.name.clear();
  } else if (kind == "limit") {
    target.kind = ArgTarget::Kind::kLimit;
  } else if (kind == "special") {
    target.kind = ArgTarget::Kind::kSpecial;
  } else {
    DataError(where, internal::Cat("unknown mapping kind ", kind));
  }
  return target;
}

// The mapping must cover exactly the schema's properties, so no argument is silently dropped.
void CheckMappingCoversSchema(const std::vector<ArgMapping>& mappings, const json::object& schema,
                              const std::string& where) {
  std::set<std::string> properties;
  if (const json::value* props = schema.if_contains("properties")) {
    for (const auto& member : Object(*props, where)) properties.insert(std::string(member.key()));
  }
  std::set<std::string> mapped;
  for (const ArgMapping& mapping : mappings) {
    if (!properties.count(mapping.arg)) {
      DataError(where, internal::Cat("mapping for unknown argument ", mapping.arg));
    }
    mapped.insert(mapping.arg);
    if (mapping.target.kind == ArgTarget::Kind::kFields) {
      const json::object& property = Object(schema.at("properties").at(mapping.arg), where);
      CheckMappingCoversSchema(mapping.target.fields, property,
                               internal::Cat(where, ".", mapping.arg));
    }
  }
  for (const std::string& property : properties) {
    if (!mapped.count(property))
      DataError(where, internal::Cat("argument ", property, " is unmapped"));
  }
}

ToolDef ParseTool(const json::value& value, const json::object& defs, std::string_view file) {
  const json::object& object = Object(value, file);
  const std::string name = String(object, "name", file);
  const std::string where = internal::Cat(file, ": ", name);
  CheckKeys(object,
            {"name", "title", "access", "description", "input_schema", "calls", "args", "set",
             "handler", "annotations"},
            where);
  ToolDef tool;
  tool.name = name;
  tool.title = String(object, "title", where);
  tool.description = String(object, "description", where);
  const std::string access = String(object, "access", where);
  if (access != "read" && access != "write") DataError(where, "access is read or write");
  tool.access = access == "read" ? Access::kRead : Access::kWrite;

  json::value schema = ExpandDefs(Member(object, "input_schema", where), defs);
  tool.input_schema = Object(schema, where);

  const json::value& calls = Member(object, "calls", where);
  if (!calls.is_array() || calls.get_array().empty()) DataError(where, "calls must be a list");
  for (const json::value& call : calls.get_array()) tool.calls.push_back(ParseCall(call, where));
  for (const RestCall& call : tool.calls) {
    if (!call.oauth_scope.empty() && std::find(tool.oauth_scopes.begin(), tool.oauth_scopes.end(),
                                               call.oauth_scope) == tool.oauth_scopes.end()) {
      tool.oauth_scopes.push_back(call.oauth_scope);
    }
  }

  for (const auto& arg : Object(Member(object, "args", where), where)) {
    const std::string arg_where = internal::Cat(where, ": args.", std::string_view(arg.key()));
    tool.args.push_back({std::string(arg.key()), ParseTarget(arg.value(), arg_where)});
  }
  CheckMappingCoversSchema(tool.args, tool.input_schema, where);

  if (const json::value* set = object.if_contains("set")) tool.body_defaults = Object(*set, where);
  if (const json::value* handler = object.if_contains("handler")) {
    if (!handler->is_string()) DataError(where, "handler must be a string");
    tool.handler = ParseHandler(handler->get_string(), where);
  }

  if (tool.access == Access::kRead) {
    if (object.contains("annotations")) DataError(where, "read tools have fixed annotations");
    tool.annotations.read_only = true;
    tool.annotations.destructive = false;
    tool.annotations.idempotent = true;
  } else {
    const json::object& hints = Object(Member(object, "annotations", where), where);
    CheckKeys(hints, {"destructive", "idempotent"}, where);
    const json::value& destructive = Member(hints, "destructive", where);
    const json::value& idempotent = Member(hints, "idempotent", where);
    if (!destructive.is_bool() || !idempotent.is_bool()) DataError(where, "hints are booleans");
    tool.annotations.read_only = false;
    tool.annotations.destructive = destructive.get_bool();
    tool.annotations.idempotent = idempotent.get_bool();
  }
  return tool;
}

std::vector<ToolDef> LoadCatalog() {
  const std::vector<internal::EmbeddedFile>& files = internal::CatalogFiles();
  json::object defs;
  for (const internal::EmbeddedFile& file : files) {
    if (file.name != "_defs.json") continue;
    boost::system::error_code error;
    json::value parsed = json::parse(file.text, error);
    if (error) DataError(file.name, error.message());
    defs = Object(parsed, file.name);
  }
  std::vector<ToolDef> tools;
  std::set<std::string> names;
  for (const internal::EmbeddedFile& file : files) {
    if (file.name == "_defs.json") continue;
    boost::system::error_code error;
    json::value parsed = json::parse(file.text, error);
    if (error) DataError(file.name, error.message());
    if (!parsed.is_array()) DataError(file.name, "expected a list of tools");
    for (const json::value& entry : parsed.get_array()) {
      ToolDef tool = ParseTool(entry, defs, file.name);
      if (!names.insert(tool.name).second) DataError(file.name, "duplicate tool " + tool.name);
      tools.push_back(std::move(tool));
    }
  }
  std::sort(tools.begin(), tools.end(),
            [](const ToolDef& a, const ToolDef& b) { return a.name < b.name; });
  return tools;
}

}  // namespace

const std::vector<ToolDef>& Catalog() {
  static const auto* const kCatalog = new std::vector<ToolDef>(LoadCatalog());
  return *kCatalog;
}

const ToolDef* FindTool(std::string_view name) {
  const std::vector<ToolDef>& tools = Catalog();
  auto it = std::lower_bound(tools.begin(), tools.end(), name,
                             [](const ToolDef& tool, std::string_view n) { return tool.name < n; });
  if (it == tools.end() || it->name != name) return nullptr;
  return &*it;
}

boost::json::object ToMcpTool(const ToolDef& tool) {
  return {
      {"name", tool.name},
      {"title", tool.title},
      {"description", tool.description},
      {"inputSchema", tool.input_schema},
      {"annotations",
       {
           {"title", tool.title},
           {"readOnlyHint", tool.annotations.read_only},
           {"destructiveHint", tool.annotations.destructive},
           {"idempotentHint", tool.annotations.idempotent},
           {"openWorldHint", tool.annotations.open_world},
       }},
  };
}

bool IsComposite(const ToolDef& tool) {
  switch (tool.handler) {
    case Handler::kManageIncidents:
    case Handler::kAddResponders:
    case Handler::kListOncalls:
    case Handler::kAppendRouterRule:
    case Handler::kListSchedules:
    case Handler::kGetSchedule:
    case Handler::kUpdateSchedule:
      return true;
    default:
      return false;
  }
}

std::string_view MethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kDelete:
      return "DELETE";
  }
  return "GET";
}

}  // namespace bastion::pagerduty
