// Discovery's view of the PagerDuty connector: the catalog in common/pagerduty, turned into the
// tool list governance reviews. Lists what the connector offers; never calls PagerDuty, so it
// works without (or with wrong) credentials.
#pragma once

#include "services/governance/tool_source.h"

namespace bastion::governance {

class PagerDutyToolSource : public ToolSource {
 public:
  absl::StatusOr<std::vector<DiscoveredTool>> ListTools(ServerType type) override;
};

}  // namespace bastion::governance
