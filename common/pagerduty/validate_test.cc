#include "common/pagerduty/validate.h"

#include <string>
#include <thread>
#include <vector>

#include "common/pagerduty/examples.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Status Check(std::string_view tool, std::string_view arguments) {
  const ToolDef* def = FindTool(tool);
  EXPECT_NE(def, nullptr) << tool;
  if (def == nullptr) return absl::NotFoundError(std::string(tool));
  return ValidateArguments(*def, json::parse(arguments));
}

// The error message, or "" when the arguments are valid.
std::string Error(std::string_view tool, std::string_view arguments) {
  return std::string(Check(tool, arguments).message());
}

TEST(ValidateTest, EveryExampleIsValid) {
  for (const ToolExample& example : Examples()) {
    EXPECT_TRUE(Check(example.tool, json::serialize(example.arguments)).ok())
        << example.tool << " (" << example.what
        << "): " << Check(example.tool, json::serialize(example.arguments));
  }
}

TEST(ValidateTest, AbsentArgumentsAreAnEmptyObject) {
  EXPECT_TRUE(ValidateArguments(*FindTool("get_user_data"), json::value()).ok());
  EXPECT_TRUE(ValidateArguments(*FindTool("list_incidents"), json::value()).ok());
  const absl::Status missing = ValidateArguments(*FindTool("get_incident"), json::value());
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(missing.message()), "arguments.incident_id: missing required argument");
}

TEST(ValidateTest, ArgumentsMustBeAnObject) {
  const absl::Status status = Check("list_incidents", R"(["limit", 5])");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()), R"(arguments: expected an object, got ["limit",5])");
}

TEST(ValidateTest, UnknownArgumentIsRejectedWithTheAllowedNames) {
  const absl::Status status = Check("list_teams", R"({"scope": "all", "team_name": "x"})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "arguments.team_name: unknown argument; expected one of: scope, query, limit");
  EXPECT_THAT(Error("get_user_data", R"({"verbose": true})"),
              HasSubstr("arguments.verbose: unknown argument; this takes no fields"));
}

// One bad argument per tool family, each named precisely enough for a model to fix it.
TEST(ValidateTest, IncidentsLimitAboveMaximum) {
  EXPECT_EQ(Error("list_incidents", R"({"limit": 5000})"),
            "arguments.limit: expected integer between 1 and 1000, got 5000");
}

TEST(ValidateTest, IncidentsStatusOutsideEnumNamesTheItem) {
  EXPECT_EQ(
      Error("list_incidents", R"({"statuses": ["triggered", "open"]})"),
      R"(arguments.statuses[1]: expected one of "triggered", "acknowledged", "resolved", got "open")");
}

TEST(ValidateTest, IncidentsNestedRequiredField) {
  EXPECT_EQ(Error("create_incident", R"({"incident": {"title": "Disk full"}})"),
            "arguments.incident.service: missing required field");
}

TEST(ValidateTest, IncidentsDateTimeFormat) {
  EXPECT_EQ(
      Error("list_incidents", R"({"since": "yesterday"})"),
      R"(arguments.since: expected an ISO 8601 date-time with offset, e.g. 2025-01-31T09:00:00Z, got "yesterday")");
}

TEST(ValidateTest, IncidentsNumberAsStringIsATypeError) {
  EXPECT_EQ(Error("list_alerts_from_incident", R"({"incident_id": "Q1", "limit": "10"})"),
            R"(arguments.limit: expected integer between 1 and 1000, got "10")");
}

TEST(ValidateTest, IncidentsManageRequestNeedsIds) {
  EXPECT_EQ(Error("manage_incidents",
                  R"({"manage_request": {"incident_ids": [], "status": "resolved"}})"),
            "arguments.manage_request.incident_ids: expected array of 1 to 100 items (string "
            "items), got []");
}

// Defect 3 of issue 11: 80,000 statuses passed validation and built a 2 MB upstream URL.
TEST(ValidateTest, IncidentsHugeStatusListIsRefused) {
  boost::json::array statuses;
  for (int i = 0; i < 80000; ++i) statuses.emplace_back("triggered");
  const std::string arguments = boost::json::serialize(boost::json::object{{"statuses", statuses}});
  EXPECT_THAT(Error("list_incidents", arguments),
              StartsWith("arguments.statuses: expected array of at most 3 items (string items)"));
}

TEST(ValidateTest, OverlongStringIsRefused) {
  EXPECT_THAT(Error("add_note_to_incident",
                    boost::json::serialize(boost::json::object{
                        {"incident_id", "Q1"}, {"note", std::string(25001, 'x')}})),
              StartsWith("arguments.note: expected string of 1 to 25000 characters"));
}

TEST(ValidateTest, ServicesUnknownNestedField) {
  EXPECT_EQ(
      Error("create_service",
            R"({"service_data": {"service": {"name": "API", "escalation_policy": {"id": "P1"},
                      "owner": "me"}}})"),
      "arguments.service_data.service.owner: unknown field; expected one of: type, name, "
      "description, escalation_policy, status, auto_resolve_timeout, acknowledgement_timeout");
}

TEST(ValidateTest, ServicesIdWithSlashIsRejected) {
  EXPECT_THAT(Error("get_service", R"({"service_id": "../users"})"),
              StartsWith("arguments.service_id: expected string of 1 to 64 characters matching"));
}

TEST(ValidateTest, UsersEmailMustLookLikeOne) {
  EXPECT_THAT(
      Error("create_user", R"({"request": {"name": "Ann", "email": "ann at example"}})"),
      StartsWith("arguments.request.email: expected string of 6 to 100 characters matching"));
}

TEST(ValidateTest, TeamsRoleOutsideEnum) {
  EXPECT_EQ(
      Error("add_team_member",
            R"({"team_id": "PT1", "member_data": {"user_id": "PU1", "role": "owner"}})"),
      R"(arguments.member_data.role: expected one of "observer", "responder", "manager", got "owner")");
}

TEST(ValidateTest, SchedulesEmptyUpdateIsRejected) {
  EXPECT_EQ(Error("update_schedule", R"({"schedule_id": "PS1", "schedule_data": {}})"),
            "arguments.schedule_data: expected object with at least one field, got {}");
}

TEST(ValidateTest, SchedulesShiftNeedsExactlyOneAssignment) {
  EXPECT_EQ(Error("create_schedule_v3_custom_shifts", R"({"schedule_id": "PS1", "custom_shifts": [
                    {"start_time": "2025-03-15T09:00:00Z", "end_time": "2025-03-15T17:00:00Z",
                     "assignments": []}]})"),
            "arguments.custom_shifts[0].assignments: expected array of exactly 1 item (object "
            "items), got []");
}

TEST(ValidateTest, EscalationPoliciesTargetNeedsAType) {
  EXPECT_EQ(
      Error("create_escalation_policy", R"({"escalation_policy_data": {"escalation_policy": {
                    "name": "EP", "escalation_rules": [{"escalation_delay_in_minutes": 10,
                    "targets": [{"id": "PU1"}]}]}}})"),
      "arguments.escalation_policy_data.escalation_policy.escalation_rules[0].targets[0].type: "
      "missing required field");
}

TEST(ValidateTest, EventOrchestrationsSortOutsideEnum) {
  EXPECT_THAT(Error("list_event_orchestrations", R"({"sort_by": "name"})"),
              StartsWith(R"(arguments.sort_by: expected one of "name:asc", "name:desc")"));
}

TEST(ValidateTest, StatusPagesPostTypeOutsideEnum) {
  EXPECT_EQ(
      Error("list_status_page_impacts",
            R"({"status_page_id": "PSP", "query_model": {"post_type": "outage"}})"),
      R"(arguments.query_model.post_type: expected one of "incident", "maintenance", got "outage")");
}

TEST(ValidateTest, AnalyticsRequiredWindow) {
  EXPECT_EQ(Error("get_incident_metrics_all", R"({"created_at_start": "2025-01-01T00:00:00Z"})"),
            "arguments.created_at_end: missing required argument");
}

TEST(ValidateTest, WebhooksEventsMustBeEventTypes) {
  EXPECT_THAT(Error("create_webhook_subscription", R"({"webhook_data": {
                      "delivery_method": {"url": "https://example.com/hook"},
                      "events": ["incident triggered"], "filter": {"type": "account_reference"}}})"),
              StartsWith("arguments.webhook_data.events[0]: expected string of at most 100 "
                         "characters matching"));
}

TEST(ValidateTest, AlertGroupingBooleanTypeError) {
  EXPECT_EQ(Error("list_alert_grouping_settings", R"({"total": "yes"})"),
            R"(arguments.total: expected boolean (true or false), got "yes")");
}

TEST(ValidateTest, SeveralProblemsAreReportedTogether) {
  const absl::Status status =
      Check("list_incidents", R"({"limit": 0, "urgencies": ["urgent"], "foo": 1})");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("arguments.limit: expected integer between 1 and 1000"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("arguments.urgencies[0]: expected one of"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("arguments.foo: unknown argument"));
}

TEST(ValidateTest, HostileInputIsAnErrorNotACrash) {
  // Deep nesting, huge numbers, wrong types where formats and patterns apply.
  std::string deep = R"({"incident_id": "Q1", "query_model": )";
  for (int i = 0; i < 25; ++i) deep += R"({"include": )";
  deep += "1";
  for (int i = 0; i < 25; ++i) deep += "}";
  deep += "}";
  EXPECT_EQ(Check("get_incident", deep).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check("list_incidents", R"({"since": 17, "limit": 1e308})").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check("get_service", R"({"service_id": {"$ne": null}})").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check("list_users", R"({"limit": 18446744073709551615})").code(),
            absl::StatusCode::kInvalidArgument);
}

// Found by tool_arguments_fuzzer: valijson counted the characters of a string holding bytes
// 0xFE and 0x85 x6 (not UTF-8) by reading past the end of a table. Such text is refused first.
TEST(ValidateTest, TextThatIsNotUtf8IsRefusedBeforeValijsonReadsIt) {
  const ToolDef* def = FindTool("list_log_entries");
  ASSERT_NE(def, nullptr);
  json::object args{{"time_zone", "\xFE\x01_\\_zoneut}\x85\x85\x85\x85\x85\x85"}};
  absl::Status status = ValidateArguments(*def, args);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "arguments.time_zone: text must be valid UTF-8");

  json::object nested{{"team_ids", json::array{"PT1", "\xC4"}}};
  EXPECT_EQ(ValidateArguments(*FindTool("list_incidents"), nested).message(),
            "arguments.team_ids[1]: text must be valid UTF-8");
  EXPECT_EQ(ValidateArguments(*FindTool("list_incidents"), json::object{{"\xFF", 1}}).message(),
            "arguments: text must be valid UTF-8");
}

TEST(ValidateTest, ToolsOutsideTheCatalogAreCompiledOnDemand) {
  ToolDef custom;
  custom.name = "custom";
  custom.input_schema = json::parse(R"({"type": "object", "properties": {"n": {"type": "integer",
      "maximum": 3}}, "additionalProperties": false})")
                            .get_object();
  EXPECT_TRUE(ValidateArguments(custom, json::parse(R"({"n": 2})")).ok());
  EXPECT_EQ(std::string(ValidateArguments(custom, json::parse(R"({"n": 4})")).message()),
            "arguments.n: expected integer <= 3, got 4");
}

TEST(ValidateTest, ConcurrentValidationAgrees) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 50; ++i) {
        const ToolExample& example = Examples()[(t * 50 + i) % Examples().size()];
        if (!ValidateArguments(*FindTool(example.tool), example.arguments).ok()) ++failures[t];
        if (ValidateArguments(*FindTool("list_incidents"), json::parse(R"({"limit": 0})")).ok()) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace bastion::pagerduty
