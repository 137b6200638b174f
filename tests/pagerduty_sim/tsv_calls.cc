#include "tests/pagerduty_sim/tsv_calls.h"

#include <fstream>
#include <set>

#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/pagerduty_sim/account.h"

namespace bastion::pagerduty_sim::simtest {

std::vector<TsvCall> ReadTsv() {
  std::ifstream in("third_party/pagerduty/tools.tsv");
  EXPECT_TRUE(in.good()) << "tools.tsv is not in the test's runfiles";
  std::string line;
  std::getline(in, line);  // Header.
  std::vector<TsvCall> calls;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 7) continue;
    std::vector<std::string> requests = absl::StrSplit(cols[2], " ; ");
    std::vector<std::string> froms = absl::StrSplit(cols[5], " ; ");
    for (size_t i = 0; i < requests.size(); ++i) {
      if (!seen.insert(requests[i]).second) continue;
      std::pair<std::string, std::string> mp = absl::StrSplit(requests[i], absl::MaxSplits(' ', 1));
      calls.push_back({mp.first, mp.second, i < froms.size() && froms[i] == "required", cols[0]});
    }
  }
  return calls;
}

std::string Concrete(const TsvCall& call) {
  const std::string& p = call.path;
  std::string id = "UNKNOWN";
  auto starts = [&](const char* prefix) { return p.rfind(prefix, 0) == 0; };
  if (starts("/incidents/")) id = seed::kTriggeredIncidentId;
  else if (starts("/teams/")) id = seed::kPlatformTeamId;
  else if (starts("/event_orchestrations/")) id = seed::kOrchestrationId;
  else if (starts("/alert_grouping_settings/")) id = seed::kAlertGroupingSettingId;
  else if (starts("/service_dependencies/business_services/")) id = seed::kBusinessServiceId;
  else if (starts("/service_dependencies/technical_services/")) id = seed::kCheckoutServiceId;
  else if (starts("/change_events/")) id = seed::kChangeEventId;
  else if (starts("/escalation_policies/")) id = seed::kPlatformPolicyId;
  else if (starts("/extension_schemas/")) id = seed::kExtensionSchemaId;
  else if (starts("/incident_workflows/")) id = seed::kWorkflowId;
  else if (starts("/log_entries/")) id = seed::kTriggeredIncidentLogEntryId;
  else if (starts("/schedules/")) id = seed::kPlatformScheduleId;
  else if (starts("/v3/schedules/")) id = seed::kFollowTheSunScheduleId;
  else if (starts("/services/")) id = seed::kDatabaseServiceId;
  else if (starts("/status_pages/")) id = seed::kStatusPageId;
  else if (starts("/webhook_subscriptions/")) id = seed::kWebhookId;
  // Adding a member needs a non-member; removing one needs a member.
  std::string user = call.method == "PUT" ? seed::kPaymentsUserId : seed::kResponderUserId;
  return absl::StrReplaceAll(p, {{"{id}", id},
                                 {"{service_id}", seed::kDatabaseServiceId},
                                 {"{alert_id}", seed::kTriggeredIncidentAlertId},
                                 {"{user_id}", user},
                                 {"{post_id}", seed::kStatusPagePostId},
                                 {"{rotation_id}", seed::kV3RotationId},
                                 {"{event_id}", seed::kV3EventId},
                                 {"{custom_shift_id}", seed::kV3CustomShiftId},
                                 {"{override_id}", seed::kV3OverrideId}});
}

const std::map<std::string, std::string>& Bodies() {
  static const auto* bodies = new std::map<std::string, std::string>{
      {"POST /incidents/{id}/notes", R"J({"note":{"content":"Rolled back the deploy."}})J"},
      {"POST /incidents/{id}/responder_requests",
       R"J({"requester_id":"PAL1CE7","message":"Need a DBA","responder_request_targets":[{"responder_request_target":{"id":"PC4R0L9","type":"user_reference"}}]})J"},
      {"PUT /teams/{id}/users/{user_id}", R"J({"role":"responder"})J"},
      {"PUT /event_orchestrations/{id}/router",
       R"J({"orchestration_path":{"sets":[{"id":"start","rules":[{"label":"db","conditions":[{"expression":"event.summary matches part 'db'"}],"actions":{"route_to":"PSDB002"}}]}],"catch_all":{"actions":{"route_to":"unrouted"}}}})J"},
      {"POST /alert_grouping_settings",
       R"J({"alert_grouping_setting":{"name":"Web","type":"time","config":{"timeout":300},"services":[{"id":"PSWEB03","type":"service_reference"}]}})J"},
      {"PUT /alert_grouping_settings/{id}", R"J({"alert_grouping_setting":{"name":"Checkout grouping v2"}})J"},
      {"POST /escalation_policies",
       R"J({"escalation_policy":{"type":"escalation_policy","name":"Web Escalation","escalation_rules":[{"escalation_delay_in_minutes":30,"targets":[{"id":"PB0B4X2","type":"user_reference"}]}]}})J"},
      {"PUT /escalation_policies/{id}", R"J({"escalation_policy":{"type":"escalation_policy","name":"Platform Escalation","num_loops":3,"escalation_rules":[{"escalation_delay_in_minutes":20,"targets":[{"id":"PSCHPL1","type":"schedule_reference"}]}]}})J"},
      {"POST /incidents",
       R"J({"incident":{"type":"incident","title":"Disk full on db-orders-2","service":{"id":"PSDB002","type":"service_reference"},"urgency":"high","body":{"type":"incident_body","details":{"mount":"/var/lib/postgresql","used":"100%"}}}})J"},
      {"PUT /incidents",
       R"J({"incidents":[{"id":"PINC0DB","type":"incident_reference","status":"acknowledged"}]})J"},
      {"POST /v3/schedules", R"J({"schedule":{"name":"Database on-call","time_zone":"America/New_York"}})J"},
      {"PUT /v3/schedules/{id}", R"J({"schedule":{"name":"Follow the sun (v2)","time_zone":"UTC"}})J"},
      {"POST /schedules/{id}/overrides",
       R"J({"overrides":[{"start":"2030-01-01T00:00:00Z","end":"2030-01-02T00:00:00Z","user":{"id":"PB0B4X2","type":"user_reference"},"time_zone":"UTC"}]})J"},
      {"POST /v3/schedules/{id}/custom_shifts",
       R"J({"custom_shifts":[{"type":"custom_shift","start_time":"2030-03-15T09:00:00Z","end_time":"2030-03-15T17:00:00Z","assignments":[{"type":"shift_assignment","member":{"type":"user_member","user_id":"PB0B4X2"}}]}]})J"},
      {"PUT /v3/schedules/{id}/custom_shifts/{custom_shift_id}",
       R"J({"custom_shift":{"start_time":"2030-03-16T10:00:00Z","end_time":"2030-03-16T18:00:00Z"}})J"},
      {"POST /v3/schedules/{id}/overrides",
       R"J({"overrides":[{"type":"override_shift","rotation_id":"R0TAT10N0000000000000001A","start_time":"2030-03-15T09:00:00Z","end_time":"2030-03-15T17:00:00Z","overridden_member":{"type":"user_member","user_id":"PAL1CE7"},"overriding_member":{"type":"user_member","user_id":"PB0B4X2"}}]})J"},
      {"PUT /v3/schedules/{id}/overrides/{override_id}",
       R"J({"override":{"start_time":"2030-03-15T10:00:00Z","end_time":"2030-03-15T18:00:00Z","overriding_member":{"type":"user_member","user_id":"PC4R0L9"}}})J"},
      {"POST /v3/schedules/{id}/rotations/{rotation_id}/events",
       R"J({"event":{"name":"Weekly","start_time":{"date_time":"2030-03-03T09:00:00Z","time_zone":"UTC"},"end_time":{"date_time":"2030-03-10T09:00:00Z","time_zone":"UTC"},"effective_since":"2030-03-03T00:00:00Z","recurrence":["RRULE:FREQ=WEEKLY"],"assignment_strategy":{"type":"rotating_member_assignment_strategy","shifts_per_member":1,"members":[{"type":"user_member","user_id":"PAL1CE7"}]}}})J"},
      {"PUT /v3/schedules/{id}/rotations/{rotation_id}/events/{event_id}",
       R"J({"event":{"effective_until":"2031-01-01T00:00:00Z"}})J"},
      {"POST /services",
       R"J({"service":{"type":"service","name":"Search API","escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"}}})J"},
      {"PUT /services/{id}", R"J({"service":{"type":"service","description":"Orders DB (primary)","escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"}}})J"},
      {"POST /status_pages/{id}/posts",
       R"J({"post":{"type":"status_page_post","post_type":"maintenance","title":"DB upgrade","starts_at":"2030-01-01T00:00:00Z","ends_at":"2030-01-01T02:00:00Z","status_page":{"id":"PSTPG01","type":"status_page"},"updates":[{"type":"status_page_post_update","message":"Planned","status":{"id":"PSTS004","type":"status_page_status"},"severity":{"id":"PSEV004","type":"status_page_severity"},"impacted_services":[],"notify_subscribers":false,"update_frequency_ms":null,"post":{"id":"PSTPS01","type":"status_page_post"}}]}})J"},
      {"POST /status_pages/{id}/posts/{post_id}/post_updates",
       R"J({"post_update":{"type":"status_page_post_update","message":"Fixed","impacted_services":[],"notify_subscribers":false,"update_frequency_ms":null,"status":{"id":"PSTS003","type":"status_page_status"},"severity":{"id":"PSEV001","type":"status_page_severity"},"post":{"id":"PSTPS01","type":"status_page_post"}}})J"},
      {"POST /teams", R"J({"team":{"type":"team","name":"Search","description":"Search infrastructure"}})J"},
      {"PUT /teams/{id}", R"J({"team":{"type":"team","name":"Platform","description":"Platform and SRE"}})J"},
      {"POST /users",
       R"J({"user":{"type":"user","name":"Frank New","email":"frank@acme.example","role":"user","time_zone":"UTC"}})J"},
      {"POST /webhook_subscriptions",
       R"J({"webhook_subscription":{"type":"webhook_subscription","delivery_method":{"type":"http_delivery_method","url":"https://hooks.acme.example/pd2"},"events":["incident.triggered"],"filter":{"type":"account_reference"}}})J"},
      {"PUT /webhook_subscriptions/{id}", R"J({"webhook_subscription":{"description":"Renamed","active":false}})J"},
      {"POST /incident_workflows/{id}/instances",
       R"J({"incident_workflow_instance":{"type":"incident_workflow_instance","incident":{"id":"PINC0DB","type":"incident_reference"}}})J"},
      {"POST /analytics/metrics/incidents/all",
       R"J({"filters":{"created_at_start":"2000-01-01T00:00:00Z","created_at_end":"2100-01-01T00:00:00Z","urgency":"high"},"aggregate_unit":"day","time_zone":"Etc/UTC"})J"},
      {"POST /analytics/metrics/incidents/services",
       R"J({"filters":{"created_at_start":"2000-01-01T00:00:00Z","created_at_end":"2100-01-01T00:00:00Z","service_ids":["PSDB002"]}})J"},
      {"POST /analytics/metrics/incidents/teams",
       R"J({"filters":{"created_at_start":"2000-01-01T00:00:00Z","created_at_end":"2100-01-01T00:00:00Z","team_ids":["PTPLAT1"]}})J"},
      {"POST /analytics/metrics/responders/all",
       R"J({"filters":{"date_range_start":"2000-01-01T00:00:00Z","date_range_end":"2100-01-01T00:00:00Z"}})J"},
      {"POST /analytics/metrics/responders/teams",
       R"J({"filters":{"date_range_start":"2000-01-01T00:00:00Z","date_range_end":"2100-01-01T00:00:00Z","team_ids":["PTPAYM2"]}})J"},
  };
  return *bodies;
}

}  // namespace bastion::pagerduty_sim::simtest
