// A POST body as the edge receives it: the JSON-RPC envelope, then the MCP params the edge reads
// from it (initialize, tools/call, tools/list cursors). Nothing may crash or throw; every error
// response must itself be valid JSON-RPC.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/strings/string_view.h"
#include "common/mcp/jsonrpc.h"
#include "common/mcp/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bastion::mcp;
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  ParseOutcome outcome = ParseMessage(body);
  if (!outcome.message) {
    // A refusal is an error response with an id of null, a string or an integer.
    const boost::json::value& id = outcome.error_response.at("id");
    if (!id.is_null() && !id.is_string() && !id.is_int64() && !id.is_uint64()) __builtin_trap();
    (void)boost::json::serialize(outcome.error_response);
    return 0;
  }
  const Message& m = *outcome.message;
  (void)boost::json::serialize(MakeResult(m.id, m.params));
  (void)boost::json::serialize(MakeError(m.id, kInvalidParams, m.method, m.params));
  (void)IsValidToolName(m.method);
  if (auto init = ParseInitialize(m.params); init.ok()) {
    (void)NegotiateProtocolVersion(init->protocol_version);
  }
  if (auto call = ParseToolCall(m.params); call.ok()) {
    (void)IsValidToolName(call->name);
    (void)boost::json::serialize(ToolResult(call->arguments));
    (void)boost::json::serialize(ToolError(call->name, call->arguments));
  }
  if (m.params.is_object()) {
    const boost::json::object& params = m.params.get_object();
    if (auto it = params.find("cursor"); it != params.end() && it->value().is_string()) {
      static const std::vector<boost::json::object> kTools = {
          {{"name", "list_incidents"}}, {{"name", "get_incident"}}, {{"name", "list_services"}}};
      auto page = PageTools(kTools, std::string(it->value().get_string()), 2);
      if (page.ok() && page->tools.size() > 2) __builtin_trap();
    }
  }
  return 0;
}
