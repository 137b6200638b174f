// The executor against the PagerDuty simulator over real HTTP on loopback: every catalog tool's
// example, the headers PagerDuty needs, paging, retries and how failures map to outcomes.
#include "common/pagerduty/executor.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/http/http_client.h"
#include "common/metrics/registry.h"
#include "common/metrics/text_serializer.h"
#include "common/pagerduty/catalog.h"
#include "common/pagerduty/examples.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
namespace seed = pagerduty_sim::seed;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = Outcome::Kind;

constexpr char kFullKey[] = "sim-full-key-0123456789";
constexpr char kReadOnlyKey[] = "sim-read-only-key-0123456789";
constexpr char kClientId[] = "bastion-test";
constexpr char kAliceEmail[] = "alice@acme.example";

// The examples name IDs of a made-up account; these are the simulator's objects in their place.
const std::map<std::string, std::string>& SimulatorIds() {
  static const auto* const kIds = new std::map<std::string, std::string>{
      {"Q2HKCW3TLPWPVN", seed::kTriggeredIncidentId},
      {"Q1P3AHC3KLGKOG", seed::kAcknowledgedIncidentId},
      {"Q1ATLSCT5GQ3VI", seed::kTriggeredIncidentAlertId},
      {"Q02JTSNZWHSEKV", seed::kTriggeredIncidentLogEntryId},
      {"PXPGF42", seed::kResponderUserId},
      {"PEYSGVA", seed::kPaymentsUserId},
      {"PANZZEQ", seed::kPlatformPolicyId},
      {"PQ9K7I8", seed::kPlatformTeamId},
      {"PWIXJZS", seed::kCheckoutServiceId},
      {"PIJ90N7", seed::kDatabaseServiceId},
      {"PB31XBA", seed::kDatabaseServiceId},
      {"PC2D9ML", seed::kWebServiceId},
      {"PI7DH85", seed::kPlatformScheduleId},
      {"PSV3ABC", seed::kFollowTheSunScheduleId},
      {"PROT123", seed::kV3RotationId},
      {"PEV0001", seed::kV3EventId},
      {"PCS0001", seed::kV3CustomShiftId},
      {"POV0001", seed::kV3OverrideId},
      {"PT4KHLK", seed::kStatusPageId},
      {"PPOST01", seed::kStatusPagePostId},
      {"PSTAT01", "PSTS001"},
      {"PSTAT02", "PSTS002"},
      {"PSPS001", seed::kCheckoutServiceId},
      {"PZC4OMX", seed::kAlertGroupingSettingId},
      {"PD1BSRV", seed::kBusinessServiceId},
      {"01BH1RWG80SKWH0G0FNRYR7Q6Y", seed::kChangeEventId},
      {"PAXDT1L", seed::kExtensionSchemaId},
      {"PSFEVL7", seed::kWorkflowId},
      {"PY1OQBC", seed::kWebhookId},
      {"PINT001", "PINTCH1"},
      {"b02e973d-9620-4e0a-9edc-00fedf7d4694", seed::kOrchestrationId},
  };
  return *kIds;
}

json::value WithSimulatorIds(const json::value& value) {
  if (value.is_string()) {
    auto it = SimulatorIds().find(std::string(value.get_string()));
    return it == SimulatorIds().end() ? value : json::value(it->second);
  }
  if (value.is_array()) {
    json::array out;
    for (const json::value& item : value.get_array()) out.push_back(WithSimulatorIds(item));
    return out;
  }
  if (value.is_object()) {
    json::object out;
    for (const auto& member : value.get_object())
      out[member.key()] = WithSimulatorIds(member.value());
    return out;
  }
  return value;
}

// Brings an example's arguments onto the simulator's account: its IDs, plus the few things the
// seeded account makes PagerDuty refuse.
json::value Adapt(pagerduty_sim::Simulator& sim, const ToolExample& example) {
  json::value args = WithSimulatorIds(example.arguments);
  json::object& object = args.as_object();
  // The account already has a "Checkout API" service and a "Platform" team; names are unique.
  if (example.tool == "create_service") {
    object["service_data"].as_object()["service"].as_object()["name"] = "Checkout API (staging)";
  }
  if (example.tool == "create_team") {
    object["create_model"].as_object()["team"].as_object()["name"] = "Platform (new)";
  }
  // Only events that have not started yet can be changed freely: add one starting next month.
  if (example.tool == "update_schedule_v3_rotation_event") {
    const absl::Time start = absl::Now() + absl::Hours(24 * 30);
    auto iso = [](absl::Time t) {
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
    };
    pagerduty_sim::ApiRequest create;
    create.method = "POST";
    create.path = absl::StrCat("/v3/schedules/", seed::kFollowTheSunScheduleId, "/rotations/",
                               seed::kV3RotationId, "/events");
    create.body = json::serialize(json::object{
        {"event",
         {{"name", "Next month"},
          {"start_time", {{"date_time", iso(start)}, {"time_zone", "UTC"}}},
          {"end_time", {{"date_time", iso(start + absl::Hours(8))}, {"time_zone", "UTC"}}},
          {"effective_since", iso(start)},
          {"recurrence", json::array{"RRULE:FREQ=DAILY"}},
          {"assignment_strategy",
           {{"type", "every_member_assignment_strategy"},
            {"members",
             json::array{{{"type", "user_member"}, {"user_id", seed::kResponderUserId}}}}}}}}});
    const pagerduty_sim::ApiReply reply = sim.api().Handle(create);
    EXPECT_EQ(reply.status, 201) << reply.body;
    object["event_id"] = json::parse(reply.body).at("event").at("id");
  }
  return args;
}

// Records the waits instead of sleeping and moves the executor's clock on by them.
class RecordingSleeper : public Sleeper {
 public:
  explicit RecordingSleeper(FakeClock& clock) : clock_(clock) {}
  void Sleep(absl::Duration duration) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(duration);
    clock_.Advance(duration);
  }
  std::vector<absl::Duration> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  FakeClock& clock_;
  absl::Mutex mu_;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

std::string Describe(const Outcome& outcome) {
  return absl::StrCat(std::string(OutcomeKindName(outcome.kind)), " (HTTP ",
                      outcome.upstream_status, "): ", outcome.message);
}

bool SegmentsMatch(absl::string_view path_template, absl::string_view path) {
  std::vector<absl::string_view> want = absl::StrSplit(path_template, '/');
  std::vector<absl::string_view> got = absl::StrSplit(path, '/');
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (absl::StartsWith(want[i], "{")) continue;
    if (want[i] != got[i]) return false;
  }
  return true;
}

// The tool's call that a recorded request was for; nullptr for none (GET /users/me).
const RestCall* CallFor(const ToolDef& tool, const pagerduty_sim::RecordedRequest& request) {
  const RestCall* best = nullptr;
  for (const RestCall& call : tool.calls) {
    if (MethodName(call.method) != request.method || !SegmentsMatch(call.path, request.path))
      continue;
    // A literal segment beats a placeholder ("/users/me" over "/users/{id}").
    if (best == nullptr || call.path.find('{') == std::string::npos) best = &call;
  }
  return best;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { StartSimulator(); }

  void StartSimulator() {
    pagerduty_sim::SimulatorOptions sim_options;
    sim_options.api_keys = {{kFullKey, pagerduty_sim::KeyAccess::kFull},
                            {kReadOnlyKey, pagerduty_sim::KeyAccess::kReadOnly}};
    sim_options.oauth_clients = {{kClientId, "client-secret"}};
    sim_ = std::make_unique<pagerduty_sim::Simulator>(sim_options);
    ASSERT_TRUE(sim_->Start().ok());
    options_.us_base_url = sim_->base_url();
    options_.eu_base_url = "http://127.0.0.1:1";  // Nothing listens there.
    executor_ = std::make_unique<Executor>(http_, options_, clock_, sleeper_);
  }

  void Reconfigure(ExecutorOptions options) {
    options.us_base_url = options_.us_base_url;
    options.eu_base_url = options_.eu_base_url;
    options_ = options;
    executor_ = std::make_unique<Executor>(http_, options_, clock_, sleeper_);
  }

  Credential ApiKey(std::string key = kFullKey) const {
    return Credential{absl::StrCat("Token token=", key), kAliceEmail, "us"};
  }

  Credential OAuth(absl::string_view user_id, absl::string_view email,
                   absl::string_view scope = "read write") {
    pagerduty_sim::OAuthTokens tokens = sim_->IssueOAuthTokens(kClientId, user_id, scope);
    return Credential{absl::StrCat("Bearer ", tokens.access_token), std::string(email), "us"};
  }

  Outcome Run(std::string_view tool, absl::string_view arguments, const Credential& credential) {
    return executor_->Run(tool, json::parse(std::string(arguments)), credential);
  }

  std::vector<pagerduty_sim::RecordedRequest> Requests() { return sim_->requests(); }

  // Adds incidents straight to the simulated account, as if created long ago.
  void AddIncidents(int count) {
    for (int i = 0; i < count; ++i) {
      pagerduty_sim::ApiRequest create;
      create.method = "POST";
      create.path = "/incidents";
      create.from = kAliceEmail;
      create.body = json::serialize(json::object{
          {"incident",
           {{"type", "incident"},
            {"title", absl::StrCat("Synthetic incident ", i)},
            {"service", {{"id", seed::kWebServiceId}, {"type", "service_reference"}}}}}});
      ASSERT_EQ(sim_->api().Handle(create).status, 201) << i;
    }
  }

  http::CurlHttpClient http_;
  FakeClock clock_;
  RecordingSleeper sleeper_{clock_};
  ExecutorOptions options_;
  std::unique_ptr<pagerduty_sim::Simulator> sim_;
  std::unique_ptr<Executor> executor_;
};

// --- Every tool, with its example, succeeds; the requests carry exactly PagerDuty's headers.

class AllToolsTest : public ExecutorTest, public ::testing::WithParamInterface<int> {
 protected:
  void CheckHeaders(const ToolDef& tool, const Credential& credential) {
    const std::string scheme =
        absl::StartsWith(credential.authorization, "Bearer") ? "Bearer" : "Token";
    for (const pagerduty_sim::RecordedRequest& request : Requests()) {
      SCOPED_TRACE(absl::StrCat(request.method, " ", request.path, "?", request.query));
      EXPECT_EQ(request.Header("Authorization"), scheme);
      EXPECT_EQ(request.Header("Accept"), "application/vnd.pagerduty+json;version=2");
      EXPECT_EQ(request.Header("Content-Type"), "application/json");
      const RestCall* call = CallFor(tool, request);
      if (call == nullptr) {
        EXPECT_EQ(request.path, "/users/me");
        EXPECT_EQ(request.Header("From"), std::nullopt);
        continue;
      }
      // Required: always. Optional: sent because the email is known. Elsewhere: never.
      if (call->from == FromHeader::kNone) {
        EXPECT_EQ(request.Header("From"), std::nullopt);
      } else {
        EXPECT_EQ(request.Header("From"), credential.from_email);
      }
    }
  }
};

TEST_P(AllToolsTest, ExampleSucceedsWithAUserCredential) {
  const ToolExample& example = Examples()[GetParam()];
  const ToolDef& tool = *FindTool(example.tool);
  SCOPED_TRACE(absl::StrCat(std::string(example.tool), " (", std::string(example.what), ")"));
  const Credential credential = OAuth(seed::kAdminUserId, kAliceEmail);
  const Outcome outcome = executor_->Run(example.tool, Adapt(*sim_, example), credential);
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_TRUE(outcome.result.is_object());
  EXPECT_GE(outcome.upstream_status, 200);
  EXPECT_LE(outcome.upstream_status, 299);
  EXPECT_FALSE(Requests().empty());
  CheckHeaders(tool, credential);
}

// With an account-level key, tools that act as "me" refuse without sending anything; every
// other tool succeeds.
TEST_P(AllToolsTest, ExampleSucceedsOrRefusesWithAnAccountKey) {
  const ToolExample& example = Examples()[GetParam()];
  const ToolDef& tool = *FindTool(example.tool);
  SCOPED_TRACE(absl::StrCat(std::string(example.tool), " (", std::string(example.what), ")"));
  const Outcome outcome = executor_->Run(example.tool, Adapt(*sim_, example), ApiKey());
  const bool acts_as_me = tool.handler == Handler::kAddResponders ||
                          example.arguments.contains("request_scope") ||
                          example.arguments.contains("scope") || tool.name == "get_user_data";
  if (tool.name == "get_user_data") {
    // GET /users/me itself: PagerDuty answers an account-level key with a 400 saying why.
    EXPECT_EQ(outcome.kind, Kind::kUpstreamError) << Describe(outcome);
    EXPECT_THAT(outcome.message, HasSubstr("user-level"));
    return;
  }
  if (acts_as_me) {
    EXPECT_EQ(outcome.kind, Kind::kPermissionMissing) << Describe(outcome);
    EXPECT_THAT(outcome.message, HasSubstr("account-level API key"));
    EXPECT_TRUE(Requests().empty());
    return;
  }
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  CheckHeaders(tool, ApiKey());
}

INSTANTIATE_TEST_SUITE_P(Examples, AllToolsTest,
                         ::testing::Range(0, static_cast<int>(Examples().size())),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat(std::string(Examples()[info.param].tool), "_",
                                               info.param);
                         });

TEST(ExecutorCoverageTest, EveryCatalogToolHasAnExampleInTheTable) {
  EXPECT_EQ(Catalog().size(), 103u);
  for (const ToolDef& tool : Catalog()) EXPECT_NE(FindExample(tool.name), nullptr) << tool.name;
}

// --- Invalid arguments: one case per tool family; nothing reaches PagerDuty.

struct InvalidCase {
  const char* tool;
  const char* arguments;
  const char* field;  // what the message must name
};

constexpr InvalidCase kInvalidCases[] = {
    {"get_incident_metrics_all", R"({"created_at_start": "2025-01-01T00:00:00Z"})",
     "arguments.created_at_end"},
    {"list_change_events", R"({"limit": "ten"})", "arguments.limit"},
    {"get_escalation_policy", R"({})", "arguments.policy_id"},
    {"append_event_orchestration_router_rule", R"({"orchestration_id": "abc"})",
     "arguments.new_rule"},
    {"start_incident_workflow", R"({"workflow_id": 7, "instance_request": {}})",
     "arguments.workflow_id"},
    {"list_incidents", R"({"statuses": ["open"]})", "arguments.statuses[0]"},
    {"create_incident", R"({"incident": {"title": "Disk full"}})", "arguments.incident.service"},
    {"manage_incidents", R"({"manage_request": {"incident_ids": ["PINC0DB"]}})",
     "arguments.manage_request"},
    {"get_schedule", R"({"schedule_id": "PSCHPL1", "kind": "weekly"})", "arguments.kind"},
    {"list_services", R"({"limit": 5000})", "arguments.limit"},
    {"get_alert_grouping_setting", R"({})", "arguments.setting_id"},
    {"list_status_page_impacts", R"({})", "arguments.status_page_id"},
    {"list_teams", R"({"scope": "mine"})", "arguments.scope"},
    {"create_user", R"({"request": {"name": "No Email"}})", "arguments.request.email"},
    {"get_webhook_subscription", R"({"subscription_id": "PWHK001", "verbose": true})",
     "arguments.verbose"},
    {"get_extension_schema", R"({"schema_id": ["PJFWPEP"]})", "arguments.schema_id"},
};

TEST_F(ExecutorTest, InvalidArgumentsNameTheFieldAndSendNothing) {
  for (const InvalidCase& c : kInvalidCases) {
    SCOPED_TRACE(c.tool);
    const Outcome outcome = Run(c.tool, c.arguments, ApiKey());
    EXPECT_EQ(outcome.kind, Kind::kInvalidArguments) << Describe(outcome);
    EXPECT_THAT(outcome.message, HasSubstr(c.field));
    EXPECT_EQ(outcome.requests_sent, 0);
  }
  EXPECT_TRUE(Requests().empty());
}

// Issue 11, defect 3: a filter list that builds a URL over 8 KiB is refused before anything is
// sent, with advice the model can act on.
TEST_F(ExecutorTest, OverlongUrlIsNeverSent) {
  json::array ids;
  for (int i = 0; i < 100; ++i) ids.emplace_back(absl::StrCat("P", std::string(60, 'X'), i + 100));
  const Outcome outcome =
      Run("list_incidents", json::serialize(json::object{{"priorities", std::move(ids)}}),
          ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kInvalidArguments) << Describe(outcome);
  EXPECT_THAT(outcome.message, HasSubstr("Narrow the filters"));
  EXPECT_EQ(outcome.requests_sent, 0);
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ExecutorTest, UnknownToolAndNonObjectArgumentsAreRefused) {
  EXPECT_EQ(Run("drop_all_incidents", "{}", ApiKey()).kind, Kind::kInvalidArguments);
  const Outcome outcome = executor_->Run("list_incidents", json::array{1, 2}, ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kInvalidArguments);
  EXPECT_THAT(outcome.message, HasSubstr("expected an object"));
  EXPECT_TRUE(Requests().empty());
}

// --- From header.

TEST_F(ExecutorTest, FromIsSentOnlyToOperationsThatRequireIt) {
  ASSERT_EQ(Run("add_note_to_incident", R"({"incident_id": "PINC0DB", "note": "Looking into it"})",
                ApiKey())
                .kind,
            Kind::kOk);
  ASSERT_EQ(Run("get_incident", R"({"incident_id": "PINC0DB"})", ApiKey()).kind, Kind::kOk);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("From"), kAliceEmail);
  EXPECT_EQ(requests[1].Header("From"), std::nullopt);
  // The simulator attributes the note to the user the From header names.
  const auto note_author = sim_->api().Items("notes").back().at("user").as_object().at("id");
  EXPECT_EQ(note_author.as_string(), seed::kAdminUserId);
}

TEST_F(ExecutorTest, OperationNeedingFromRefusesWithoutAnEmailOnAnAccountKey) {
  Credential key = ApiKey();
  key.from_email.clear();
  const Outcome outcome =
      Run("add_note_to_incident", R"({"incident_id": "PINC0DB", "note": "x"})", key);
  EXPECT_EQ(outcome.kind, Kind::kPermissionMissing) << Describe(outcome);
  EXPECT_THAT(outcome.message, HasSubstr("From"));
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ExecutorTest, UserCredentialWithoutEmailTakesItFromUsersMe) {
  Credential user = OAuth(seed::kResponderUserId, "");
  const Outcome outcome =
      Run("add_note_to_incident", R"({"incident_id": "PINC0DB", "note": "On it"})", user);
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/users/me");
  EXPECT_EQ(requests[1].Header("From"), "bob@acme.example");
}

// --- Pagination.

TEST_F(ExecutorTest, MultiPageListAssemblesEveryRecord) {
  AddIncidents(246);  // 250 with the four seeded ones.
  const Outcome outcome = Run("list_incidents", R"({"limit": 250})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(outcome.result.at("incidents").as_array().size(), 250u);
  EXPECT_EQ(outcome.result.at("total_returned").to_number<int>(), 250);
  EXPECT_EQ(outcome.result.at("more").as_bool(), false);
  std::vector<std::string> queries;
  for (const auto& request : Requests()) queries.push_back(request.query);
  EXPECT_THAT(queries, ElementsAre("limit=100", "limit=100&offset=100", "limit=100&offset=200"));
  // No record twice: pages follow on from one another.
  std::set<std::string> ids;
  for (const json::value& incident : outcome.result.at("incidents").as_array()) {
    ids.insert(std::string(incident.at("id").as_string()));
  }
  EXPECT_EQ(ids.size(), 250u);
}

TEST_F(ExecutorTest, RecordCapFromTheLimitArgumentStopsPaging) {
  AddIncidents(246);
  const Outcome outcome = Run("list_incidents", R"({"limit": 120})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(outcome.result.at("incidents").as_array().size(), 120u);
  EXPECT_EQ(outcome.result.at("more").as_bool(), true);
  EXPECT_EQ(Requests().size(), 2u);
}

TEST_F(ExecutorTest, ExecutorRecordCeilingBoundsEveryList) {
  ExecutorOptions options;
  options.max_records = 150;
  Reconfigure(options);
  AddIncidents(246);
  const Outcome outcome = Run("list_incidents", R"({"limit": 1000})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(outcome.result.at("incidents").as_array().size(), 150u);
  EXPECT_EQ(outcome.result.at("more").as_bool(), true);
  EXPECT_EQ(Requests().size(), 2u);
}

TEST_F(ExecutorTest, PagingNeverReachesPastOffsetPlusLimitTenThousand) {
  // A caller-given offset close to the end: the page is shrunk to end at 10000.
  const Outcome outcome =
      Run("list_event_orchestrations", R"({"offset": 9950, "limit": 100})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0].query, AllOf(HasSubstr("limit=50&"), HasSubstr("offset=9950")));
}

TEST_F(ExecutorTest, CursorPagingFollowsAfter) {
  for (int i = 0; i < 120; ++i) {
    pagerduty_sim::ApiRequest create;
    create.method = "POST";
    create.path = "/alert_grouping_settings";
    create.body =
        json::serialize(json::object{{"alert_grouping_setting",
                                      {{"name", absl::StrCat("Setting ", i)},
                                       {"type", "time"},
                                       {"config", {{"timeout", 60}}},
                                       {"services", json::array{{{"id", seed::kWebServiceId}}}}}}});
    ASSERT_EQ(sim_->api().Handle(create).status / 100, 2) << sim_->api().Handle(create).body;
  }
  const Outcome outcome = Run("list_alert_grouping_settings", R"({"limit": 1000})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[1].query, HasSubstr("after="));
  const size_t total = sim_->api().Items("alert_grouping_settings").size();
  EXPECT_EQ(outcome.result.at("alert_grouping_settings").as_array().size(), total);
  EXPECT_EQ(outcome.result.at("more").as_bool(), false);
}

// --- Retries.

// Issue 11, defect 3: a worker thread is never parked for seconds. A 429 whose window resets
// in 7 s is answered at once with that advice; nothing sleeps, nothing is resent.
TEST_F(ExecutorTest, RateLimitWithALongResetIsAnsweredAtOnceWithRetryAdvice) {
  pagerduty_sim::Faults faults;
  faults.rate_limited = 1;
  faults.rate_limit_reset_seconds = 7;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("get_incident", R"({"incident_id": "PINC0DB"})", ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_EQ(outcome.upstream_status, 429);
  EXPECT_THAT(outcome.message, HasSubstr("the limit resets in 7 s. Retry after that."));
  EXPECT_TRUE(sleeper_.waits().empty());
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(ExecutorTest, RepeatedServerErrorsStopAtTheWaitBudgetWithRetryAdvice) {
  // Waits are jittered within [b/2, b] for b = 50, 100, 200 ms: the first two always fit in
  // 150 ms and the third never does, so the budget, not the retry count, ends the call.
  ExecutorOptions options = options_;
  options.max_retry_wait = absl::Milliseconds(150);
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.server_errors = 100;
  faults.server_error_status = 503;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("get_service", R"({"service_id": "PSAPI01"})", ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_THAT(outcome.message, HasSubstr("; retry in "));
  absl::Duration waited;
  for (absl::Duration wait : sleeper_.waits()) waited += wait;
  EXPECT_GT(sleeper_.waits().size(), 0u) << "short waits are still taken";
  EXPECT_LE(waited, options_.max_retry_wait);
}

// With a larger wait budget (an operator's choice) the executor waits as ratelimit-reset says.
TEST_F(ExecutorTest, RateLimitedRequestWaitsAsRatelimitResetSaysWithinItsBudget) {
  ExecutorOptions options;
  options.max_retry_wait = absl::Seconds(30);
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.rate_limited = 2;
  faults.rate_limit_reset_seconds = 7;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("get_incident", R"({"incident_id": "PINC0DB"})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(outcome.result.at("id").as_string(), seed::kTriggeredIncidentId);
  EXPECT_EQ(Requests().size(), 3u);
  const std::vector<absl::Duration> waits = sleeper_.waits();
  ASSERT_EQ(waits.size(), 2u);
  for (absl::Duration wait : waits) {
    EXPECT_GE(wait, absl::Seconds(7));
    EXPECT_LT(wait, absl::Seconds(8));
  }
}

TEST_F(ExecutorTest, RateLimitedPostIsRetriedBecausePagerDutyDidNotActOnIt) {
  ExecutorOptions options;
  options.max_retry_wait = absl::Seconds(30);
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.rate_limited = 1;
  sim_->SetFaults(faults);
  const size_t notes = sim_->api().Items("notes").size();
  const Outcome outcome =
      Run("add_note_to_incident", R"({"incident_id": "PINC0DB", "note": "Retry me"})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(Requests().size(), 2u);
  EXPECT_EQ(sim_->api().Items("notes").size(), notes + 1);
}

TEST_F(ExecutorTest, RateLimitBeyondTheRetryBudgetIsUnavailable) {
  ExecutorOptions options;
  options.max_retry_wait = absl::Seconds(30);
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.rate_limited = 100;
  faults.rate_limit_reset_seconds = 2;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("list_priorities", "{}", ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_EQ(outcome.upstream_status, 429);
  EXPECT_THAT(outcome.message, HasSubstr("rate limiting"));
  EXPECT_EQ(Requests().size(), static_cast<size_t>(1 + options_.max_retries));
}

// Operators alert on PagerDuty's 429 rate: every exchange, retries included, is counted by
// status class on the scrape.
TEST_F(ExecutorTest, UpstreamAnswersAreCountedByStatusClassOnTheScrape) {
  metrics::Registry registry;
  ExecutorOptions options;
  options.registry = &registry;
  options.max_retry_wait = absl::Seconds(30);
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.rate_limited = 2;
  faults.rate_limit_reset_seconds = 1;
  sim_->SetFaults(faults);
  ASSERT_EQ(Run("get_incident", R"({"incident_id": "PINC0DB"})", ApiKey()).kind, Kind::kOk);
  EXPECT_EQ(Run("get_incident", R"({"incident_id": "PNOSUCH"})", ApiKey()).kind,
            Kind::kUpstreamError);
  Credential eu = ApiKey();
  eu.region = "eu";  // A closed port: nothing comes back.
  EXPECT_EQ(Run("list_priorities", "{}", eu).kind, Kind::kUnavailable);

  const std::string scrape = metrics::SerializeText(registry);
  EXPECT_THAT(scrape, HasSubstr("bastion_edge_upstream_responses_total{class=\"429\"} 2\n"));
  EXPECT_THAT(scrape, HasSubstr("bastion_edge_upstream_responses_total{class=\"2xx\"} 1\n"));
  EXPECT_THAT(scrape, HasSubstr("bastion_edge_upstream_responses_total{class=\"4xx\"} 1\n"));
  EXPECT_THAT(scrape, HasSubstr(absl::StrCat("bastion_edge_upstream_responses_total{class=\"transport_error\"} ",
                                             1 + options_.max_retries, "\n")));
}

TEST_F(ExecutorTest, RateLimitWaitPastTheTotalBudgetGivesUpWithoutSleeping) {
  ExecutorOptions options;
  options.total_budget = absl::Seconds(30);
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.rate_limited = 1;
  faults.rate_limit_reset_seconds = 60;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("list_priorities", "{}", ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_THAT(outcome.message, HasSubstr("resets in 60 s"));
  EXPECT_TRUE(sleeper_.waits().empty());
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(ExecutorTest, ServerErrorOnGetIsRetriedWithBackoff) {
  pagerduty_sim::Faults faults;
  faults.server_errors = 2;
  faults.server_error_status = 503;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("get_service", R"({"service_id": "PSAPI01"})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(outcome.result.at("name").as_string(), "Checkout API");
  EXPECT_EQ(Requests().size(), 3u);
  const std::vector<absl::Duration> waits = sleeper_.waits();
  ASSERT_EQ(waits.size(), 2u);
  // Exponential with jitter: the n-th wait lies in [base*2^n / 2, base*2^n].
  EXPECT_GE(waits[0], options_.initial_backoff / 2);
  EXPECT_LE(waits[0], options_.initial_backoff);
  EXPECT_GE(waits[1], options_.initial_backoff);
  EXPECT_LE(waits[1], options_.initial_backoff * 2);
}

TEST_F(ExecutorTest, ServerErrorOnPostIsNotRetried) {
  pagerduty_sim::Faults faults;
  faults.server_errors = 1;
  sim_->SetFaults(faults);
  const size_t incidents = sim_->api().Items("incidents").size();
  const Outcome outcome = Run("create_incident", R"({"incident": {
      "title": "Disk full", "service": {"id": "PSDB002", "type": "service_reference"}}})",
                              ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_EQ(outcome.upstream_status, 500);
  EXPECT_THAT(outcome.message, HasSubstr("not retried"));
  EXPECT_EQ(Requests().size(), 1u);
  EXPECT_TRUE(sleeper_.waits().empty());
  EXPECT_EQ(sim_->api().Items("incidents").size(), incidents);
}

TEST_F(ExecutorTest, TimedOutGetIsRetriedAndTimedOutPostIsNot) {
  ExecutorOptions options;
  options.request_timeout = absl::Milliseconds(150);
  options.max_retries = 1;
  Reconfigure(options);
  pagerduty_sim::Faults faults;
  faults.latency = absl::Milliseconds(600);
  sim_->SetFaults(faults);

  const Outcome get = Run("list_priorities", "{}", ApiKey());
  EXPECT_EQ(get.kind, Kind::kUnavailable) << Describe(get);
  EXPECT_EQ(get.requests_sent, 2);

  const Outcome post =
      Run("add_note_to_incident", R"({"incident_id": "PINC0DB", "note": "slow"})", ApiKey());
  EXPECT_EQ(post.kind, Kind::kUnavailable) << Describe(post);
  EXPECT_EQ(post.requests_sent, 1);
  EXPECT_THAT(post.message, HasSubstr("may have been made"));
}

// The first request of the test goes out on a new connection, so the retry seen here is the
// executor's own (with its backoff), not libcurl's resend on a kept-alive connection.
TEST_F(ExecutorTest, GetWhoseConnectionDropsIsRetried) {
  pagerduty_sim::Faults faults;
  faults.drop_connections = 1;
  sim_->SetFaults(faults);
  const Outcome outcome = Run("get_incident", R"({"incident_id": "PINC0DB"})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  EXPECT_EQ(outcome.result.at("id").as_string(), seed::kTriggeredIncidentId);
  EXPECT_EQ(outcome.requests_sent, 2);
  EXPECT_EQ(sleeper_.waits().size(), 1u);
  const std::vector<pagerduty_sim::RecordedRequest> requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].dropped);
  EXPECT_EQ(requests[1].status, 200);
}

// PagerDuty may have created the incident before the connection dropped: sending the POST again
// could create it twice, so the call ends unavailable and says to check first. The earlier
// call leaves a kept-alive connection, the case where libcurl itself would resend.
TEST_F(ExecutorTest, PostWhoseConnectionDropsIsNotSentAgain) {
  ASSERT_EQ(Run("list_priorities", "{}", ApiKey()).kind, Kind::kOk);
  sim_->ClearRequests();
  pagerduty_sim::Faults faults;
  faults.drop_connections = 1;
  sim_->SetFaults(faults);
  const size_t incidents = sim_->api().Items("incidents").size();
  const Outcome outcome = Run("create_incident", R"({"incident": {
      "title": "Disk full", "service": {"id": "PSDB002", "type": "service_reference"}}})",
                              ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_EQ(outcome.upstream_status, 0);
  EXPECT_EQ(outcome.requests_sent, 1);
  EXPECT_THAT(outcome.message, HasSubstr("may have been made"));
  EXPECT_TRUE(sleeper_.waits().empty());
  EXPECT_EQ(Requests().size(), 1u);
  // The simulator served the one POST it got; there is no second incident.
  EXPECT_EQ(sim_->api().Items("incidents").size(), incidents + 1);
}

TEST_F(ExecutorTest, UnreachablePagerDutyIsUnavailable) {
  Credential eu = ApiKey();
  eu.region = "eu";  // Points at a closed port in this test.
  const Outcome outcome = Run("list_priorities", "{}", eu);
  EXPECT_EQ(outcome.kind, Kind::kUnavailable) << Describe(outcome);
  EXPECT_EQ(outcome.upstream_status, 0);
  EXPECT_THAT(outcome.message, HasSubstr("could not be reached"));
  // Retried while the short waits fit the budget, then answered with advice.
  EXPECT_GE(outcome.requests_sent, 2);
  EXPECT_LE(outcome.requests_sent, 1 + options_.max_retries);
}

TEST_F(ExecutorTest, RegionSelectsTheBaseUrl) {
  ExecutorOptions options;
  options.us_base_url = "http://127.0.0.1:1";
  options.eu_base_url = sim_->base_url();
  executor_ = std::make_unique<Executor>(http_, options, clock_, sleeper_);
  Credential eu = ApiKey();
  eu.region = "eu";
  EXPECT_EQ(Run("list_priorities", "{}", eu).kind, Kind::kOk);
  Credential unknown = ApiKey();
  unknown.region = "ap";
  const Outcome outcome = Run("list_priorities", "{}", unknown);
  EXPECT_NE(outcome.kind, Kind::kOk);
  EXPECT_THAT(outcome.message, HasSubstr("region"));
  EXPECT_EQ(Requests().size(), 1u);
}

// --- Outcomes.

TEST_F(ExecutorTest, RejectedCredentialIsItsOwnOutcomeAndNeverEchoed) {
  const Outcome outcome = Run("list_incidents", "{}", ApiKey("not-a-key-but-long-enough"));
  EXPECT_EQ(outcome.kind, Kind::kCredentialRejected);
  EXPECT_EQ(outcome.upstream_status, 401);
  EXPECT_EQ(outcome.message, "PagerDuty rejected the credential: it is invalid or expired");
  EXPECT_THAT(outcome.message, Not(HasSubstr("not-a-key")));
  EXPECT_EQ(Requests().size(), 1u);  // 401 is not retried.
}

TEST_F(ExecutorTest, ExpiredUserTokenIsRejectedCredential) {
  const Credential user = OAuth(seed::kAdminUserId, kAliceEmail);
  ASSERT_EQ(Run("list_priorities", "{}", user).kind, Kind::kOk);
  sim_->AdvanceClock(absl::Hours(2));
  EXPECT_EQ(Run("list_priorities", "{}", user).kind, Kind::kCredentialRejected);
}

TEST_F(ExecutorTest, ReadOnlyKeyWritingIsPermissionMissingNamingTheScope) {
  const Outcome outcome = Run("create_incident", R"({"incident": {
      "title": "Disk full", "service": {"id": "PSDB002", "type": "service_reference"}}})",
                              ApiKey(kReadOnlyKey));
  EXPECT_EQ(outcome.kind, Kind::kPermissionMissing) << Describe(outcome);
  EXPECT_EQ(outcome.upstream_status, 403);
  EXPECT_THAT(outcome.message, HasSubstr("incidents.write"));
}

TEST_F(ExecutorTest, TokenWithoutTheScopeIsPermissionMissingNamingIt) {
  const Credential reader = OAuth(seed::kAdminUserId, kAliceEmail, "services.read");
  const Outcome outcome = Run("list_escalation_policies", "{}", reader);
  EXPECT_EQ(outcome.kind, Kind::kPermissionMissing) << Describe(outcome);
  EXPECT_THAT(outcome.message, HasSubstr("escalation_policies.read"));
  EXPECT_EQ(Run("list_services", "{}", reader).kind, Kind::kOk);
}

TEST_F(ExecutorTest, PagerDutyRefusalCarriesItsMessageAndCode) {
  const Outcome outcome = Run("get_incident", R"({"incident_id": "PNOSUCH"})", ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUpstreamError);
  EXPECT_EQ(outcome.upstream_status, 404);
  EXPECT_THAT(outcome.message, AllOf(HasSubstr("Not Found"), HasSubstr("code 2100"),
                                     HasSubstr("/incidents/PNOSUCH")));
  EXPECT_EQ(outcome.result.at("error").at("code").to_number<int>(), 2100);

  const Outcome invalid = Run("create_incident", R"({"incident": {
      "title": "Disk full", "service": {"id": "PNOSUCH", "type": "service_reference"}}})",
                              ApiKey());
  EXPECT_EQ(invalid.kind, Kind::kUpstreamError);
  EXPECT_EQ(invalid.upstream_status, 400);
  EXPECT_THAT(invalid.message, AllOf(HasSubstr("Invalid Input Provided"), HasSubstr("code 2001"),
                                     HasSubstr("Service not found")));
}

// --- Composite tools.

TEST_F(ExecutorTest, ManageIncidentsAppliesEachFieldAsItsOwnUpdate) {
  const Outcome outcome = Run("manage_incidents", R"({"manage_request": {
      "incident_ids": ["PINC0DB", "PINC3TL"], "status": "acknowledged", "urgency": "low",
      "assignment": {"id": "PC4R0L9"}}})",
                              ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request.method, "PUT");
    EXPECT_EQ(request.path, "/incidents");
    EXPECT_EQ(request.Header("From"), kAliceEmail);
  }
  for (const char* id : {seed::kTriggeredIncidentId, seed::kLowUrgencyIncidentId}) {
    const auto incident = *sim_->api().Find("incidents", id);
    EXPECT_EQ(incident.at("status").as_string(), "acknowledged") << id;
    EXPECT_EQ(incident.at("urgency").as_string(), "low") << id;
    EXPECT_EQ(incident.at("assignments").as_array().back().at("assignee").at("id").as_string(),
              seed::kPaymentsUserId);
  }
  EXPECT_EQ(outcome.result.at("incidents").as_array().size(), 2u);
  EXPECT_EQ(json::serialize(outcome.result.at("applied")), R"(["status","urgency","assignments"])");
}

TEST_F(ExecutorTest, ManageIncidentsReportsWhichChangesWereRefused) {
  // Resolved incidents cannot be acknowledged; the urgency change still applies.
  const Outcome outcome = Run("manage_incidents", R"({"manage_request": {
      "incident_ids": ["PINC2WB"], "status": "acknowledged", "urgency": "low"}})",
                              ApiKey());
  EXPECT_EQ(outcome.kind, Kind::kUpstreamError) << Describe(outcome);
  EXPECT_THAT(outcome.message,
              AllOf(HasSubstr("Applied: urgency"), HasSubstr("Not applied: status"),
                    HasSubstr("Already Resolved")));
  EXPECT_EQ(Requests().size(), 2u);
}

TEST_F(ExecutorTest, AppendRouterRuleKeepsTheExistingRules) {
  const Outcome outcome = Run("append_event_orchestration_router_rule", R"({
      "orchestration_id": "6c1a7f52-3d1c-4f2a-9a61-0c5a2b0e7d11",
      "new_rule": {"label": "Web events", "conditions": [{"expression": "event.source matches 'web'"}],
                   "actions": {"route_to": "PSWEB03"}}})",
                              ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "PUT");
  const json::array& rules = outcome.result.at("sets").as_array()[0].at("rules").as_array();
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].at("label").as_string(), "Database events");
  EXPECT_EQ(rules[2].at("label").as_string(), "Web events");
}

TEST_F(ExecutorTest, ListOncallsResolvesServicesToEscalationPolicies) {
  const Outcome outcome =
      Run("list_oncalls", R"({"service_ids": ["PSAPI01", "PSDB002", "PSWEB03"]})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].path, "/services/PSAPI01");
  EXPECT_EQ(requests[1].path, "/services/PSDB002");
  EXPECT_EQ(requests[2].path, "/services/PSWEB03");
  EXPECT_EQ(requests[3].path, "/oncalls");
  // Two distinct policies (two services share one), each sent once.
  EXPECT_THAT(requests[3].query, HasSubstr("escalation_policy_ids%5B%5D=PEPPAY2"));
  EXPECT_THAT(requests[3].query, HasSubstr("escalation_policy_ids%5B%5D=PEPPLA1"));
  for (const json::value& oncall : outcome.result.at("oncalls").as_array()) {
    const auto policy = oncall.at("escalation_policy").at("id").as_string();
    EXPECT_TRUE(policy == seed::kPaymentsPolicyId || policy == seed::kPlatformPolicyId) << policy;
  }
  EXPECT_GT(outcome.result.at("total_returned").to_number<int>(), 0);
}

TEST_F(ExecutorTest, GetScheduleFallsBackToV3OnlyWhenPagerDutyPointsThere) {
  const Outcome shift = Run("get_schedule", R"({"schedule_id": "PS3FOLL"})", ApiKey());
  ASSERT_EQ(shift.kind, Kind::kOk) << Describe(shift);
  EXPECT_EQ(shift.result.at("name").as_string(), "Follow the sun");
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/schedules/PS3FOLL");
  EXPECT_EQ(requests[0].status, 400);
  EXPECT_EQ(requests[1].path, "/v3/schedules/PS3FOLL");

  sim_->ClearRequests();
  const Outcome missing = Run("get_schedule", R"({"schedule_id": "PNOSUCH"})", ApiKey());
  EXPECT_EQ(missing.kind, Kind::kUpstreamError);
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(ExecutorTest, UpdateScheduleFillsNameAndTimeZoneFromTheCurrentSchedule) {
  const Outcome outcome = Run("update_schedule", R"({"schedule_id": "PS3WKND",
      "schedule_data": {"description": "Weekend shifts, both days"}})",
                              ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "PUT");
  const json::value body = json::parse(requests[1].body);
  EXPECT_EQ(body.at("schedule").at("name").as_string(), "Weekend coverage");
  EXPECT_EQ(body.at("schedule").at("time_zone").as_string(), "Europe/Berlin");
  EXPECT_EQ(outcome.result.at("description").as_string(), "Weekend shifts, both days");
}

TEST_F(ExecutorTest, ListSchedulesMergesBothKindsMarked) {
  const Outcome outcome = Run("list_schedules", R"({"query_model": {}})", ApiKey());
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  std::map<std::string, std::string> kinds;
  for (const json::value& schedule : outcome.result.at("schedules").as_array()) {
    kinds[std::string(schedule.at("id").as_string())] =
        std::string(schedule.at("kind").as_string());
    EXPECT_FALSE(schedule.at("name").as_string().empty());
  }
  EXPECT_EQ(kinds[seed::kPlatformScheduleId], "layer_based");
  EXPECT_EQ(kinds[seed::kFollowTheSunScheduleId], "shift_based");
  EXPECT_EQ(outcome.result.at("total_returned").to_number<size_t>(), kinds.size());
}

TEST_F(ExecutorTest, MyTeamsKeepsOnlyTheCallersTeams) {
  const Outcome outcome =
      Run("list_teams", R"({"scope": "my"})", OAuth(seed::kPaymentsUserId, "carol@acme.example"));
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const json::array& teams = outcome.result.at("teams").as_array();
  ASSERT_EQ(teams.size(), 1u);
  EXPECT_EQ(teams[0].at("id").as_string(), seed::kPaymentsTeamId);
  EXPECT_EQ(Requests()[0].path, "/users/me");
}

TEST_F(ExecutorTest, AssignedIncidentsAreTheCallersOnly) {
  const Outcome outcome = Run("list_incidents", R"({"request_scope": "assigned"})",
                              OAuth(seed::kResponderUserId, "bob@acme.example"));
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const json::array& incidents = outcome.result.at("incidents").as_array();
  ASSERT_FALSE(incidents.empty());
  for (const json::value& incident : incidents) {
    bool mine = false;
    for (const json::value& a : incident.at("assignments").as_array()) {
      mine = mine || a.at("assignee").at("id").as_string() == seed::kResponderUserId;
    }
    EXPECT_TRUE(mine) << json::serialize(incident);
  }
}

TEST_F(ExecutorTest, AddRespondersSendsTheCallerAsRequester) {
  const Outcome outcome = Run("add_responders", R"({"incident_id": "PINC0DB", "request": {
      "message": "Need payments help",
      "responder_request_targets": [
        {"responder_request_target": {"id": "PEPPAY2", "type": "escalation_policy_reference"}}]}})",
                              OAuth(seed::kResponderUserId, "bob@acme.example"));
  ASSERT_EQ(outcome.kind, Kind::kOk) << Describe(outcome);
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/users/me");
  EXPECT_EQ(json::parse(requests[1].body).at("requester_id").as_string(), seed::kResponderUserId);
}

}  // namespace
}  // namespace bastion::pagerduty
