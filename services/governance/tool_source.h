// Where discovery gets a server type's tools from. The production source is the PagerDuty
// connector's catalog (pagerduty_tool_source.h); tests feed lists that change between syncs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/governance/governance_types.h"

namespace bastion::governance {

struct DiscoveredTool {
  std::string name;
  std::string title;
  std::string description;
  // JSON object with the parts a reviewer approves: description, inputSchema, annotations.
  // Any key order; discovery canonicalizes it before hashing.
  std::string definition_json;
  Access access = Access::kRead;
  Annotations annotations;
  std::vector<std::string> scopes;
};

class ToolSource {
 public:
  virtual ~ToolSource() = default;
  // The tools a server of `type` offers now. Needs no credentials and calls no upstream.
  virtual absl::StatusOr<std::vector<DiscoveredTool>> ListTools(ServerType type) = 0;
};

}  // namespace bastion::governance
