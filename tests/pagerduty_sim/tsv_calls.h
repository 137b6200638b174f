// The REST calls of the official PagerDuty MCP server's tools (tools.tsv), with seeded ids for
// their path parameters and a valid body for each write: shared by the simulator's tests.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bastion::pagerduty_sim::simtest {

struct TsvCall {
  std::string method;
  std::string path;  // OpenAPI template
  bool from_required = false;
  std::string tool;
};

// The distinct calls in third_party/pagerduty/tools.tsv (a test data dependency).
std::vector<TsvCall> ReadTsv();
// The path with every parameter naming a seeded object.
std::string Concrete(const TsvCall& call);
// "METHOD /template" -> a valid JSON body, for every POST and PUT that takes one.
const std::map<std::string, std::string>& Bodies();

}  // namespace bastion::pagerduty_sim::simtest
