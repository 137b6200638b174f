#include "common/mcp/protocol.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/text/utf8.h"

namespace bastion::mcp {
namespace {

constexpr const char* kSupported[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

std::string Fingerprint(const std::vector<boost::json::object>& tools) {
  std::string names;
  for (const auto& t : tools) {
    if (const auto* n = t.if_contains("name"); n && n->is_string()) {
      names.append(n->as_string().data(), n->as_string().size());
      names.push_back('\n');
    }
  }
  return crypto::HexEncode(crypto::Sha256(names)).substr(0, 12);
}

std::string Str(const boost::json::string& s) { return std::string(s.data(), s.size()); }

}  // namespace

bool IsSupportedProtocolVersion(absl::string_view version) {
  for (const char* v : kSupported) {
    if (version == v) return true;
  }
  return false;
}

std::string NegotiateProtocolVersion(absl::string_view requested) {
  return IsSupportedProtocolVersion(requested) ? std::string(requested) : kLatestProtocolVersion;
}

absl::StatusOr<InitializeRequest> ParseInitialize(const boost::json::value& params) {
  if (!params.is_object()) return absl::InvalidArgumentError("initialize needs params");
  const auto& p = params.as_object();
  InitializeRequest req;
  const auto* version = p.if_contains("protocolVersion");
  if (version == nullptr || !version->is_string()) {
    return absl::InvalidArgumentError("initialize: params.protocolVersion must be a string");
  }
  req.protocol_version = Str(version->as_string());
  if (const auto* info = p.if_contains("clientInfo"); info != nullptr) {
    if (!info->is_object()) return absl::InvalidArgumentError("initialize: params.clientInfo must be an object");
    if (const auto* n = info->as_object().if_contains("name"); n && n->is_string()) req.client_name = Str(n->as_string());
    if (const auto* v = info->as_object().if_contains("version"); v && v->is_string()) req.client_version = Str(v->as_string());
  }
  if (const auto* caps = p.if_contains("capabilities"); caps != nullptr) {
    if (!caps->is_object()) return absl::InvalidArgumentError("initialize: params.capabilities must be an object");
    if (const auto* el = caps->as_object().if_contains("elicitation"); el && el->is_object()) {
      req.url_elicitation = el->as_object().contains("url");
    }
  }
  return req;
}

boost::json::object MakeInitializeResult(absl::string_view protocol_version, const ServerInfo& info) {
  boost::json::object server{{"name", info.name}, {"version", info.version}};
  if (!info.title.empty()) server["title"] = info.title;
  boost::json::object result{
      {"protocolVersion", boost::json::string_view(protocol_version.data(), protocol_version.size())},
      {"capabilities", {{"tools", {{"listChanged", true}}}}},
      {"serverInfo", std::move(server)}};
  if (!info.instructions.empty()) result["instructions"] = info.instructions;
  return result;
}

absl::StatusOr<ToolPage> PageTools(const std::vector<boost::json::object>& tools,
                                   absl::string_view cursor, size_t page_size) {
  const std::string fingerprint = Fingerprint(tools);
  size_t offset = 0;
  if (!cursor.empty()) {
    auto decoded = crypto::Base64UrlDecode(cursor);
    std::vector<std::string> parts;
    if (decoded.ok()) parts = absl::StrSplit(*decoded, ':');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &offset) || offset > tools.size()) {
      return absl::InvalidArgumentError("Invalid cursor: it was not issued by this server");
    }
    if (parts[1] != fingerprint) {
      return absl::InvalidArgumentError("Invalid cursor: the tool list changed; list again from the start");
    }
  }
  ToolPage page;
  const size_t end = std::min(tools.size(), offset + page_size);
  for (size_t i = offset; i < end; ++i) page.tools.push_back(tools[i]);
  if (end < tools.size()) page.next_cursor = crypto::Base64UrlEncode(absl::StrCat(end, ":", fingerprint));
  return page;
}

absl::StatusOr<ToolCall> ParseToolCall(const boost::json::value& params) {
  if (!params.is_object()) return absl::InvalidArgumentError("tools/call needs params with a tool name");
  const auto& p = params.as_object();
  const auto* name = p.if_contains("name");
  if (name == nullptr || !name->is_string() || name->as_string().empty()) {
    return absl::InvalidArgumentError("tools/call: params.name must be a non-empty string");
  }
  ToolCall call;
  call.name = Str(name->as_string());
  if (const auto* args = p.if_contains("arguments"); args != nullptr && !args->is_null()) {
    if (!args->is_object()) return absl::InvalidArgumentError("tools/call: params.arguments must be an object");
    call.arguments = args->as_object();
  }
  return call;
}

boost::json::object ToolResult(const boost::json::value& structured) {
  boost::json::object result{
      {"content", boost::json::array{{{"type", "text"}, {"text", boost::json::serialize(structured)}}}}};
  if (structured.is_object()) result["structuredContent"] = structured;
  result["isError"] = false;
  return result;
}

boost::json::object ToolError(absl::string_view message, const boost::json::value& structured) {
  boost::json::object result{
      {"content", boost::json::array{{{"type", "text"},
                                      {"text", text::ToValidUtf8(message)}}}},
      {"isError", true}};
  if (structured.is_object()) result["structuredContent"] = structured;
  return result;
}

bool IsValidToolName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace bastion::mcp
