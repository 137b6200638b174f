#include "common/mcp/jsonrpc.h"
#include "common/mcp/protocol.h"

#include "gtest/gtest.h"

namespace bastion::mcp {
namespace {

int ErrorCodeOf(const ParseOutcome& o) { return static_cast<int>(o.error_response.at("error").at("code").as_int64()); }

TEST(JsonRpc, ParsesRequestsNotificationsAndResponses) {
  auto req = ParseMessage(R"({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}})");
  ASSERT_TRUE(req.message.has_value());
  EXPECT_EQ(req.message->kind, Message::Kind::kRequest);
  EXPECT_EQ(req.message->id.as_int64(), 7);
  EXPECT_EQ(req.message->method, "tools/list");
  EXPECT_EQ(req.message->params.at("cursor").as_string(), "x");

  auto str_id = ParseMessage(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})");
  ASSERT_TRUE(str_id.message.has_value());
  EXPECT_EQ(str_id.message->id.as_string(), "abc");
  EXPECT_TRUE(str_id.message->params.is_null());

  auto note = ParseMessage(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(note.message.has_value());
  EXPECT_EQ(note.message->kind, Message::Kind::kNotification);

  auto resp = ParseMessage(R"({"jsonrpc":"2.0","id":1,"result":{}})");
  ASSERT_TRUE(resp.message.has_value());
  EXPECT_EQ(resp.message->kind, Message::Kind::kResponse);
}

TEST(JsonRpc, MalformedJsonIsAParseErrorWithNullId) {
  auto out = ParseMessage(R"({"jsonrpc":"2.0", "id": 1, "method":)");
  ASSERT_FALSE(out.message.has_value());
  EXPECT_EQ(ErrorCodeOf(out), kParseError);
  EXPECT_TRUE(out.error_response.at("id").is_null());
}

TEST(JsonRpc, BatchesAreRefusedAsInvalidRequests) {
  auto out = ParseMessage(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  ASSERT_FALSE(out.message.has_value());
  EXPECT_EQ(ErrorCodeOf(out), kInvalidRequest);
  EXPECT_NE(std::string(out.error_response.at("error").at("message").as_string()).find("batch"), std::string::npos);
}

TEST(JsonRpc, InvalidShapesAreInvalidRequestsAndKeepTheIdWhenUsable) {
  EXPECT_EQ(ErrorCodeOf(ParseMessage(R"({"id":1,"method":"ping"})")), kInvalidRequest);
  auto wrong_version = ParseMessage(R"({"jsonrpc":"1.0","id":5,"method":"ping"})");
  EXPECT_EQ(ErrorCodeOf(wrong_version), kInvalidRequest);
  EXPECT_EQ(wrong_version.error_response.at("id").as_int64(), 5);
  EXPECT_EQ(ErrorCodeOf(ParseMessage(R"({"jsonrpc":"2.0","id":null,"method":"ping"})")), kInvalidRequest);
  EXPECT_EQ(ErrorCodeOf(ParseMessage(R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})")), kInvalidRequest);
  EXPECT_EQ(ErrorCodeOf(ParseMessage(R"({"jsonrpc":"2.0","id":1,"method":42})")), kInvalidRequest);
  EXPECT_EQ(ErrorCodeOf(ParseMessage(R"({"jsonrpc":"2.0","id":1,"method":"x","params":[1]})")), kInvalidRequest);
  EXPECT_EQ(ErrorCodeOf(ParseMessage(R"("just a string")")), kInvalidRequest);
}

TEST(Protocol, VersionNegotiationEchoesSupportedVersionsAndOffersTheLatestOtherwise) {
  EXPECT_EQ(NegotiateProtocolVersion("2025-06-18"), "2025-06-18");
  EXPECT_EQ(NegotiateProtocolVersion("2025-03-26"), "2025-03-26");
  EXPECT_EQ(NegotiateProtocolVersion("2025-11-25"), "2025-11-25");
  EXPECT_EQ(NegotiateProtocolVersion("2024-11-05"), "2025-11-25");
  EXPECT_FALSE(IsSupportedProtocolVersion("1999-01-01"));
}

TEST(Protocol, InitializeReadsClientInfoAndUrlElicitation) {
  auto params = boost::json::parse(R"({"protocolVersion":"2025-11-25","clientInfo":{"name":"claude","version":"1.2"},
      "capabilities":{"elicitation":{"url":{}}}})");
  auto req = ParseInitialize(params);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->client_name, "claude");
  EXPECT_TRUE(req->url_elicitation);
  EXPECT_FALSE(ParseInitialize(boost::json::parse(R"({"clientInfo":{}})")).ok());
  auto result = MakeInitializeResult("2025-06-18", {"bastion", "Bastion", "1.0", "Use the tools."});
  EXPECT_EQ(result.at("protocolVersion").as_string(), "2025-06-18");
  EXPECT_TRUE(result.at("capabilities").at("tools").at("listChanged").as_bool());
  EXPECT_EQ(result.at("serverInfo").at("name").as_string(), "bastion");
}

std::vector<boost::json::object> Tools(int n) {
  std::vector<boost::json::object> out;
  for (int i = 0; i < n; ++i) out.push_back({{"name", "tool_" + std::to_string(i)}});
  return out;
}

TEST(Protocol, ToolPagesFollowCursorsToTheEnd) {
  auto tools = Tools(5);
  auto p1 = PageTools(tools, "", 2);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->tools.size(), 2u);
  auto p2 = PageTools(tools, p1->next_cursor, 2);
  auto p3 = PageTools(tools, p2->next_cursor, 2);
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(p3->tools.size(), 1u);
  EXPECT_EQ(p3->tools[0].at("name").as_string(), "tool_4");
  EXPECT_TRUE(p3->next_cursor.empty());
}

TEST(Protocol, ForgedOrStaleCursorsAreInvalidParams) {
  auto tools = Tools(5);
  EXPECT_EQ(PageTools(tools, "garbage!!", 2).status().code(), absl::StatusCode::kInvalidArgument);
  auto p1 = PageTools(tools, "", 2);
  auto changed = Tools(6);
  EXPECT_EQ(PageTools(changed, p1->next_cursor, 2).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Protocol, ToolCallsNeedANameAndObjectArguments) {
  auto call = ParseToolCall(boost::json::parse(R"({"name":"list_incidents","arguments":{"limit":5}})"));
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->arguments.at("limit").as_int64(), 5);
  EXPECT_TRUE(ParseToolCall(boost::json::parse(R"({"name":"x"})")).ok());
  EXPECT_FALSE(ParseToolCall(boost::json::parse(R"({"arguments":{}})")).ok());
  EXPECT_FALSE(ParseToolCall(boost::json::parse(R"({"name":"x","arguments":[1]})")).ok());
}

TEST(Protocol, ResultsCarryTextAndStructuredContent) {
  auto ok = ToolResult(boost::json::parse(R"({"incidents":[]})"));
  EXPECT_FALSE(ok.at("isError").as_bool());
  EXPECT_EQ(ok.at("content").at(0).at("text").as_string(), R"({"incidents":[]})");
  EXPECT_TRUE(ok.at("structuredContent").is_object());
  auto err = ToolError("arguments.limit: expected integer");
  EXPECT_TRUE(err.at("isError").as_bool());
}

TEST(Protocol, ToolNamesFollowTheSpec) {
  EXPECT_TRUE(IsValidToolName("list_incidents"));
  EXPECT_TRUE(IsValidToolName("a.b-c_9"));
  EXPECT_FALSE(IsValidToolName(""));
  EXPECT_FALSE(IsValidToolName("has space"));
  EXPECT_FALSE(IsValidToolName(std::string(129, 'a')));
}

// Found by edge_request_fuzzer: an MCP-Protocol-Version header holding byte 0xC4 was quoted in
// the 400's error message and the edge answered with a body no JSON parser accepts.
TEST(JsonRpc, ErrorsQuotingBytesThatAreNotUtf8StayValidJson) {
  std::string body = boost::json::serialize(
      MakeError(nullptr, kInvalidRequest, "Bad Request: unsupported MCP-Protocol-Version 2024-\xC4" "11-25"));
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  EXPECT_EQ(parsed.at("error").at("message").as_string(),
            "Bad Request: unsupported MCP-Protocol-Version 2024-\xEF\xBF\xBD" "11-25");

  body = boost::json::serialize(ToolError("PagerDuty said \xFF\xFE"));
  (void)boost::json::parse(body, ec);
  EXPECT_FALSE(ec) << body;
}

}  // namespace
}  // namespace bastion::mcp
