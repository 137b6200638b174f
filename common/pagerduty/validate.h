// Checks a tool call's arguments against the tool's input schema (valijson, schemas compiled
// once per tool), with errors a model can act on: "arguments.limit: expected integer <= 100".
#pragma once

#include <boost/json.hpp>

#include "absl/status/status.h"
#include "common/pagerduty/catalog.h"

namespace bastion::pagerduty {

// OK, or InvalidArgument naming each offending field (up to three) and what it expected.
// Absent arguments (null) count as {}. Never throws.
absl::Status ValidateArguments(const ToolDef& tool, const boost::json::value& arguments);

// Compiles every catalog schema now instead of on first use, so a server can fail at start-up
// rather than on a call. InternalError names the first schema valijson rejects.
absl::Status PrecompileSchemas();

}  // namespace bastion::pagerduty
