// JSON-RPC 2.0 as MCP uses it over Streamable HTTP: one message per POST body (no batches),
// request ids that are strings or integers, and the standard error codes.
#pragma once

#include <optional>
#include <string>

#include <boost/json.hpp>

#include "absl/strings/string_view.h"

namespace bastion::mcp {

enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  // MCP: the user must open a URL (e.g. to authorize PagerDuty) before the request can succeed.
  kUrlElicitationRequired = -32042,
};

struct Message {
  enum class Kind { kRequest, kNotification, kResponse };
  Kind kind = Kind::kRequest;
  boost::json::value id;  // string or integer; null for notifications
  std::string method;
  boost::json::value params;  // object, or null when absent
};

// Either a message or the JSON-RPC error response to send back for it.
struct ParseOutcome {
  std::optional<Message> message;
  boost::json::object error_response;
};

ParseOutcome ParseMessage(absl::string_view body);

boost::json::object MakeResult(const boost::json::value& id, boost::json::value result);
boost::json::object MakeError(const boost::json::value& id, int code, absl::string_view message,
                              std::optional<boost::json::value> data = std::nullopt);

}  // namespace bastion::mcp
