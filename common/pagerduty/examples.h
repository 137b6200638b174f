// Realistic, valid arguments for every catalog tool: the success cases shared by the request
// builder's tests, the OpenAPI conformance test and the executor's tests.
#pragma once

#include <boost/json.hpp>
#include <string_view>
#include <vector>

#include "common/pagerduty/request_builder.h"

namespace bastion::pagerduty {

struct ToolExample {
  std::string_view tool;
  std::string_view what;  // what this example exercises
  boost::json::object arguments;
};

// At least one per catalog tool, grouped by tool in name order.
const std::vector<ToolExample>& Examples();

// The first example of `tool`, or nullptr.
const ToolExample* FindExample(std::string_view tool);

// A user-level caller at a fixed time, for tools that act as "me".
CallContext ExampleContext();

}  // namespace bastion::pagerduty
