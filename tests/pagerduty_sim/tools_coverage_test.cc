// Every REST call of the official PagerDuty MCP server's tools (tools.tsv) is served, and a
// valid request to it succeeds, over real HTTP.
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/pagerduty_sim/sim_test_util.h"
#include "tests/pagerduty_sim/tsv_calls.h"

namespace bastion::pagerduty_sim {
namespace {

using simtest::Bodies;
using simtest::Client;
using simtest::Concrete;
using simtest::ReadTsv;
using simtest::TsvCall;

TEST(ToolsCoverage, TsvListsTheExpectedCalls) {
  std::vector<TsvCall> calls = ReadTsv();
  EXPECT_EQ(calls.size(), 104u);  // Distinct METHOD /path pairs across the 103 tools.
}

TEST(ToolsCoverage, SimulatorRoutesEveryCallWithTheSpecsFromRule) {
  Simulator sim(simtest::DefaultOptions());
  std::map<std::string, Operation> ops;
  for (const Operation& op : sim.api().Operations()) ops[op.method + " " + op.path] = op;
  for (const TsvCall& call : ReadTsv()) {
    auto it = ops.find(call.method + " " + call.path);
    ASSERT_NE(it, ops.end()) << call.method << " " << call.path << " (" << call.tool << ") is not served";
    EXPECT_EQ(it->second.from_required, call.from_required) << call.method << " " << call.path;
  }
}

// One fresh simulator per call, so deletes and updates never disturb later calls. Each call
// runs with an account-level API key and again with a user's OAuth token, as Bastion sends them.
TEST(ToolsCoverage, EveryCallSucceedsWithAValidRequest) {
  for (bool oauth : {false, true}) {
    for (const TsvCall& call : ReadTsv()) {
      SCOPED_TRACE(call.method + " " + call.path + " (" + call.tool + (oauth ? ", OAuth)" : ", API key)"));
      Simulator sim(simtest::DefaultOptions());
      ASSERT_TRUE(sim.Start().ok());
      Client client(sim.base_url());
      if (oauth) {
        client.authorization =
            "Bearer " + sim.IssueOAuthTokens(simtest::kClientId, seed::kAdminUserId, "read write").access_token;
      }
      std::string key = call.method + " " + call.path;
      std::string body;
      // POST /v3/schedules/{id}/rotations takes no body.
      if ((call.method == "POST" || call.method == "PUT") && key != "POST /v3/schedules/{id}/rotations") {
        auto it = Bodies().find(key);
        ASSERT_NE(it, Bodies().end()) << "no request body in this test for " << key;
        body = it->second;
      }
      simtest::Reply reply = client.Send(call.method, Concrete(call), body);
      if (key == "GET /users/me" && !oauth) {
        // Like PagerDuty: an account-level key has no user.
        EXPECT_EQ(reply.status, 400) << reply.body;
        continue;
      }
      EXPECT_GE(reply.status, 200) << reply.body;
      EXPECT_LT(reply.status, 300) << reply.body;
      if (reply.status != 204) {
        EXPECT_FALSE(reply.json.is_null()) << "not JSON: " << reply.body;
      }
    }
  }
}

// The same calls without credentials are refused like PagerDuty does, never served.
TEST(ToolsCoverage, EveryCallNeedsCredentials) {
  Simulator sim(simtest::DefaultOptions());
  ASSERT_TRUE(sim.Start().ok());
  Client client(sim.base_url());
  client.authorization = "";
  for (const TsvCall& call : ReadTsv()) {
    simtest::Reply reply = client.Send(call.method, Concrete(call), "{}");
    EXPECT_EQ(reply.status, 401) << call.method << " " << call.path;
    EXPECT_EQ(simtest::Error(reply).at("code").as_int64(), 2006);
  }
}

}  // namespace
}  // namespace bastion::pagerduty_sim
