// The edge's ToolRunner backed by the PagerDuty connector: the catalog's MCP tool definitions,
// and calls run by pagerduty::Executor with its outcomes translated one to one.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/pagerduty/executor.h"
#include "services/edge/backends.h"

namespace bastion::edge {

class PagerDutyToolRunner : public ToolRunner {
 public:
  // `executor` must outlive the runner.
  explicit PagerDutyToolRunner(const pagerduty::Executor& executor);

  const std::vector<boost::json::object>& Definitions() const override { return definitions_; }
  bool Knows(const std::string& tool) const override;
  // Blocks on PagerDuty: the edge calls it on its executor, never on an I/O thread.
  ToolOutcome Run(const std::string& tool, const boost::json::object& arguments,
                  const UpstreamCredential& credential) override;

 private:
  const pagerduty::Executor& executor_;
  const std::vector<boost::json::object> definitions_;
};

}  // namespace bastion::edge
