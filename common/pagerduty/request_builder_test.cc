#include "common/pagerduty/request_builder.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/pagerduty/examples.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Query = std::vector<std::pair<std::string, std::string>>;

const ToolDef& Tool(std::string_view name) {
  const ToolDef* tool = FindTool(name);
  EXPECT_NE(tool, nullptr) << name;
  return *tool;
}

std::vector<UpstreamRequest> Build(std::string_view tool, std::string_view arguments,
                                   const CallContext& context = ExampleContext()) {
  absl::StatusOr<std::vector<UpstreamRequest>> requests =
      BuildRequests(Tool(tool), json::parse(arguments).get_object(), context);
  EXPECT_TRUE(requests.ok()) << tool << ": " << requests.status();
  return requests.ok() ? *std::move(requests) : std::vector<UpstreamRequest>{};
}

absl::Status BuildError(std::string_view tool, std::string_view arguments,
                        const CallContext& context = ExampleContext()) {
  return BuildRequests(Tool(tool), json::parse(arguments).get_object(), context).status();
}

CallContext AccountKey() {
  CallContext context = ExampleContext();
  context.user.reset();
  return context;
}

TEST(RequestBuilderTest, EveryExampleBuildsCompleteRequests) {
  for (const ToolExample& example : Examples()) {
    SCOPED_TRACE(std::string(example.tool) + " (" + std::string(example.what) + ")");
    absl::StatusOr<std::vector<UpstreamRequest>> requests =
        BuildRequests(Tool(example.tool), example.arguments, ExampleContext());
    ASSERT_TRUE(requests.ok()) << requests.status();
    ASSERT_FALSE(requests->empty());
    for (const UpstreamRequest& request : *requests) {
      EXPECT_EQ(request.path.find('{'), std::string::npos) << request.path;
      const bool has_body =
          request.method == HttpMethod::kPost || request.method == HttpMethod::kPut;
      EXPECT_EQ(request.body.has_value(), has_body);
      EXPECT_LT(request.call_index, Tool(example.tool).calls.size());
    }
  }
}

TEST(RequestBuilderTest, ListIncidentsMapsFiltersAndCapsThePageSize) {
  std::vector<UpstreamRequest> requests = Build("list_incidents", R"({
      "statuses": ["triggered", "acknowledged"], "urgencies": ["high"],
      "since": "2025-03-01T00:00:00Z", "priorities": ["P53ZZH5"], "limit": 250})");
  ASSERT_EQ(requests.size(), 1u);
  const UpstreamRequest& request = requests[0];
  EXPECT_EQ(request.method, HttpMethod::kGet);
  EXPECT_EQ(request.path, "/incidents");
  EXPECT_EQ(request.query, (Query{{"statuses[]", "triggered"},
                                  {"statuses[]", "acknowledged"},
                                  {"since", "2025-03-01T00:00:00Z"},
                                  {"urgencies[]", "high"},
                                  {"priority_ids[]", "P53ZZH5"},
                                  {"limit", "100"}}));
  EXPECT_EQ(request.max_records, 250);
  EXPECT_EQ(request.pagination, Pagination::kOffset);
  EXPECT_EQ(request.response_key, "incidents");
  EXPECT_FALSE(request.needs_from);
  EXPECT_EQ(RequestTarget(request),
            "/incidents?statuses%5B%5D=triggered&statuses%5B%5D=acknowledged"
            "&since=2025-03-01T00%3A00%3A00Z&urgencies%5B%5D=high&priority_ids%5B%5D=P53ZZH5"
            "&limit=100");
}

TEST(RequestBuilderTest, ListIncidentsWithoutLimitCollectsUpToTheDefault) {
  std::vector<UpstreamRequest> requests = Build("list_incidents", "{}");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].query.empty());
  EXPECT_EQ(requests[0].max_records, 1000);
}

TEST(RequestBuilderTest, ListIncidentsScopedToTheCaller) {
  std::vector<UpstreamRequest> mine = Build("list_incidents", R"({"request_scope": "assigned"})");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_THAT(mine[0].query, ElementsAre(Pair("user_ids[]", "PXPGF42")));

  std::vector<UpstreamRequest> teams = Build("list_incidents", R"({"request_scope": "teams"})");
  ASSERT_EQ(teams.size(), 1u);
  EXPECT_THAT(teams[0].query,
              ElementsAre(Pair("team_ids[]", "PQ9K7I8"), Pair("team_ids[]", "PL1JMK5")));
}

TEST(RequestBuilderTest, ListIncidentsScopedToTheCallerNeedsAUser) {
  const absl::Status status =
      BuildError("list_incidents", R"({"request_scope": "assigned"})", AccountKey());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("user-level"));

  CallContext teamless = ExampleContext();
  teamless.user->team_ids.clear();
  EXPECT_EQ(BuildError("list_incidents", R"({"request_scope": "teams"})", teamless).code(),
            absl::StatusCode::kFailedPrecondition)
      << "an empty team filter would return every incident";
}

TEST(RequestBuilderTest, CreateIncidentFillsReferenceTypesAndNeedsFrom) {
  std::vector<UpstreamRequest> requests = Build("create_incident", R"({"incident": {
      "title": "Disk full", "service": {"id": "PWIXJZS"}, "urgency": "low",
      "body": {"details": "87% on /var"}, "priority": {"id": "P53ZZH5"},
      "assignments": [{"assignee": {"id": "PXPGF42"}}]}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, HttpMethod::kPost);
  EXPECT_EQ(requests[0].path, "/incidents");
  EXPECT_TRUE(requests[0].needs_from);
  EXPECT_EQ(*requests[0].body, json::parse(R"({"incident": {
      "title": "Disk full", "service": {"id": "PWIXJZS", "type": "service_reference"},
      "urgency": "low", "body": {"details": "87% on /var", "type": "incident_body"},
      "priority": {"id": "P53ZZH5", "type": "priority_reference"},
      "assignments": [{"assignee": {"id": "PXPGF42", "type": "user_reference"}}],
      "type": "incident"}})"));
}

TEST(RequestBuilderTest, ManageIncidentsSendsOnePutPerChange) {
  std::vector<UpstreamRequest> requests = Build("manage_incidents", R"({"manage_request": {
      "incident_ids": ["Q1", "Q2"], "status": "resolved", "urgency": "low",
      "assignment": {"id": "PU1"}, "escalation_level": 2}})");
  ASSERT_EQ(requests.size(), 4u);
  const char* expected[] = {
      R"({"incidents": [{"id": "Q1", "type": "incident_reference", "status": "resolved"},
                        {"id": "Q2", "type": "incident_reference", "status": "resolved"}]})",
      R"({"incidents": [{"id": "Q1", "type": "incident_reference", "urgency": "low"},
                        {"id": "Q2", "type": "incident_reference", "urgency": "low"}]})",
      R"({"incidents": [
          {"id": "Q1", "type": "incident_reference",
           "assignments": [{"assignee": {"id": "PU1", "type": "user_reference"}}]},
          {"id": "Q2", "type": "incident_reference",
           "assignments": [{"assignee": {"id": "PU1", "type": "user_reference"}}]}]})",
      R"({"incidents": [{"id": "Q1", "type": "incident_reference", "escalation_level": 2},
                        {"id": "Q2", "type": "incident_reference", "escalation_level": 2}]})",
  };
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].method, HttpMethod::kPut);
    EXPECT_EQ(requests[i].path, "/incidents");
    EXPECT_TRUE(requests[i].needs_from);
    EXPECT_EQ(*requests[i].body, json::parse(expected[i])) << i;
  }
}

TEST(RequestBuilderTest, ManageIncidentsWithNothingToChangeIsRejected) {
  const absl::Status status =
      BuildError("manage_incidents", R"({"manage_request": {"incident_ids": ["Q1"]}})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("arguments.manage_request"));
}

TEST(RequestBuilderTest, NoteTextBecomesTheNoteContent) {
  std::vector<UpstreamRequest> requests =
      Build("add_note_to_incident", R"({"incident_id": "Q2HK", "note": "Rolled back"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/incidents/Q2HK/notes");
  EXPECT_EQ(*requests[0].body, json::parse(R"({"note": {"content": "Rolled back"}})"));
  EXPECT_TRUE(requests[0].needs_from);
}

TEST(RequestBuilderTest, AddRespondersActsAsTheCaller) {
  std::vector<UpstreamRequest> requests = Build("add_responders", R"({"incident_id": "Q1",
      "request": {"message": "Help", "responder_request_targets": [
        {"responder_request_target": {"id": "PU2", "type": "user_reference"}}]}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/incidents/Q1/responder_requests");
  EXPECT_EQ(requests[0].body->at("requester_id"), "PXPGF42");
  EXPECT_EQ(requests[0].body->at("message"), "Help");

  EXPECT_EQ(BuildError("add_responders", json::serialize(FindExample("add_responders")->arguments),
                       AccountKey())
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RequestBuilderTest, TeamMemberIdGoesToThePathAndRoleDefaultsToManager) {
  std::vector<UpstreamRequest> requests =
      Build("add_team_member", R"({"team_id": "PT1", "member_data": {"user_id": "PU1"}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, HttpMethod::kPut);
  EXPECT_EQ(requests[0].path, "/teams/PT1/users/PU1");
  EXPECT_EQ(*requests[0].body, json::parse(R"({"role": "manager"})"));
}

TEST(RequestBuilderTest, PathParametersAreEscapedAndDotSegmentsRefused) {
  std::vector<UpstreamRequest> requests = Build("get_service", R"({"service_id": "a b/c?d%"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/services/a%20b%2Fc%3Fd%25");
  EXPECT_EQ(requests[0].path_template, "/services/{id}");

  EXPECT_EQ(BuildError("get_service", R"({"service_id": ".."})").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildError("get_service", R"({"service_id": 7})").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RequestBuilderTest, ListDefaultsComeFromTheSchema) {
  std::vector<UpstreamRequest> alerts =
      Build("list_alerts_from_incident", R"({"incident_id": "Q1"})");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].query, (Query{{"limit", "100"}, {"offset", "0"}}));
  EXPECT_EQ(alerts[0].max_records, 100);

  std::vector<UpstreamRequest> oncalls = Build("list_oncalls", "{}");
  ASSERT_EQ(oncalls.size(), 1u);
  EXPECT_EQ(oncalls[0].path, "/oncalls");
  EXPECT_EQ(oncalls[0].query, (Query{{"earliest", "true"}}));
}

TEST(RequestBuilderTest, LogEntriesDefaultToTheLastSevenDays) {
  std::vector<UpstreamRequest> requests = Build("list_log_entries", "{}");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].query,
            (Query{{"since", "2025-03-06T09:00:00Z"}, {"until", "2025-03-13T09:00:00Z"}}));
  EXPECT_EQ(requests[0].max_records, 100);

  std::vector<UpstreamRequest> given = Build(
      "list_log_entries", R"({"query_model": {"since": "2025-01-01T00:00:00Z", "limit": 5}})");
  ASSERT_EQ(given.size(), 1u);
  EXPECT_EQ(given[0].query, (Query{{"since", "2025-01-01T00:00:00Z"},
                                   {"until", "2025-03-13T09:00:00Z"},
                                   {"limit", "5"}}));
}

TEST(RequestBuilderTest, OncallsByServiceLooksUpEachServiceFirst) {
  const ToolDef& tool = Tool("list_oncalls");
  const json::object args =
      json::parse(R"({"service_ids": ["PS1", "PS2"], "escalation_policy_ids": ["PEP1"]})")
          .get_object();
  absl::StatusOr<std::vector<UpstreamRequest>> lookups =
      BuildRequests(tool, args, ExampleContext());
  ASSERT_TRUE(lookups.ok()) << lookups.status();
  ASSERT_EQ(lookups->size(), 2u);
  EXPECT_EQ((*lookups)[0].path, "/services/PS1");
  EXPECT_EQ((*lookups)[1].path, "/services/PS2");
  EXPECT_EQ((*lookups)[0].role, StepRole::kLookup);
  EXPECT_EQ((*lookups)[0].call_index, 0u);

  absl::StatusOr<UpstreamRequest> oncalls = BuildOncallsRequest(tool, args, {"PEP2", "PEP1"});
  ASSERT_TRUE(oncalls.ok()) << oncalls.status();
  EXPECT_EQ(oncalls->path, "/oncalls");
  EXPECT_EQ(oncalls->role, StepRole::kResult);
  EXPECT_EQ(oncalls->query, (Query{{"escalation_policy_ids[]", "PEP1"},
                                   {"earliest", "true"},
                                   {"escalation_policy_ids[]", "PEP2"}}));
}

TEST(RequestBuilderTest, AppendRouterRuleRewritesTheRouterWithTheRuleLast) {
  const ToolDef& tool = Tool("append_event_orchestration_router_rule");
  const json::object args = json::parse(R"({"orchestration_id": "EO1", "new_rule": {
      "label": "DB", "conditions": [{"expression": "event.summary matches part 'db'"}],
      "actions": {"route_to": "PDB"}}})")
                                .get_object();
  absl::StatusOr<std::vector<UpstreamRequest>> lookup = BuildRequests(tool, args);
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  ASSERT_EQ(lookup->size(), 1u);
  EXPECT_EQ((*lookup)[0].method, HttpMethod::kGet);
  EXPECT_EQ((*lookup)[0].path, "/event_orchestrations/EO1/router");
  EXPECT_EQ((*lookup)[0].role, StepRole::kLookup);

  const json::value router = json::parse(R"({"orchestration_path": {
      "type": "router", "parent": {"id": "EO1", "type": "event_orchestration_reference"},
      "sets": [{"id": "start", "rules": [{"id": "r1", "label": "Web", "conditions": [],
                                          "actions": {"route_to": "PWEB"}}]}],
      "catch_all": {"actions": {"route_to": "unrouted"}},
      "version": "abc", "updated_at": "2025-01-01T00:00:00Z"}})");
  absl::StatusOr<UpstreamRequest> put = BuildAppendRouterRuleRequest(tool, args, router);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->method, HttpMethod::kPut);
  EXPECT_EQ(put->path, "/event_orchestrations/EO1/router");
  EXPECT_EQ(*put->body, json::parse(R"({"orchestration_path": {"type": "router",
      "sets": [{"id": "start", "rules": [
        {"id": "r1", "label": "Web", "conditions": [], "actions": {"route_to": "PWEB"}},
        {"label": "DB", "conditions": [{"expression": "event.summary matches part 'db'"}],
         "actions": {"route_to": "PDB"}}]}],
      "catch_all": {"actions": {"route_to": "unrouted"}}}})"));

  EXPECT_EQ(BuildAppendRouterRuleRequest(tool, args, json::parse(R"({"orchestration_path": {}})"))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(BuildAppendRouterRuleRequest(tool, args, json::parse("[]")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RequestBuilderTest, GetScheduleTriesLayerBasedThenFallsBack) {
  std::vector<UpstreamRequest> unknown = Build("get_schedule", R"({"schedule_id": "PS1"})");
  ASSERT_EQ(unknown.size(), 2u);
  EXPECT_EQ(unknown[0].path, "/schedules/PS1");
  EXPECT_EQ(unknown[0].role, StepRole::kResult);
  EXPECT_EQ(unknown[1].path, "/v3/schedules/PS1");
  EXPECT_EQ(unknown[1].role, StepRole::kFallback);

  std::vector<UpstreamRequest> layered =
      Build("get_schedule", R"({"schedule_id": "PS1", "kind": "layer_based"})");
  ASSERT_EQ(layered.size(), 1u);
  EXPECT_EQ(layered[0].path, "/schedules/PS1");
  std::vector<UpstreamRequest> shifted =
      Build("get_schedule", R"({"schedule_id": "PS1", "kind": "shift_based"})");
  ASSERT_EQ(shifted.size(), 1u);
  EXPECT_EQ(shifted[0].path, "/v3/schedules/PS1");
  EXPECT_EQ(shifted[0].role, StepRole::kResult);
}

TEST(RequestBuilderTest, OnlyTheV3PointerCountsAsARedirect) {
  EXPECT_TRUE(IsV3ScheduleRedirect(
      400,
      R"({"error": {"message": "This is a shift-based schedule. Use the v3 Schedules API to access it.", "code": 2001}})"));
  EXPECT_TRUE(IsV3ScheduleRedirect(400, "Use /v3/schedules for this schedule"));
  EXPECT_FALSE(IsV3ScheduleRedirect(400, R"({"error": {"message": "Invalid Input Provided"}})"));
  EXPECT_FALSE(IsV3ScheduleRedirect(404, R"({"error": {"message": "shift-based"}})"));
  EXPECT_FALSE(IsV3ScheduleRedirect(400, ""));
}

TEST(RequestBuilderTest, ListSchedulesAsksBothSystems) {
  std::vector<UpstreamRequest> requests = Build("list_schedules", R"({"query_model": {
      "query": "Platform", "team_ids": ["PT1"], "include": ["schedule_layers"], "limit": 150}})");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/schedules");
  EXPECT_EQ(requests[0].query, (Query{{"query", "Platform"},
                                      {"team_ids[]", "PT1"},
                                      {"include[]", "schedule_layers"},
                                      {"limit", "100"}}));
  EXPECT_EQ(requests[0].max_records, 150);
  EXPECT_EQ(requests[1].path, "/v3/schedules");
  EXPECT_EQ(requests[1].query, (Query{{"query", "Platform"}, {"limit", "150"}}));

  absl::StatusOr<UpstreamRequest> lookup = BuildScheduleV3Lookup(Tool("list_schedules"), "PSV3");
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->path, "/v3/schedules/PSV3");
  EXPECT_EQ(lookup->role, StepRole::kLookup);
}

TEST(RequestBuilderTest, PartialScheduleUpdateReadsNameAndTimeZoneFirst) {
  const ToolDef& tool = Tool("update_schedule");
  const json::object partial =
      json::parse(R"({"schedule_id": "PS1", "schedule_data": {"description": "EU hours"}})")
          .get_object();
  absl::StatusOr<std::vector<UpstreamRequest>> first = BuildRequests(tool, partial);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].method, HttpMethod::kGet);
  EXPECT_EQ((*first)[0].role, StepRole::kLookup);

  absl::StatusOr<UpstreamRequest> put = BuildUpdateScheduleRequest(
      tool, partial,
      json::parse(R"({"schedule": {"id": "PS1", "name": "Platform", "time_zone": "UTC"}})"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->method, HttpMethod::kPut);
  EXPECT_EQ(put->path, "/v3/schedules/PS1");
  EXPECT_EQ(*put->body, json::parse(R"({"schedule": {"description": "EU hours",
      "name": "Platform", "time_zone": "UTC"}})"));

  std::vector<UpstreamRequest> complete = Build(
      "update_schedule",
      R"({"schedule_id": "PS1", "schedule_data": {"name": "P", "time_zone": "Europe/Berlin"}})");
  ASSERT_EQ(complete.size(), 1u);
  EXPECT_EQ(complete[0].method, HttpMethod::kPut);
}

// Issue 11, defect 9: PagerDuty answers 400 to a change-event window with any other offset.
TEST(RequestBuilderTest, ChangeEventWindowIsSentInUtc) {
  const std::string window = R"("since": "2025-03-01T09:00:00+01:00",
                                  "until": "2025-03-01T18:30:15.75-05:00")";
  for (const auto& [tool, arguments] :
       {std::pair<std::string_view, std::string>{"list_change_events", "{" + window + "}"},
        {"list_service_change_events", R"({"service_id": "PS1", )" + window + "}"}}) {
    SCOPED_TRACE(tool);
    std::vector<UpstreamRequest> requests = Build(tool, arguments);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_THAT(requests[0].query, ::testing::Contains(Pair("since", "2025-03-01T08:00:00Z")));
    EXPECT_THAT(requests[0].query, ::testing::Contains(Pair("until", "2025-03-01T23:30:15Z")));
  }
}

TEST(RequestBuilderTest, MyTeamsListsAllTeamsAndKeepsTheCallers) {
  std::vector<UpstreamRequest> requests =
      Build("list_teams", R"({"scope": "my", "query": "ignored"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].query, (Query{{"limit", "100"}}));
  ASSERT_TRUE(requests[0].keep_ids.has_value());
  EXPECT_THAT(*requests[0].keep_ids, ElementsAre("PQ9K7I8", "PL1JMK5"));

  std::vector<UpstreamRequest> all = Build("list_teams", R"({"query": "Plat"})");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].keep_ids.has_value());
  EXPECT_EQ(BuildError("list_teams", R"({"scope": "my"})", AccountKey()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RequestBuilderTest, StatusPagePostReferencesItsPageAndFillsUpdateDefaults) {
  std::vector<UpstreamRequest> requests =
      Build("create_status_page_post",
            json::serialize(FindExample("create_status_page_post")->arguments));
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/status_pages/PT4KHLK/posts");
  const json::value& post = requests[0].body->at("post");
  EXPECT_EQ(post.at("status_page"), json::parse(R"({"id": "PT4KHLK", "type": "status_page"})"));
  EXPECT_EQ(post.at("type"), "status_page_post");
  const json::value& update = post.at("updates").at(0);
  EXPECT_EQ(update.at("type"), "status_page_post_update");
  EXPECT_EQ(update.at("notify_subscribers"), true) << "given values are kept";
  EXPECT_TRUE(update.at("update_frequency_ms").is_null());
  EXPECT_EQ(update.at("impacted_services").at(0).at("impact"),
            json::parse(R"({"id": "PIMP001", "type": "status_page_impact"})"));
}

TEST(RequestBuilderTest, AnalyticsArgumentsBecomeFilters) {
  std::vector<UpstreamRequest> requests = Build("get_incident_metrics_by_team", R"({
      "created_at_start": "2025-01-01T00:00:00Z", "created_at_end": "2025-02-01T00:00:00Z",
      "team_ids": ["PT1"], "urgency": "high", "time_zone": "UTC", "aggregate_unit": "week"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, HttpMethod::kPost);
  EXPECT_EQ(requests[0].path, "/analytics/metrics/incidents/teams");
  EXPECT_EQ(*requests[0].body, json::parse(R"({
      "filters": {"created_at_start": "2025-01-01T00:00:00Z",
                  "created_at_end": "2025-02-01T00:00:00Z", "team_ids": ["PT1"],
                  "urgency": "high"},
      "time_zone": "UTC", "aggregate_unit": "week"})"));
  EXPECT_EQ(requests[0].response_key, "data");
}

TEST(RequestBuilderTest, OverrideUpdateAssemblesMembersFromFlatArguments) {
  std::vector<UpstreamRequest> requests = Build("update_schedule_v3_override", R"({
      "schedule_id": "PS1", "override_id": "PO1", "start_time": "2025-03-15T09:00:00Z",
      "end_time": "2025-03-15T18:00:00Z", "overridden_member_type": "user_member",
      "overridden_member_user_id": "PU1", "overriding_member_type": "empty_member"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v3/schedules/PS1/overrides/PO1");
  EXPECT_EQ(*requests[0].body, json::parse(R"({"override": {
      "start_time": "2025-03-15T09:00:00Z", "end_time": "2025-03-15T18:00:00Z",
      "overridden_member": {"type": "user_member", "user_id": "PU1"},
      "overriding_member": {"type": "empty_member"}, "type": "override_shift"}})"));
}

TEST(RequestBuilderTest, DeletesHaveNoBodyAndEmptyPostsHaveAnEmptyOne) {
  std::vector<UpstreamRequest> deleted = Build("delete_team", R"({"team_id": "PT1"})");
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].method, HttpMethod::kDelete);
  EXPECT_FALSE(deleted[0].body.has_value());

  std::vector<UpstreamRequest> rotation =
      Build("create_schedule_v3_rotation", R"({"schedule_id": "PS1"})");
  ASSERT_EQ(rotation.size(), 1u);
  EXPECT_EQ(*rotation[0].body, json::object());
}

TEST(RequestBuilderTest, FollowUpBuildersRefuseOtherTools) {
  const json::object args;
  EXPECT_EQ(BuildOncallsRequest(Tool("list_users"), args, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildAppendRouterRuleRequest(Tool("get_service"), args, json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildScheduleV3Lookup(Tool("get_schedule"), "PS1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      BuildUpdateScheduleRequest(Tool("create_schedule"), args, json::object()).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(RequestBuilderTest, ArgumentsOfTheWrongShapeAreErrorsNotCrashes) {
  const char* garbage[] = {"null", "0", "-1", "1e300", "true", "\"..\"", "\"\"", "[]",
                           "[{}]", "[[1]]", "{}", R"({"a": {"b": [1, {"c": null}]}})"};
  for (const ToolExample& example : Examples()) {
    const ToolDef& tool = Tool(example.tool);
    for (const ArgMapping& mapping : tool.args) {
      for (const char* value : garbage) {
        json::object args = example.arguments;
        args[mapping.arg] = json::parse(value);
        absl::StatusOr<std::vector<UpstreamRequest>> requests =
            BuildRequests(tool, args, ExampleContext());
        if (!requests.ok()) {
          EXPECT_THAT(requests.status().code(),
                      ::testing::AnyOf(absl::StatusCode::kInvalidArgument,
                                       absl::StatusCode::kFailedPrecondition))
              << example.tool << "." << mapping.arg << "=" << value << ": " << requests.status();
        }
      }
    }
  }
}

// 100 priority IDs of 64 characters each pass the schema but make a URL over 8 KiB.
std::string ManyLongPriorityIds() {
  json::array ids;
  for (int i = 0; i < 100; ++i) ids.emplace_back(absl::StrCat("P", std::string(60, 'X'), i + 100));
  return json::serialize(json::object{{"priorities", std::move(ids)}});
}

TEST(RequestBuilderTest, OverlongUrlIsRefusedWithAdviceToNarrowTheFilters) {
  const absl::Status status = BuildError("list_incidents", ManyLongPriorityIds());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("over the limit of 8192"));
  EXPECT_THAT(status.message(), HasSubstr("(most of it is priority_ids[])"));
  EXPECT_THAT(status.message(), HasSubstr("Narrow the filters"));
}

TEST(RequestBuilderTest, UrlAtTheLimitIsBuilt) {
  UpstreamRequest request;
  request.path = "/incidents";
  request.query = {{"q", std::string(kMaxRequestTargetBytes - std::string("/incidents?q=").size(),
                                     'a')}};
  EXPECT_EQ(RequestTarget(request).size(), kMaxRequestTargetBytes);
  EXPECT_TRUE(CheckRequestTargetSize(request).ok());
  request.query[0].second.push_back('a');
  EXPECT_EQ(CheckRequestTargetSize(request).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RequestBuilderTest, PercentEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b&c=d[]é"), "a%20b%26c%3Dd%5B%5D%C3%A9");
}

}  // namespace
}  // namespace bastion::pagerduty
