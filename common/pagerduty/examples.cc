#include "common/pagerduty/examples.h"

#include <cstdio>
#include <cstdlib>

#include "absl/time/time.h"

namespace bastion::pagerduty {
namespace {

struct RawExample {
  std::string_view tool;
  std::string_view what;
  std::string_view arguments;
};

// IDs look like PagerDuty's; they need not exist, the simulator serves whatever is asked.
constexpr RawExample kExamples[] = {
    {"add_note_to_incident", "a note",
     R"json({
       "incident_id": "Q2HKCW3TLPWPVN",
       "note": "Rolled back deploy 4812; error rate back to normal."
     })json"},
    {"add_responders", "one user and one escalation policy",
     R"json({
       "incident_id": "Q2HKCW3TLPWPVN",
       "request": {
         "message": "Database is down, need DBA help.",
         "responder_request_targets": [
           {"responder_request_target": {"id": "PXPGF42", "type": "user_reference"}},
           {"responder_request_target": {"id": "PANZZEQ", "type": "escalation_policy_reference"}}
         ]
       }
     })json"},
    {"add_team_member", "responder role",
     R"json({
       "team_id": "PQ9K7I8",
       "member_data": {"user_id": "PXPGF42", "role": "responder"}
     })json"},
    {"append_event_orchestration_router_rule", "route database events",
     R"json({
       "orchestration_id": "b02e973d-9620-4e0a-9edc-00fedf7d4694",
       "new_rule": {
         "label": "Database events",
         "conditions": [{"expression": "event.summary matches part 'database'"}],
         "actions": {"route_to": "PB31XBA"}
       }
     })json"},
    {"create_alert_grouping_setting", "content based on two fields",
     R"json({
       "create_model": {
         "alert_grouping_setting": {
           "name": "Group by host",
           "type": "content_based",
           "config": {"aggregate": "all", "fields": ["source", "component"], "time_window": 900},
           "services": [{"id": "PIJ90N7"}]
         }
       }
     })json"},
    {"create_escalation_policy", "two rules",
     R"json({
       "escalation_policy_data": {
         "escalation_policy": {
           "name": "Engineering Escalation",
           "description": "Primary then secondary",
           "escalation_rules": [
             {
               "escalation_delay_in_minutes": 30,
               "targets": [{"id": "PI7DH85", "type": "schedule_reference"}]
             },
             {
               "escalation_delay_in_minutes": 15,
               "targets": [{"id": "PXPGF42", "type": "user_reference"}],
               "escalation_rule_assignment_strategy": "assign_to_everyone"
             }
           ],
           "num_loops": 2,
           "on_call_handoff_notifications": "if_has_services",
           "teams": [{"id": "PQ9K7I8"}]
         }
       }
     })json"},
    {"create_incident", "with body, priority and assignee",
     R"json({
       "incident": {
         "title": "The server is on fire.",
         "service": {"id": "PWIXJZS", "type": "service_reference"},
         "urgency": "high",
         "body": {"details": "A disk is getting full on this machine."},
         "priority": {"id": "P53ZZH5"},
         "assignments": [{"assignee": {"id": "PXPGF42"}}],
         "incident_key": "baf7cf21b1da41b4b0221008339ff357"
       }
     })json"},
    {"create_schedule", "with a team",
     R"json({
       "schedule_data": {
         "name": "Platform on-call",
         "time_zone": "America/New_York",
         "description": "Weekly platform rotation",
         "teams": [{"id": "PQ9K7I8"}]
       }
     })json"},
    {"create_schedule_override", "one override",
     R"json({
       "schedule_id": "PI7DH85",
       "override_request": {
         "overrides": [
           {
             "start": "2025-03-15T09:00:00Z",
             "end": "2025-03-15T17:00:00Z",
             "user": {"id": "PEYSGVA"}
           }
         ]
       }
     })json"},
    {"create_schedule_v3_custom_shifts", "one shift",
     R"json({
       "schedule_id": "PSV3ABC",
       "custom_shifts": [
         {
           "start_time": "2025-03-15T09:00:00Z",
           "end_time": "2025-03-15T17:00:00Z",
           "assignments": [{"member": {"type": "user_member", "user_id": "PXPGF42"}}]
         }
       ]
     })json"},
    {"create_schedule_v3_overrides", "override on a rotation",
     R"json({
       "schedule_id": "PSV3ABC",
       "overrides": [
         {
           "rotation_id": "PROT123",
           "start_time": "2025-03-15T09:00:00Z",
           "end_time": "2025-03-15T17:00:00Z",
           "overridden_member": {"type": "user_member", "user_id": "PXPGF42"},
           "overriding_member": {"type": "user_member", "user_id": "PEYSGVA"}
         }
       ]
     })json"},
    {"create_schedule_v3_rotation", "empty rotation", R"json({"schedule_id": "PSV3ABC"})json"},
    {"create_schedule_v3_rotation_event", "weekly rotating",
     R"json({
       "schedule_id": "PSV3ABC",
       "rotation_id": "PROT123",
       "event_data": {
         "name": "Weekly On-Call",
         "start_time": {"date_time": "2025-03-03T09:00:00Z", "time_zone": "America/New_York"},
         "end_time": {"date_time": "2025-03-10T09:00:00Z", "time_zone": "America/New_York"},
         "effective_since": "2025-03-03T09:00:00Z",
         "recurrence": ["RRULE:FREQ=WEEKLY"],
         "assignment_strategy": {
           "type": "rotating_member_assignment_strategy",
           "shifts_per_member": 1,
           "members": [
             {"type": "user_member", "user_id": "PXPGF42"},
             {"type": "user_member", "user_id": "PEYSGVA"}
           ]
         }
       }
     })json"},
    {"create_service", "with timeouts",
     R"json({
       "service_data": {
         "service": {
           "name": "Checkout API",
           "description": "Payment and checkout backend",
           "escalation_policy": {"id": "PANZZEQ"},
           "status": "active",
           "auto_resolve_timeout": 14400,
           "acknowledgement_timeout": 600
         }
       }
     })json"},
    {"create_status_page_post", "incident post with one update",
     R"json({
       "status_page_id": "PT4KHLK",
       "create_model": {
         "post": {
           "title": "Checkout errors",
           "post_type": "incident",
           "starts_at": "2025-03-15T09:00:00Z",
           "ends_at": "2025-03-15T12:00:00Z",
           "updates": [
             {
               "message": "We are investigating elevated checkout errors.",
               "status": {"id": "PSTAT01"},
               "severity": {"id": "PSEV001"},
               "impacted_services": [{"service": {"id": "PSPS001"}, "impact": {"id": "PIMP001"}}],
               "notify_subscribers": true
             }
           ]
         }
       }
     })json"},
    {"create_status_page_post_update", "status update",
     R"json({
       "status_page_id": "PT4KHLK",
       "post_id": "PPOST01",
       "create_model": {
         "post_update": {
           "message": "A fix has been deployed; monitoring.",
           "status": {"id": "PSTAT02"},
           "severity": {"id": "PSEV001"}
         }
       }
     })json"},
    {"create_team", "with default role",
     R"json({
       "create_model": {
         "team": {
           "name": "Platform",
           "description": "Platform engineering",
           "default_role": "manager"
         }
       }
     })json"},
    {"create_user", "with role and time zone",
     R"json({
       "request": {
         "name": "Earline Greenholt",
         "email": "125.greenholt.earline@graham.name",
         "role": "user",
         "time_zone": "America/Lima"
       }
     })json"},
    {"create_webhook_subscription", "service scoped",
     R"json({
       "webhook_data": {
         "delivery_method": {
           "url": "https://hooks.example.com/pagerduty",
           "custom_headers": [{"name": "X-Env", "value": "prod"}]
         },
         "events": ["incident.triggered", "incident.resolved"],
         "filter": {"type": "service_reference", "id": "PWIXJZS"},
         "description": "Ops bridge",
         "active": true
       }
     })json"},
    {"delete_alert_grouping_setting", "by id", R"json({"setting_id": "PZC4OMX"})json"},
    {"delete_schedule_v3", "by id", R"json({"schedule_id": "PSV3ABC"})json"},
    {"delete_schedule_v3_custom_shift", "by id",
     R"json({"schedule_id": "PSV3ABC", "custom_shift_id": "PCS0001"})json"},
    {"delete_schedule_v3_override", "by id",
     R"json({"schedule_id": "PSV3ABC", "override_id": "POV0001"})json"},
    {"delete_schedule_v3_rotation", "by id",
     R"json({"schedule_id": "PSV3ABC", "rotation_id": "PROT123"})json"},
    {"delete_schedule_v3_rotation_event", "by id",
     R"json({"schedule_id": "PSV3ABC", "rotation_id": "PROT123", "event_id": "PEV0001"})json"},
    {"delete_team", "by id", R"json({"team_id": "PQ9K7I8"})json"},
    {"delete_webhook_subscription", "by id", R"json({"subscription_id": "PY1OQBC"})json"},
    {"get_alert_from_incident", "by ids",
     R"json({"incident_id": "Q2HKCW3TLPWPVN", "alert_id": "Q1ATLSCT5GQ3VI"})json"},
    {"get_alert_grouping_setting", "by id", R"json({"setting_id": "PZC4OMX"})json"},
    {"get_business_service_dependencies", "by id", R"json({"business_service_id": "PD1BSRV"})json"},
    {"get_change_event", "by id", R"json({"change_event_id": "01BH1RWG80SKWH0G0FNRYR7Q6Y"})json"},
    {"get_escalation_policy", "by id", R"json({"policy_id": "PANZZEQ"})json"},
    {"get_event_orchestration", "by id",
     R"json({"orchestration_id": "b02e973d-9620-4e0a-9edc-00fedf7d4694"})json"},
    {"get_event_orchestration_global", "by id",
     R"json({"orchestration_id": "b02e973d-9620-4e0a-9edc-00fedf7d4694"})json"},
    {"get_event_orchestration_router", "by id",
     R"json({"orchestration_id": "b02e973d-9620-4e0a-9edc-00fedf7d4694"})json"},
    {"get_event_orchestration_service", "by service", R"json({"service_id": "PWIXJZS"})json"},
    {"get_extension_schema", "by id", R"json({"schema_id": "PAXDT1L"})json"},
    {"get_incident", "with includes",
     R"json({
       "incident_id": "Q2HKCW3TLPWPVN",
       "query_model": {"include": ["assignees", "services"]}
     })json"},
    {"get_incident_metrics_all", "one team, high urgency",
     R"json({
       "created_at_start": "2025-01-01T00:00:00Z",
       "created_at_end": "2025-02-01T00:00:00Z",
       "team_ids": ["PQ9K7I8"],
       "service_ids": ["PWIXJZS"],
       "urgency": "high",
       "time_zone": "Etc/UTC",
       "order": "desc",
       "order_by": "total_incident_count"
     })json"},
    {"get_incident_metrics_by_service", "two services",
     R"json({
       "created_at_start": "2025-01-01T00:00:00Z",
       "created_at_end": "2025-02-01T00:00:00Z",
       "service_ids": ["PWIXJZS", "PIJ90N7"]
     })json"},
    {"get_incident_metrics_by_team", "weekly",
     R"json({
       "created_at_start": "2025-01-01T00:00:00Z",
       "created_at_end": "2025-02-01T00:00:00Z",
       "team_ids": ["PQ9K7I8"],
       "aggregate_unit": "week"
     })json"},
    {"get_incident_workflow", "by id", R"json({"workflow_id": "PSFEVL7"})json"},
    {"get_log_entry", "by id", R"json({"log_entry_id": "Q02JTSNZWHSEKV"})json"},
    {"get_outlier_incident", "since a date",
     R"json({
       "incident_id": "Q2HKCW3TLPWPVN",
       "query_model": {"since": "2024-12-01T00:00:00Z"}
     })json"},
    {"get_past_incidents", "ten with total",
     R"json({"incident_id": "Q2HKCW3TLPWPVN", "query_model": {"limit": 10, "total": true}})json"},
    {"get_related_incidents", "with incident details",
     R"json({
       "incident_id": "Q2HKCW3TLPWPVN",
       "query_model": {"additional_details": ["incident"]}
     })json"},
    {"get_responder_load_metrics", "one team",
     R"json({
       "date_range_start": "2025-01-01T00:00:00Z",
       "date_range_end": "2025-02-01T00:00:00Z",
       "team_ids": ["PQ9K7I8"],
       "urgency": "high",
       "order": "desc",
       "order_by": "total_interruptions"
     })json"},
    {"get_responder_metrics", "one responder",
     R"json({
       "date_range_start": "2025-01-01T00:00:00Z",
       "date_range_end": "2025-02-01T00:00:00Z",
       "responder_ids": ["PXPGF42"],
       "time_zone": "America/New_York"
     })json"},
    {"get_schedule", "without a kind", R"json({"schedule_id": "PI7DH85"})json"},
    {"get_schedule", "shift-based", R"json({"schedule_id": "PSV3ABC", "kind": "shift_based"})json"},
    {"get_schedule_v3_custom_shift", "by id",
     R"json({"schedule_id": "PSV3ABC", "custom_shift_id": "PCS0001"})json"},
    {"get_schedule_v3_override", "by id",
     R"json({"schedule_id": "PSV3ABC", "override_id": "POV0001"})json"},
    {"get_schedule_v3_rotation", "by id",
     R"json({"schedule_id": "PSV3ABC", "rotation_id": "PROT123"})json"},
    {"get_schedule_v3_rotation_event", "by id",
     R"json({"schedule_id": "PSV3ABC", "rotation_id": "PROT123", "event_id": "PEV0001"})json"},
    {"get_service", "by id", R"json({"service_id": "PWIXJZS"})json"},
    {"get_status_page_post", "with updates",
     R"json({
       "status_page_id": "PT4KHLK",
       "post_id": "PPOST01",
       "query_model": {"include": ["status_page_post_update"]}
     })json"},
    {"get_team", "by id", R"json({"team_id": "PQ9K7I8"})json"},
    {"get_technical_service_dependencies", "by id", R"json({"service_id": "PWIXJZS"})json"},
    {"get_user_data", "no arguments", R"json({})json"},
    {"get_webhook_subscription", "by id", R"json({"subscription_id": "PY1OQBC"})json"},
    {"list_alert_grouping_settings", "for a service",
     R"json({"service_ids": ["PIJ90N7"], "limit": 50, "total": true})json"},
    {"list_alerts_from_incident", "first page",
     R"json({"incident_id": "Q2HKCW3TLPWPVN", "limit": 25, "offset": 0})json"},
    {"list_business_services", "no arguments", R"json({})json"},
    {"list_change_events", "last week of a team",
     R"json({
       "since": "2025-03-01T00:00:00Z",
       "until": "2025-03-08T00:00:00Z",
       "limit": 50,
       "team_ids": ["PQ9K7I8"],
       "integration_ids": ["PINT001"],
       "total": true
     })json"},
    {"list_escalation_policies", "by name and team",
     R"json({
       "query": "Engineering",
       "user_ids": ["PXPGF42"],
       "team_ids": ["PQ9K7I8"],
       "include": ["services"],
       "limit": 20
     })json"},
    {"list_event_orchestrations", "sorted by routes",
     R"json({"limit": 25, "offset": 0, "sort_by": "routes:desc"})json"},
    {"list_extension_schemas", "ten", R"json({"limit": 10})json"},
    {"list_incident_change_events", "five",
     R"json({"incident_id": "Q2HKCW3TLPWPVN", "limit": 5})json"},
    {"list_incident_notes", "by incident", R"json({"incident_id": "Q2HKCW3TLPWPVN"})json"},
    {"list_incident_workflows", "by name with steps",
     R"json({"limit": 50, "query": "Major", "include": ["steps"]})json"},
    {"list_incidents", "open high-urgency incidents",
     R"json({
       "statuses": ["triggered", "acknowledged"],
       "urgencies": ["high"],
       "since": "2025-03-01T00:00:00Z",
       "until": "2025-03-08T00:00:00Z",
       "priorities": ["P53ZZH5"],
       "limit": 250
     })json"},
    {"list_incidents", "assigned to me",
     R"json({"request_scope": "assigned", "statuses": ["triggered"]})json"},
    {"list_log_entries", "overview of a day",
     R"json({
       "query_model": {
         "since": "2025-03-01T00:00:00Z",
         "until": "2025-03-02T00:00:00Z",
         "limit": 200,
         "is_overview": true,
         "include": ["incidents"],
         "team_ids": ["PQ9K7I8"],
         "time_zone": "UTC"
       }
     })json"},
    {"list_oncalls", "by schedule now",
     R"json({
       "schedule_ids": ["PI7DH85"],
       "user_ids": ["PXPGF42"],
       "time_zone": "UTC",
       "since": "2025-03-01T00:00:00Z",
       "until": "2025-03-02T00:00:00Z",
       "limit": 50
     })json"},
    {"list_oncalls", "by service",
     R"json({"service_ids": ["PWIXJZS", "PIJ90N7"], "escalation_policy_ids": ["PANZZEQ"]})json"},
    {"list_priorities", "no arguments", R"json({})json"},
    {"list_schedule_users", "by schedule", R"json({"schedule_id": "PI7DH85"})json"},
    {"list_schedule_v3_custom_shifts", "one week",
     R"json({
       "schedule_id": "PSV3ABC",
       "since": "2025-03-01T00:00:00Z",
       "until": "2025-03-08T00:00:00Z"
     })json"},
    {"list_schedule_v3_overrides", "one week",
     R"json({
       "schedule_id": "PSV3ABC",
       "since": "2025-03-01T00:00:00Z",
       "until": "2025-03-08T00:00:00Z"
     })json"},
    {"list_schedule_v3_rotation_events", "by rotation",
     R"json({"schedule_id": "PSV3ABC", "rotation_id": "PROT123"})json"},
    {"list_schedule_v3_rotations", "by schedule", R"json({"schedule_id": "PSV3ABC"})json"},
    {"list_schedules", "by name and team",
     R"json({
       "query_model": {
         "query": "Platform",
         "team_ids": ["PQ9K7I8"],
         "include": ["schedule_layers"],
         "limit": 50
       },
       "enrich": true
     })json"},
    {"list_service_change_events", "one day",
     R"json({
       "service_id": "PWIXJZS",
       "since": "2025-03-01T00:00:00Z",
       "until": "2025-03-02T00:00:00Z",
       "limit": 20,
       "offset": 0
     })json"},
    {"list_services", "by name and team",
     R"json({"query": "Checkout", "teams_ids": ["PQ9K7I8"], "limit": 50})json"},
    {"list_status_page_impacts", "incident impacts",
     R"json({"status_page_id": "PT4KHLK", "query_model": {"post_type": "incident"}})json"},
    {"list_status_page_post_updates", "approved",
     R"json({
       "status_page_id": "PT4KHLK",
       "post_id": "PPOST01",
       "query_model": {"reviewed_status": "approved", "limit": 20}
     })json"},
    {"list_status_page_severities", "maintenance severities",
     R"json({"status_page_id": "PT4KHLK", "query_model": {"post_type": "maintenance"}})json"},
    {"list_status_page_statuses", "incident statuses",
     R"json({
       "status_page_id": "PT4KHLK",
       "query_model": {"post_type": "incident", "limit": 10}
     })json"},
    {"list_status_pages", "public pages",
     R"json({"query_model": {"status_page_type": "public", "limit": 10}})json"},
    {"list_team_members", "by team", R"json({"team_id": "PQ9K7I8"})json"},
    {"list_teams", "by name", R"json({"query": "Platform", "limit": 10})json"},
    {"list_teams", "my teams", R"json({"scope": "my"})json"},
    {"list_users", "by name in a team",
     R"json({"query": "earline", "teams_ids": ["PQ9K7I8"], "limit": 25})json"},
    {"list_webhook_subscriptions", "service scoped",
     R"json({"filter_type": "service", "limit": 20})json"},
    {"manage_incidents", "acknowledge and reassign",
     R"json({
       "manage_request": {
         "incident_ids": ["Q2HKCW3TLPWPVN", "Q1P3AHC3KLGKOG"],
         "status": "acknowledged",
         "assignment": {"id": "PXPGF42"}
       }
     })json"},
    {"remove_team_member", "by ids", R"json({"team_id": "PQ9K7I8", "user_id": "PXPGF42"})json"},
    {"start_incident_workflow", "on an incident",
     R"json({
       "workflow_id": "PSFEVL7",
       "instance_request": {
         "incident_workflow_instance": {"id": "run-1", "incident": {"id": "Q2HKCW3TLPWPVN"}}
       }
     })json"},
    {"update_alert_grouping_setting", "switch to time based",
     R"json({
       "setting_id": "PZC4OMX",
       "update_model": {
         "alert_grouping_setting": {
           "type": "time",
           "config": {"timeout": 3600},
           "services": [{"id": "PIJ90N7"}]
         }
       }
     })json"},
    {"update_escalation_policy", "rename and new rules",
     R"json({
       "policy_id": "PANZZEQ",
       "escalation_policy_data": {
         "escalation_policy": {
           "name": "Engineering Escalation (new)",
           "escalation_rules": [
             {
               "escalation_delay_in_minutes": 20,
               "targets": [{"id": "PI7DH85", "type": "schedule_reference"}]
             }
           ]
         }
       }
     })json"},
    {"update_event_orchestration_router", "two rules and catch-all",
     R"json({
       "orchestration_id": "b02e973d-9620-4e0a-9edc-00fedf7d4694",
       "router_update": {
         "orchestration_path": {
           "sets": [
             {
               "id": "start",
               "rules": [
                 {
                   "id": "1c26698b",
                   "label": "Database",
                   "conditions": [{"expression": "event.summary matches part 'database'"}],
                   "actions": {"route_to": "PB31XBA"}
                 },
                 {
                   "label": "Web",
                   "conditions": [{"expression": "event.summary matches part 'www'"}],
                   "actions": {"route_to": "PC2D9ML"},
                   "disabled": false
                 }
               ]
             }
           ],
           "catch_all": {"actions": {"route_to": "unrouted"}}
         }
       }
     })json"},
    {"update_schedule", "description only",
     R"json({
       "schedule_id": "PSV3ABC",
       "schedule_data": {"description": "Weekly platform rotation, EU hours"}
     })json"},
    {"update_schedule", "rename with time zone",
     R"json({
       "schedule_id": "PSV3ABC",
       "schedule_data": {"name": "Platform primary", "time_zone": "Europe/Berlin"}
     })json"},
    {"update_schedule_v3_custom_shift", "move a shift",
     R"json({
       "schedule_id": "PSV3ABC",
       "custom_shift_id": "PCS0001",
       "shift_data": {
         "start_time": "2025-03-16T09:00:00Z",
         "end_time": "2025-03-16T17:00:00Z",
         "assignments": [{"member": {"type": "user_member", "user_id": "PEYSGVA"}}]
       }
     })json"},
    {"update_schedule_v3_override", "user for user",
     R"json({
       "schedule_id": "PSV3ABC",
       "override_id": "POV0001",
       "start_time": "2025-03-15T09:00:00Z",
       "end_time": "2025-03-15T18:00:00Z",
       "overridden_member_type": "user_member",
       "overriding_member_type": "user_member",
       "overridden_member_user_id": "PXPGF42",
       "overriding_member_user_id": "PEYSGVA"
     })json"},
    {"update_schedule_v3_rotation_event", "every member",
     R"json({
       "schedule_id": "PSV3ABC",
       "rotation_id": "PROT123",
       "event_id": "PEV0001",
       "event_data": {
         "name": "Business hours",
         "start_time": {"date_time": "2025-04-01T09:00:00Z", "time_zone": "Europe/Berlin"},
         "end_time": {"date_time": "2025-04-01T17:00:00Z", "time_zone": "Europe/Berlin"},
         "effective_since": "2025-04-01T00:00:00Z",
         "effective_until": "2025-12-31T00:00:00Z",
         "recurrence": ["RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"],
         "assignment_strategy": {
           "type": "every_member_assignment_strategy",
           "members": [{"type": "user_member", "user_id": "PXPGF42"}]
         }
       }
     })json"},
    {"update_service", "put in maintenance",
     R"json({
       "service_id": "PWIXJZS",
       "service_data": {
         "service": {
           "name": "Checkout API",
           "escalation_policy": {"id": "PANZZEQ", "type": "escalation_policy_reference"},
           "status": "maintenance"
         }
       }
     })json"},
    {"update_team", "rename",
     R"json({
       "team_id": "PQ9K7I8",
       "update_model": {
         "team": {"name": "Platform Engineering", "description": "Owns the platform"}
       }
     })json"},
    {"update_webhook_subscription", "pause and narrow events",
     R"json({
       "subscription_id": "PY1OQBC",
       "webhook_data": {
         "active": false,
         "events": ["incident.triggered"],
         "description": "Paused during migration"
       }
     })json"},
};

std::vector<ToolExample> Parse() {
  std::vector<ToolExample> examples;
  for (const RawExample& raw : kExamples) {
    boost::system::error_code error;
    boost::json::value parsed = boost::json::parse(raw.arguments, error);
    if (error || !parsed.is_object()) {
      std::fprintf(stderr, "pagerduty examples: %.*s is not a JSON object\n",
                   static_cast<int>(raw.tool.size()), raw.tool.data());
      std::abort();
    }
    examples.push_back({raw.tool, raw.what, std::move(parsed.get_object())});
  }
  return examples;
}

}  // namespace

const std::vector<ToolExample>& Examples() {
  static const auto* const kParsed = new std::vector<ToolExample>(Parse());
  return *kParsed;
}

const ToolExample* FindExample(std::string_view tool) {
  for (const ToolExample& example : Examples()) {
    if (example.tool == tool) return &example;
  }
  return nullptr;
}

CallContext ExampleContext() {
  CallContext context;
  context.now = absl::FromUnixSeconds(1741856400);  // 2025-03-13T09:00:00Z
  context.user = UserIdentity{"PXPGF42", "earline@example.com", {"PQ9K7I8", "PL1JMK5"}};
  return context;
}

}  // namespace bastion::pagerduty
