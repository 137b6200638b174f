// MCP (revision 2025-11-25, negotiating 2025-06-18 and 2025-03-26): lifecycle and tools
// messages as plain functions over Boost.JSON, shared by the edge and its tests.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bastion::mcp {

inline constexpr char kLatestProtocolVersion[] = "2025-11-25";
// The version a client that sends no MCP-Protocol-Version header is assumed to speak.
inline constexpr char kDefaultHeaderProtocolVersion[] = "2025-03-26";

bool IsSupportedProtocolVersion(absl::string_view version);
// The client's version when we speak it, otherwise our latest (the client then decides).
std::string NegotiateProtocolVersion(absl::string_view requested);

struct InitializeRequest {
  std::string protocol_version;
  std::string client_name;
  std::string client_version;
  bool url_elicitation = false;  // the client declared capabilities.elicitation.url
};

// InvalidArgument (-> -32602) when a required field is missing or has the wrong type.
absl::StatusOr<InitializeRequest> ParseInitialize(const boost::json::value& params);

struct ServerInfo {
  std::string name;
  std::string title;
  std::string version;
  std::string instructions;
};

boost::json::object MakeInitializeResult(absl::string_view protocol_version, const ServerInfo& info);

// One page of a tool list. Cursors are opaque to clients: base64url of the next offset plus a
// fingerprint of the list, so a cursor from a list that since changed is refused (-32602).
struct ToolPage {
  boost::json::array tools;
  std::string next_cursor;  // empty on the last page
};
absl::StatusOr<ToolPage> PageTools(const std::vector<boost::json::object>& tools,
                                   absl::string_view cursor, size_t page_size);

struct ToolCall {
  std::string name;
  boost::json::object arguments;
};
absl::StatusOr<ToolCall> ParseToolCall(const boost::json::value& params);

// A tools/call result: the JSON as compact text content plus structuredContent (when an object).
boost::json::object ToolResult(const boost::json::value& structured);
// A tools/call result the model can read and act on: isError with a text explanation.
boost::json::object ToolError(absl::string_view message,
                              const boost::json::value& structured = nullptr);

// Valid tool name per MCP: 1-128 characters of [A-Za-z0-9_.-].
bool IsValidToolName(absl::string_view name);

}  // namespace bastion::mcp
