// The edge's PagerDuty ToolRunner through the real connector, against the PagerDuty simulator on
// loopback: what the edge offers and how each kind of outcome arrives.
#include "services/edge/pagerduty_tool_runner.h"

#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "common/pagerduty/catalog.h"
#include "common/pagerduty/executor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::edge {
namespace {

namespace json = boost::json;
namespace seed = pagerduty_sim::seed;
using ::testing::HasSubstr;
using Kind = ToolOutcome::Kind;

constexpr char kFullKey[] = "edge-test-full-key-0001";
constexpr char kReadOnlyKey[] = "edge-test-read-only-key-0001";

class PagerDutyToolRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pagerduty_sim::SimulatorOptions options;
    options.api_keys = {{kFullKey, pagerduty_sim::KeyAccess::kFull},
                        {kReadOnlyKey, pagerduty_sim::KeyAccess::kReadOnly}};
    sim_ = std::make_unique<pagerduty_sim::Simulator>(options);
    ASSERT_TRUE(sim_->Start().ok());
    pagerduty::ExecutorOptions executor_options;
    executor_options.us_base_url = sim_->base_url();
    executor_ = std::make_unique<pagerduty::Executor>(http_, executor_options);
    runner_ = std::make_unique<PagerDutyToolRunner>(*executor_);
  }

  static UpstreamCredential Key(const char* key) {
    return UpstreamCredential{absl::StrCat("Token token=", key), "alice@acme.example", "us",
                              std::nullopt};
  }

  http::CurlHttpClient http_;
  std::unique_ptr<pagerduty_sim::Simulator> sim_;
  std::unique_ptr<pagerduty::Executor> executor_;
  std::unique_ptr<PagerDutyToolRunner> runner_;
};

TEST_F(PagerDutyToolRunnerTest, OffersEveryCatalogToolAsAnMcpDefinition) {
  const auto& definitions = runner_->Definitions();
  ASSERT_EQ(definitions.size(), pagerduty::Catalog().size());
  EXPECT_EQ(definitions.size(), 103u);
  std::set<std::string> names;
  for (const json::object& tool : definitions) {
    const std::string name(tool.at("name").as_string());
    names.insert(name);
    EXPECT_TRUE(runner_->Knows(name));
    EXPECT_TRUE(tool.at("inputSchema").is_object()) << name;
    EXPECT_TRUE(tool.at("annotations").is_object()) << name;
  }
  EXPECT_EQ(names.size(), definitions.size());
  EXPECT_FALSE(runner_->Knows("delete_everything"));
}

TEST_F(PagerDutyToolRunnerTest, RunsAToolAgainstPagerDuty) {
  const ToolOutcome outcome =
      runner_->Run("get_incident", {{"incident_id", seed::kTriggeredIncidentId}}, Key(kFullKey));
  ASSERT_EQ(outcome.kind, Kind::kOk) << outcome.message;
  EXPECT_EQ(outcome.upstream_status, 200);
  EXPECT_EQ(outcome.result.at("title").as_string(), "Orders DB connection pool exhausted");
}

TEST_F(PagerDutyToolRunnerTest, InvalidArgumentsNeverReachPagerDuty) {
  const ToolOutcome outcome = runner_->Run("list_incidents", {{"limit", "all"}}, Key(kFullKey));
  EXPECT_EQ(outcome.kind, Kind::kInvalidArguments);
  EXPECT_THAT(outcome.message, HasSubstr("arguments.limit"));
  EXPECT_EQ(outcome.upstream_status, 0);
  EXPECT_TRUE(sim_->requests().empty());
}

TEST_F(PagerDutyToolRunnerTest, FailuresArriveAsTheirOwnKinds) {
  const ToolOutcome rejected = runner_->Run("list_incidents", {}, Key("edge-test-revoked-key"));
  EXPECT_EQ(rejected.kind, Kind::kCredentialRejected);
  EXPECT_EQ(rejected.upstream_status, 401);
  EXPECT_THAT(rejected.message, ::testing::Not(HasSubstr("revoked-key")));

  const ToolOutcome denied =
      runner_->Run("add_note_to_incident",
                   {{"incident_id", seed::kTriggeredIncidentId}, {"note", "x"}}, Key(kReadOnlyKey));
  EXPECT_EQ(denied.kind, Kind::kPermissionMissing);
  EXPECT_EQ(denied.upstream_status, 403);
  EXPECT_THAT(denied.message, HasSubstr("incidents.write"));

  const ToolOutcome missing =
      runner_->Run("get_incident", {{"incident_id", "PNOSUCH"}}, Key(kFullKey));
  EXPECT_EQ(missing.kind, Kind::kUpstreamError);
  EXPECT_EQ(missing.upstream_status, 404);
  EXPECT_THAT(missing.message, HasSubstr("Not Found"));
}

}  // namespace
}  // namespace bastion::edge
