#include "common/mcp/jsonrpc.h"

#include "common/text/utf8.h"

namespace bastion::mcp {
namespace {

ParseOutcome Fail(const boost::json::value& id, int code, absl::string_view message) {
  ParseOutcome out;
  out.error_response = MakeError(id, code, message);
  return out;
}

bool ValidId(const boost::json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

}  // namespace

ParseOutcome ParseMessage(absl::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(body.data(), body.size()), ec);
  if (ec) return Fail(nullptr, kParseError, "Parse error: the body is not valid JSON");
  if (v.is_array()) {
    return Fail(nullptr, kInvalidRequest,
                "Invalid Request: JSON-RPC batches are not supported; send one message per request");
  }
  if (!v.is_object()) return Fail(nullptr, kInvalidRequest, "Invalid Request: expected a JSON object");
  const boost::json::object& o = v.as_object();
  boost::json::value id = nullptr;
  if (const auto* p = o.if_contains("id"); p != nullptr && ValidId(*p)) id = *p;

  const auto* jsonrpc = o.if_contains("jsonrpc");
  if (jsonrpc == nullptr || !jsonrpc->is_string() || jsonrpc->as_string() != "2.0") {
    return Fail(id, kInvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"");
  }
  Message m;
  if (const auto* method = o.if_contains("method")) {
    if (!method->is_string() || method->as_string().empty()) {
      return Fail(id, kInvalidRequest, "Invalid Request: \"method\" must be a non-empty string");
    }
    m.method = std::string(method->as_string());
    if (const auto* params = o.if_contains("params")) {
      if (!params->is_object()) {
        return Fail(id, kInvalidRequest, "Invalid Request: \"params\" must be an object");
      }
      m.params = *params;
    }
    if (const auto* raw_id = o.if_contains("id")) {
      if (!ValidId(*raw_id)) {
        return Fail(nullptr, kInvalidRequest, "Invalid Request: \"id\" must be a string or an integer");
      }
      m.kind = Message::Kind::kRequest;
      m.id = *raw_id;
    } else {
      m.kind = Message::Kind::kNotification;
    }
    return ParseOutcome{std::move(m), {}};
  }
  if ((o.contains("result") || o.contains("error")) && o.contains("id")) {
    m.kind = Message::Kind::kResponse;
    m.id = o.at("id");
    return ParseOutcome{std::move(m), {}};
  }
  return Fail(id, kInvalidRequest, "Invalid Request: expected a request, notification or response");
}

boost::json::object MakeResult(const boost::json::value& id, boost::json::value result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

boost::json::object MakeError(const boost::json::value& id, int code, absl::string_view message,
                              std::optional<boost::json::value> data) {
  // Messages often quote what the client sent (a header, a name): bytes that are not UTF-8
  // would make the whole response invalid JSON, so they are replaced.
  boost::json::object error{{"code", code}, {"message", text::ToValidUtf8(message)}};
  if (data.has_value()) error["data"] = std::move(*data);
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

}  // namespace bastion::mcp
