#include "services/edge/pagerduty_tool_runner.h"

#include <utility>

#include "common/pagerduty/catalog.h"

namespace bastion::edge {
namespace {

std::vector<boost::json::object> CatalogDefinitions() {
  std::vector<boost::json::object> definitions;
  for (const pagerduty::ToolDef& tool : pagerduty::Catalog()) {
    definitions.push_back(pagerduty::ToMcpTool(tool));
  }
  return definitions;
}

ToolOutcome::Kind ToKind(pagerduty::Outcome::Kind kind) {
  using In = pagerduty::Outcome::Kind;
  using Out = ToolOutcome::Kind;
  switch (kind) {
    case In::kOk:
      return Out::kOk;
    case In::kInvalidArguments:
      return Out::kInvalidArguments;
    case In::kUpstreamError:
      return Out::kUpstreamError;
    case In::kCredentialRejected:
      return Out::kCredentialRejected;
    case In::kPermissionMissing:
      return Out::kPermissionMissing;
    case In::kUnavailable:
      return Out::kUnavailable;
  }
  return Out::kUnavailable;
}

}  // namespace

PagerDutyToolRunner::PagerDutyToolRunner(const pagerduty::Executor& executor)
    : executor_(executor), definitions_(CatalogDefinitions()) {}

bool PagerDutyToolRunner::Knows(const std::string& tool) const {
  return pagerduty::FindTool(tool) != nullptr;
}

ToolOutcome PagerDutyToolRunner::Run(const std::string& tool, const boost::json::object& arguments,
                                     const UpstreamCredential& credential) {
  pagerduty::Credential upstream;
  upstream.authorization = credential.authorization;
  upstream.from_email = credential.from_email;
  upstream.region = credential.region;
  pagerduty::Outcome outcome = executor_.Run(tool, boost::json::value(arguments), upstream);
  ToolOutcome out;
  out.kind = ToKind(outcome.kind);
  out.result = std::move(outcome.result);
  out.message = std::move(outcome.message);
  out.upstream_status = outcome.upstream_status;
  return out;
}

}  // namespace bastion::edge
