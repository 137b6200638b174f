#include "services/governance/pagerduty_tool_source.h"

#include <exception>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/pagerduty/catalog.h"

namespace bastion::governance {

namespace json = boost::json;

absl::StatusOr<std::vector<DiscoveredTool>> PagerDutyToolSource::ListTools(ServerType type) {
  if (type != ServerType::kPagerDuty) {
    return absl::InvalidArgumentError(absl::StrCat("no connector for server type ", Name(type)));
  }
  try {
    std::vector<DiscoveredTool> out;
    for (const pagerduty::ToolDef& def : pagerduty::Catalog()) {
      // What an MCP client is shown is what gets reviewed: the same object tools/list serves.
      const json::object mcp = pagerduty::ToMcpTool(def);
      json::object definition;
      definition["description"] = mcp.at("description");
      definition["inputSchema"] = mcp.at("inputSchema");
      definition["annotations"] = mcp.at("annotations");
      DiscoveredTool t;
      t.name = def.name;
      t.title = def.title;
      t.description = def.description;
      t.definition_json = json::serialize(definition);
      t.access = def.access == pagerduty::Access::kWrite ? Access::kWrite : Access::kRead;
      t.annotations.read_only = def.annotations.read_only;
      t.annotations.destructive = def.annotations.destructive;
      t.annotations.idempotent = def.annotations.idempotent;
      t.annotations.open_world = def.annotations.open_world;
      t.scopes = def.oauth_scopes;
      out.push_back(std::move(t));
    }
    return out;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("reading the PagerDuty catalog failed: ", e.what()));
  }
}

}  // namespace bastion::governance
