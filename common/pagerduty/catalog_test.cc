#include "common/pagerduty/catalog.h"

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/pagerduty/validate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAreArray;

// One row of the official server's tool list (third_party/pagerduty/tools.tsv).
struct OfficialTool {
  std::string access;
  std::vector<std::string> calls;
  std::map<std::string, std::vector<std::string>> required;  // argument → required fields
  std::set<std::string> optional;
  std::vector<std::string> from;
  std::vector<std::string> scopes;
};

std::vector<std::string> SplitOn(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  if (text.empty()) return parts;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string::npos;
       start = end + separator.size()) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

// "a,b(x,y),c()" → {a: [], b: [x, y], c: []}
std::map<std::string, std::vector<std::string>> ParseParams(const std::string& cell) {
  std::map<std::string, std::vector<std::string>> params;
  std::string current;
  int depth = 0;
  auto flush = [&] {
    if (current.empty()) return;
    const size_t open = current.find('(');
    if (open == std::string::npos) {
      params[current] = {};
    } else {
      params[current.substr(0, open)] =
          SplitOn(current.substr(open + 1, current.size() - open - 2), ",");
    }
    current.clear();
  };
  for (char c : cell) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return params;
}

std::map<std::string, OfficialTool> ReadOfficialTools() {
  std::ifstream file("third_party/pagerduty/tools.tsv");
  EXPECT_TRUE(file.good()) << "third_party/pagerduty/tools.tsv is missing from the runfiles";
  std::map<std::string, OfficialTool> tools;
  std::string line;
  std::getline(file, line);  // header
  while (std::getline(file, line)) {
    std::vector<std::string> cells = SplitOn(line, "\t");
    cells.resize(7);
    OfficialTool& tool = tools[cells[0]];
    tool.access = cells[1];
    tool.calls = SplitOn(cells[2], " ; ");
    tool.required = ParseParams(cells[3]);
    for (const auto& [name, fields] : ParseParams(cells[4])) tool.optional.insert(name);
    tool.from = SplitOn(cells[5], " ; ");
    tool.scopes = SplitOn(cells[6], " ; ");
  }
  return tools;
}

const std::map<std::string, OfficialTool>& Official() {
  static const auto* const kTools = new std::map<std::string, OfficialTool>(ReadOfficialTools());
  return *kTools;
}

std::string_view FromName(FromHeader from) {
  switch (from) {
    case FromHeader::kNone:
      return "none";
    case FromHeader::kOptional:
      return "optional";
    case FromHeader::kRequired:
      return "required";
  }
  return "?";
}

std::set<std::string> Required(const json::object& schema) {
  std::set<std::string> names;
  if (const json::value* required = schema.if_contains("required")) {
    for (const json::value& name : required->get_array()) {
      names.insert(std::string(name.get_string()));
    }
  }
  return names;
}

std::set<std::string> PropertyNames(const json::object& schema) {
  std::set<std::string> names;
  if (const json::value* properties = schema.if_contains("properties")) {
    for (const auto& member : properties->get_object()) names.insert(std::string(member.key()));
  }
  return names;
}

TEST(CatalogTest, HasExactlyTheOfficialServersTools) {
  std::vector<std::string> ours;
  for (const ToolDef& tool : Catalog()) ours.push_back(tool.name);
  std::vector<std::string> official;
  for (const auto& [name, tool] : Official()) official.push_back(name);
  ASSERT_EQ(official.size(), 103u);
  EXPECT_THAT(ours, ElementsAreArray(official));  // both sorted by name
}

TEST(CatalogTest, ReadAndWriteSplitMatches) {
  int reads = 0;
  for (const ToolDef& tool : Catalog()) {
    SCOPED_TRACE(tool.name);
    EXPECT_EQ(tool.access == Access::kRead ? "read" : "write", Official().at(tool.name).access);
    reads += tool.access == Access::kRead;
  }
  EXPECT_EQ(reads, 63);
}

TEST(CatalogTest, CallsFromHeaderAndScopesMatchTheOfficialServer) {
  for (const ToolDef& tool : Catalog()) {
    SCOPED_TRACE(tool.name);
    const OfficialTool& official = Official().at(tool.name);
    std::vector<std::string> calls, from, scopes;
    for (const RestCall& call : tool.calls) {
      calls.push_back(std::string(MethodName(call.method)) + " " + call.path);
      from.push_back(std::string(FromName(call.from)));
      scopes.push_back(call.oauth_scope.empty() ? "-" : call.oauth_scope);
    }
    EXPECT_THAT(calls, ElementsAreArray(official.calls));
    EXPECT_THAT(from, ElementsAreArray(official.from));
    EXPECT_THAT(scopes, ElementsAreArray(official.scopes));

    std::set<std::string> distinct;
    for (const std::string& scope : official.scopes) {
      if (scope != "-") distinct.insert(scope);
    }
    EXPECT_THAT(tool.oauth_scopes, UnorderedElementsAreArray(distinct));
  }
}

TEST(CatalogTest, ParametersMatchTheOfficialServer) {
  for (const ToolDef& tool : Catalog()) {
    SCOPED_TRACE(tool.name);
    const OfficialTool& official = Official().at(tool.name);
    std::set<std::string> required, all = official.optional;
    for (const auto& [name, fields] : official.required) {
      required.insert(name);
      all.insert(name);
    }
    EXPECT_EQ(Required(tool.input_schema), required);
    EXPECT_EQ(PropertyNames(tool.input_schema), all);

    // A model argument "incident(title,service)" is an object requiring those fields (for a
    // list of models, each item does).
    for (const auto& [name, fields] : official.required) {
      if (fields.empty()) continue;
      const json::object& property = tool.input_schema.at("properties").at(name).get_object();
      const json::object& model =
          property.at("type") == "array" ? property.at("items").get_object() : property;
      EXPECT_EQ(model.at("type"), "object") << name;
      EXPECT_EQ(Required(model), std::set<std::string>(fields.begin(), fields.end())) << name;
    }
  }
}

TEST(CatalogTest, NamesTitlesAndDescriptionsAreUsable) {
  const std::regex name_pattern("^[A-Za-z0-9_.-]{1,128}$");
  for (const ToolDef& tool : Catalog()) {
    SCOPED_TRACE(tool.name);
    EXPECT_TRUE(std::regex_match(tool.name, name_pattern));
    EXPECT_FALSE(tool.title.empty());
    EXPECT_LE(tool.title.size(), 40u);
    EXPECT_GE(tool.description.size(), 30u);
    EXPECT_LE(tool.description.size(), 500u) << "descriptions are read by models on every list";
  }
}

TEST(CatalogTest, AnnotationsFollowAccessAndMethods) {
  for (const ToolDef& tool : Catalog()) {
    SCOPED_TRACE(tool.name);
    const Annotations& hints = tool.annotations;
    EXPECT_TRUE(hints.open_world);
    if (tool.access == Access::kRead) {
      EXPECT_TRUE(hints.read_only);
      EXPECT_FALSE(hints.destructive);
      EXPECT_TRUE(hints.idempotent);
      continue;
    }
    EXPECT_FALSE(hints.read_only);
    bool replaces = false, creates = false;
    for (const RestCall& call : tool.calls) {
      replaces |= call.method == HttpMethod::kPut || call.method == HttpMethod::kDelete;
      creates |= call.method == HttpMethod::kPost;
    }
    // Anything that overwrites or removes existing state is flagged; plain creations are not.
    EXPECT_EQ(hints.destructive, replaces);
    if (hints.idempotent) {
      EXPECT_FALSE(creates);
    }
  }
  EXPECT_FALSE(FindTool("append_event_orchestration_router_rule")->annotations.idempotent)
      << "appending twice adds the rule twice";
}

TEST(CatalogTest, SchemasAreClosedObjects) {
  for (const ToolDef& tool : Catalog()) {
    SCOPED_TRACE(tool.name);
    EXPECT_EQ(tool.input_schema.at("type"), "object");
    EXPECT_EQ(tool.input_schema.at("additionalProperties"), false);
    if (PropertyNames(tool.input_schema).empty()) {
      EXPECT_EQ(json::value(tool.input_schema),
                json::parse(R"({"type":"object","additionalProperties":false})"));
    }
  }
  EXPECT_TRUE(PrecompileSchemas().ok());
}

// validate.cc relies on this: it checks format and pattern only once types are right.
void ExpectStringChecksOnStrings(const json::value& schema, const std::string& where) {
  if (schema.is_array()) {
    for (const json::value& item : schema.get_array()) ExpectStringChecksOnStrings(item, where);
    return;
  }
  if (!schema.is_object()) return;
  const json::object& object = schema.get_object();
  const json::value* format = object.if_contains("format");
  const json::value* pattern = object.if_contains("pattern");
  if ((format && format->is_string()) || (pattern && pattern->is_string())) {
    EXPECT_EQ(object.at("type"), "string") << where;
  }
  for (const auto& member : object) ExpectStringChecksOnStrings(member.value(), where);
}

TEST(CatalogTest, FormatsAndPatternsOnlyOnStrings) {
  for (const ToolDef& tool : Catalog()) ExpectStringChecksOnStrings(tool.input_schema, tool.name);
}

// Every argument has a size a caller cannot exceed (defect 3 of issue 11: 80,000 statuses built
// 2 MB URLs): arrays have maxItems, strings maxLength unless an enum or a date-time bounds them,
// and no object is open, since an open object would let unbounded members through.
void CollectUnbounded(const json::object& schema, const std::string& where,
                      std::vector<std::string>& unbounded) {
  const json::value* type = schema.if_contains("type");
  const std::string kind = type != nullptr && type->is_string() ? std::string(type->get_string()) : "";
  if (kind.empty()) unbounded.push_back(where + " (no type)");
  if (kind == "array" && !schema.contains("maxItems")) unbounded.push_back(where + " (maxItems)");
  if (kind == "string" && !schema.contains("maxLength") && !schema.contains("enum")) {
    const json::value* format = schema.if_contains("format");
    if (format == nullptr || *format != "date-time") unbounded.push_back(where + " (maxLength)");
  }
  if (kind == "object") {
    const json::value* additional = schema.if_contains("additionalProperties");
    if (additional == nullptr || *additional != false) unbounded.push_back(where + " (open object)");
  }
  if (const json::value* properties = schema.if_contains("properties")) {
    for (const auto& member : properties->as_object()) {
      CollectUnbounded(member.value().as_object(), where + "." + std::string(member.key()),
                       unbounded);
    }
  }
  if (const json::value* items = schema.if_contains("items")) {
    CollectUnbounded(items->as_object(), where + "[]", unbounded);
  }
}

TEST(CatalogTest, EveryArrayAndStringHasABound) {
  std::vector<std::string> unbounded;
  for (const ToolDef& tool : Catalog()) CollectUnbounded(tool.input_schema, tool.name, unbounded);
  EXPECT_THAT(unbounded, ::testing::IsEmpty());
}

TEST(CatalogTest, EnumArraysAreNoLongerThanTheirEnum) {
  // A status filter of 80,000 "triggered" items is never useful: each value at most once.
  const json::object& statuses =
      FindTool("list_incidents")->input_schema.at("properties").at("statuses").as_object();
  EXPECT_EQ(statuses.at("maxItems"), 3);
}

TEST(CatalogTest, ListsDeclareWhereTheirItemsAre) {
  for (const ToolDef& tool : Catalog()) {
    for (const RestCall& call : tool.calls) {
      SCOPED_TRACE(tool.name + " " + call.path);
      if (call.pagination != Pagination::kNone) {
        EXPECT_FALSE(call.response_key.empty());
        EXPECT_GT(call.max_records, 0);
        EXPECT_EQ(call.method, HttpMethod::kGet);
      }
      if (call.method == HttpMethod::kDelete) {
        EXPECT_TRUE(call.response_key.empty());
      }
    }
  }
  EXPECT_EQ(FindTool("list_incidents")->calls[0].response_key, "incidents");
  EXPECT_EQ(FindTool("list_event_orchestrations")->calls[0].response_key, "orchestrations");
  EXPECT_EQ(FindTool("list_alert_grouping_settings")->calls[0].pagination, Pagination::kCursor);
}

TEST(CatalogTest, CompositeToolsAreMarked) {
  std::set<std::string> composite;
  for (const ToolDef& tool : Catalog()) {
    if (IsComposite(tool)) composite.insert(tool.name);
  }
  EXPECT_EQ(composite,
            (std::set<std::string>{"add_responders", "append_event_orchestration_router_rule",
                                   "get_schedule", "list_oncalls", "list_schedules",
                                   "manage_incidents", "update_schedule"}));
}

TEST(CatalogTest, FindToolFindsEveryToolAndNothingElse) {
  for (const ToolDef& tool : Catalog()) EXPECT_EQ(FindTool(tool.name), &tool);
  EXPECT_EQ(FindTool("list_incident"), nullptr);
  EXPECT_EQ(FindTool(""), nullptr);
  EXPECT_EQ(FindTool("zzz"), nullptr);
}

TEST(CatalogTest, McpToolHasTheShapeClientsExpect) {
  const json::object tool = ToMcpTool(*FindTool("create_incident"));
  EXPECT_EQ(tool.at("name"), "create_incident");
  EXPECT_EQ(tool.at("title"), "Create incident");
  EXPECT_TRUE(tool.at("description").is_string());
  EXPECT_EQ(tool.at("inputSchema").at("type"), "object");
  EXPECT_EQ(tool.at("inputSchema").at("required"), json::array{"incident"});
  const json::object& hints = tool.at("annotations").get_object();
  EXPECT_EQ(hints.at("title"), "Create incident");
  EXPECT_EQ(hints.at("readOnlyHint"), false);
  EXPECT_EQ(hints.at("destructiveHint"), false);
  EXPECT_EQ(hints.at("idempotentHint"), false);
  EXPECT_EQ(hints.at("openWorldHint"), true);
  // Shared schema fragments are expanded: clients see plain JSON Schema.
  EXPECT_EQ(json::serialize(tool.at("inputSchema")).find("$def"), std::string::npos);

  const json::object read = ToMcpTool(*FindTool("get_user_data"));
  EXPECT_EQ(read.at("annotations").at("readOnlyHint"), true);
  EXPECT_EQ(read.at("inputSchema"),
            json::parse(R"({"type":"object","additionalProperties":false})"));
}

}  // namespace
}  // namespace bastion::pagerduty
