#include "tests/pagerduty_sim/account.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/log/log.h"

namespace bastion::pagerduty_sim {

namespace json = boost::json;

namespace {

constexpr char kIdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// Where each kind of object lives in the API and the web UI, to build self/html_url links.
struct Kind {
  const char* collection;
  const char* type;
  const char* api_path;
  const char* html_path;  // empty: PagerDuty gives these no html_url
};

constexpr Kind kKinds[] = {
    {"users", "user", "users", "users"},
    {"teams", "team", "teams", "teams"},
    {"services", "service", "services", "service-directory"},
    {"escalation_policies", "escalation_policy", "escalation_policies", "escalation_policies"},
    {"schedules", "schedule", "schedules", "schedules"},
    {"incidents", "incident", "incidents", "incidents"},
    {"priorities", "priority", "priorities", ""},
    {"business_services", "business_service", "business_services", "service-directory/business-services"},
    {"maintenance_windows", "maintenance_window", "maintenance_windows", "maintenance_windows"},
    {"extension_schemas", "extension_schema", "extension_schemas", ""},
    {"incident_workflows", "incident_workflow", "incident_workflows", "flex-workflows/workflows"},
    {"webhook_subscriptions", "webhook_subscription", "webhook_subscriptions", ""},
    {"v3_schedules", "schedule_v3", "v3/schedules", "schedules"},
    {"status_pages", "status_page", "status_pages", ""},
    {"event_orchestrations", "event_orchestration", "event_orchestrations", "event-orchestration"},
};

const Kind* KindOfCollection(absl::string_view collection) {
  for (const Kind& k : kKinds) {
    if (collection == k.collection) return &k;
  }
  return nullptr;
}

// "user_reference" -> users, "technical_service_reference" -> services, ...
const Kind* KindOfReference(absl::string_view ref_type) {
  if (!absl::ConsumeSuffix(&ref_type, "_reference")) return nullptr;
  if (ref_type == "technical_service") ref_type = "service";
  for (const Kind& k : kKinds) {
    if (ref_type == k.type) return &k;
  }
  return nullptr;
}

// The seed account as PagerDuty would return it, minus links and summaries (added on load).
// Times are written "@<offset>" relative to the start time: "@-2h", "@+3d".
constexpr char kSeedJson[] = R"json({
"users": [
 {"id":"PAL1CE7","name":"Alice Admin","email":"alice@acme.example","time_zone":"America/New_York","color":"purple","role":"admin","job_title":"Engineering Director","description":"Owns the on-call program","teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"PB0B4X2","name":"Bob Responder","email":"bob@acme.example","time_zone":"Europe/Berlin","color":"green","role":"user","job_title":"Site Reliability Engineer","description":null,"teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"PC4R0L9","name":"Carol Oncall","email":"carol@acme.example","time_zone":"America/Los_Angeles","color":"red","role":"limited_user","job_title":"Backend Engineer","description":null,"teams":[{"id":"PTPAYM2","type":"team_reference"}]},
 {"id":"PD4N5T1","name":"Dan Observer","email":"dan@acme.example","time_zone":"Europe/London","color":"teal","role":"read_only_user","job_title":"Product Manager","description":null,"teams":[{"id":"PTPAYM2","type":"team_reference"}]},
 {"id":"PER1N88","name":"Erin Manager","email":"erin@acme.example","time_zone":"Asia/Tokyo","color":"orange","role":"user","job_title":"Payments Lead","description":null,"teams":[{"id":"PTPAYM2","type":"team_reference"}]}
],
"teams": [
 {"id":"PTPLAT1","name":"Platform","description":"Databases, networking and the web tier","default_role":"manager","parent":null},
 {"id":"PTPAYM2","name":"Payments","description":"Checkout and payment processing","default_role":"manager","parent":null}
],
"team_members": [
 {"team_id":"PTPLAT1","user_id":"PAL1CE7","role":"manager"},
 {"team_id":"PTPLAT1","user_id":"PB0B4X2","role":"responder"},
 {"team_id":"PTPAYM2","user_id":"PC4R0L9","role":"responder"},
 {"team_id":"PTPAYM2","user_id":"PD4N5T1","role":"observer"},
 {"team_id":"PTPAYM2","user_id":"PER1N88","role":"manager"}
],
"priorities": [
 {"id":"PSLWBL8","name":"P1","description":"Critical issue that warrants public notification and liaison with executive teams"},
 {"id":"P53ZZH5","name":"P2","description":"Critical system issue actively impacting many customers' ability to use the product"},
 {"id":"PGE9YCZ","name":"P3","description":"Stability or minor customer-impacting issues that require immediate attention from service owners"},
 {"id":"PVJPWYW","name":"P4","description":"Minor issues requiring action, but not affecting customers' ability to use the product"}
],
"schedules": [
 {"id":"PSCHPL1","name":"Platform Primary","time_zone":"America/New_York","description":"Daily rotation for the platform team",
  "schedule_layers":[{"id":"PLYRPL1","name":"Layer 1","start":"@-30d","end":null,"rotation_virtual_start":"@-30d","rotation_turn_length_seconds":86400,"users":[{"user":{"id":"PAL1CE7","type":"user_reference"}},{"user":{"id":"PB0B4X2","type":"user_reference"}}],"restrictions":[]}],
  "users":[{"id":"PAL1CE7","type":"user_reference"},{"id":"PB0B4X2","type":"user_reference"}],
  "escalation_policies":[{"id":"PEPPLA1","type":"escalation_policy_reference"}],
  "teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"PSCHPY2","name":"Payments Primary","time_zone":"America/Los_Angeles","description":"Weekly rotation for payments",
  "schedule_layers":[{"id":"PLYRPY1","name":"Weekly","start":"@-60d","end":null,"rotation_virtual_start":"@-60d","rotation_turn_length_seconds":604800,"users":[{"user":{"id":"PC4R0L9","type":"user_reference"}},{"user":{"id":"PER1N88","type":"user_reference"}}],"restrictions":[]}],
  "users":[{"id":"PC4R0L9","type":"user_reference"},{"id":"PER1N88","type":"user_reference"}],
  "escalation_policies":[{"id":"PEPPAY2","type":"escalation_policy_reference"}],
  "teams":[{"id":"PTPAYM2","type":"team_reference"}]}
],
"escalation_policies": [
 {"id":"PEPPLA1","name":"Platform Escalation","description":"Primary on-call, then the director","num_loops":2,"on_call_handoff_notifications":"if_has_services",
  "escalation_rules":[{"id":"PRULPL1","escalation_delay_in_minutes":15,"targets":[{"id":"PSCHPL1","type":"schedule_reference"}]},{"id":"PRULPL2","escalation_delay_in_minutes":30,"targets":[{"id":"PAL1CE7","type":"user_reference"}]}],
  "services":[{"id":"PSDB002","type":"service_reference"},{"id":"PSWEB03","type":"service_reference"}],
  "teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"PEPPAY2","name":"Payments Escalation","description":"Payments on-call, then the payments lead","num_loops":1,"on_call_handoff_notifications":"always",
  "escalation_rules":[{"id":"PRULPY1","escalation_delay_in_minutes":10,"targets":[{"id":"PSCHPY2","type":"schedule_reference"}]},{"id":"PRULPY2","escalation_delay_in_minutes":20,"targets":[{"id":"PER1N88","type":"user_reference"}]}],
  "services":[{"id":"PSAPI01","type":"service_reference"}],
  "teams":[{"id":"PTPAYM2","type":"team_reference"}]}
],
"services": [
 {"id":"PSAPI01","name":"Checkout API","description":"Public checkout and payment API","status":"critical","auto_resolve_timeout":14400,"acknowledgement_timeout":1800,"created_at":"@-400d","last_incident_timestamp":"@-20m","alert_creation":"create_alerts_and_incidents",
  "escalation_policy":{"id":"PEPPAY2","type":"escalation_policy_reference"},"teams":[{"id":"PTPAYM2","type":"team_reference"}],
  "incident_urgency_rule":{"type":"constant","urgency":"high"},"integrations":[{"id":"PINTAP1","type":"events_api_v2_inbound_integration_reference","summary":"Datadog"}],"alert_grouping_parameters":{"type":"intelligent"}},
 {"id":"PSDB002","name":"Orders Database","description":"Primary PostgreSQL cluster for orders","status":"critical","auto_resolve_timeout":null,"acknowledgement_timeout":1800,"created_at":"@-700d","last_incident_timestamp":"@-2h","alert_creation":"create_alerts_and_incidents",
  "escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}],
  "incident_urgency_rule":{"type":"constant","urgency":"high"},"integrations":[{"id":"PINTDB1","type":"events_api_v2_inbound_integration_reference","summary":"Prometheus Alertmanager"}],"alert_grouping_parameters":{"type":"time","config":{"timeout":5}}},
 {"id":"PSWEB03","name":"Web Frontend","description":"Customer-facing web application","status":"warning","auto_resolve_timeout":14400,"acknowledgement_timeout":null,"created_at":"@-500d","last_incident_timestamp":"@-1d","alert_creation":"create_alerts_and_incidents",
  "escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}],
  "incident_urgency_rule":{"type":"use_support_hours","during_support_hours":{"type":"constant","urgency":"high"},"outside_support_hours":{"type":"constant","urgency":"low"}},"integrations":[],"alert_grouping_parameters":{"type":"intelligent"}}
],
"incidents": [
 {"id":"PINC0DB","incident_number":1,"title":"Orders DB connection pool exhausted","description":"Orders DB connection pool exhausted","status":"triggered","urgency":"high","incident_key":"orders-db-pool-exhausted","created_at":"@-2h","updated_at":"@-2h","last_status_change_at":"@-2h","resolved_at":null,
  "service":{"id":"PSDB002","type":"service_reference"},"escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}],
  "priority":{"id":"PSLWBL8","type":"priority_reference"},"assignments":[{"at":"@-2h","assignee":{"id":"PB0B4X2","type":"user_reference"}}],"acknowledgements":[],
  "alert_counts":{"all":2,"triggered":2,"resolved":0},"_body":{"type":"incident_body","details":"pgbouncer reports 0 free connections in pool orders_rw"},"incident_type":{"name":"incident_default"},"is_mergeable":true,"pending_actions":[],"incidents_responders":[],"responder_requests":[],"assigned_via":"escalation_policy"},
 {"id":"PINC1CK","incident_number":2,"title":"Checkout latency p99 above 2s","description":"Checkout latency p99 above 2s","status":"acknowledged","urgency":"high","incident_key":"checkout-latency-p99","created_at":"@-20m","updated_at":"@-10m","last_status_change_at":"@-10m","resolved_at":null,
  "service":{"id":"PSAPI01","type":"service_reference"},"escalation_policy":{"id":"PEPPAY2","type":"escalation_policy_reference"},"teams":[{"id":"PTPAYM2","type":"team_reference"}],
  "priority":{"id":"P53ZZH5","type":"priority_reference"},"assignments":[{"at":"@-20m","assignee":{"id":"PC4R0L9","type":"user_reference"}}],"acknowledgements":[{"at":"@-10m","acknowledger":{"id":"PC4R0L9","type":"user_reference"}}],
  "alert_counts":{"all":1,"triggered":1,"resolved":0},"_body":{"type":"incident_body","details":"p99 latency of POST /v1/checkout is 2.4s over 10 minutes"},"incident_type":{"name":"incident_default"},"is_mergeable":true,"pending_actions":[],"incidents_responders":[],"responder_requests":[],"assigned_via":"escalation_policy"},
 {"id":"PINC2WB","incident_number":3,"title":"Web frontend 5xx error rate above 5%","description":"Web frontend 5xx error rate above 5%","status":"resolved","urgency":"high","incident_key":"web-5xx-rate","created_at":"@-1d","updated_at":"@-23h","last_status_change_at":"@-23h","resolved_at":"@-23h",
  "service":{"id":"PSWEB03","type":"service_reference"},"escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}],
  "priority":null,"assignments":[],"acknowledgements":[],
  "alert_counts":{"all":1,"triggered":0,"resolved":1},"_body":{"type":"incident_body","details":"Error rate 7.2% after deploy web-2024.11.3"},"incident_type":{"name":"incident_default"},"is_mergeable":true,"pending_actions":[],"incidents_responders":[],"responder_requests":[],"assigned_via":"escalation_policy"},
 {"id":"PINC3TL","incident_number":4,"title":"TLS certificate for www.acme.example expires in 7 days","description":"TLS certificate for www.acme.example expires in 7 days","status":"triggered","urgency":"low","incident_key":"tls-expiry-www","created_at":"@-5h","updated_at":"@-5h","last_status_change_at":"@-5h","resolved_at":null,
  "service":{"id":"PSWEB03","type":"service_reference"},"escalation_policy":{"id":"PEPPLA1","type":"escalation_policy_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}],
  "priority":{"id":"PVJPWYW","type":"priority_reference"},"assignments":[{"at":"@-5h","assignee":{"id":"PAL1CE7","type":"user_reference"}}],"acknowledgements":[],
  "alert_counts":{"all":1,"triggered":1,"resolved":0},"_body":{"type":"incident_body","details":"certificate CN=www.acme.example notAfter in 7 days"},"incident_type":{"name":"incident_default"},"is_mergeable":true,"pending_actions":[],"incidents_responders":[],"responder_requests":[],"assigned_via":"escalation_policy"}
],
"alerts": [
 {"id":"PALRT01","_incident_id":"PINC0DB","summary":"pgbouncer pool orders_rw has 0 free connections","status":"triggered","severity":"critical","alert_key":"orders-db-pool-exhausted","created_at":"@-2h","suppressed":false,"service":{"id":"PSDB002","type":"service_reference"},"incident":{"id":"PINC0DB","type":"incident_reference"},"body":{"type":"alert_body","contexts":[],"details":{"pool":"orders_rw","free":0,"host":"db-orders-1"}}},
 {"id":"PALRT02","_incident_id":"PINC0DB","summary":"orders-api: timeouts acquiring DB connection","status":"triggered","severity":"error","alert_key":"orders-db-pool-exhausted","created_at":"@-115m","suppressed":false,"service":{"id":"PSDB002","type":"service_reference"},"incident":{"id":"PINC0DB","type":"incident_reference"},"body":{"type":"alert_body","contexts":[],"details":{"errors_per_minute":412}}},
 {"id":"PALRT03","_incident_id":"PINC1CK","summary":"Checkout p99 latency 2.4s","status":"triggered","severity":"warning","alert_key":"checkout-latency-p99","created_at":"@-20m","suppressed":false,"service":{"id":"PSAPI01","type":"service_reference"},"incident":{"id":"PINC1CK","type":"incident_reference"},"body":{"type":"alert_body","contexts":[],"details":{"p99_ms":2400}}},
 {"id":"PALRT04","_incident_id":"PINC2WB","summary":"5xx rate 7.2% on web","status":"resolved","severity":"critical","alert_key":"web-5xx-rate","created_at":"@-1d","suppressed":false,"service":{"id":"PSWEB03","type":"service_reference"},"incident":{"id":"PINC2WB","type":"incident_reference"},"body":{"type":"alert_body","contexts":[],"details":{"rate":0.072}}},
 {"id":"PALRT05","_incident_id":"PINC3TL","summary":"Certificate www.acme.example expires in 7 days","status":"triggered","severity":"warning","alert_key":"tls-expiry-www","created_at":"@-5h","suppressed":false,"service":{"id":"PSWEB03","type":"service_reference"},"incident":{"id":"PINC3TL","type":"incident_reference"},"body":{"type":"alert_body","contexts":[],"details":{"days_left":7}}}
],
"notes": [
 {"id":"PNOTE01","_incident_id":"PINC0DB","user":{"id":"PB0B4X2","type":"user_reference"},"channel":{"summary":"The PagerDuty website or APIs"},"content":"Looking at pgbouncer stats; long-running analytics query suspected.","created_at":"@-100m","updated_at":"@-100m"}
],
"log_entries": [
 {"id":"R2XGXEI3W8FRIA2ZV6ZEQ4TRPB","type":"trigger_log_entry","summary":"Triggered through the API","created_at":"@-2h","channel":{"type":"api"},"agent":{"id":"PSDB002","type":"service_reference"},"incident":{"id":"PINC0DB","type":"incident_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"R0ANNOTATE0000000000000001","type":"annotate_log_entry","summary":"Note added","created_at":"@-100m","channel":{"type":"web_ui"},"agent":{"id":"PB0B4X2","type":"user_reference"},"incident":{"id":"PINC0DB","type":"incident_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"R1TRIGGER00000000000000002","type":"trigger_log_entry","summary":"Triggered through the API","created_at":"@-20m","channel":{"type":"api"},"agent":{"id":"PSAPI01","type":"service_reference"},"incident":{"id":"PINC1CK","type":"incident_reference"},"teams":[{"id":"PTPAYM2","type":"team_reference"}]},
 {"id":"R1ACK000000000000000000002","type":"acknowledge_log_entry","summary":"Acknowledged by Carol Oncall","created_at":"@-10m","channel":{"type":"mobile"},"agent":{"id":"PC4R0L9","type":"user_reference"},"incident":{"id":"PINC1CK","type":"incident_reference"},"teams":[{"id":"PTPAYM2","type":"team_reference"}]},
 {"id":"R2TRIGGER00000000000000003","type":"trigger_log_entry","summary":"Triggered through the API","created_at":"@-1d","channel":{"type":"api"},"agent":{"id":"PSWEB03","type":"service_reference"},"incident":{"id":"PINC2WB","type":"incident_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"R2RESOLVE00000000000000003","type":"resolve_log_entry","summary":"Resolved by Bob Responder","created_at":"@-23h","channel":{"type":"web_ui"},"agent":{"id":"PB0B4X2","type":"user_reference"},"incident":{"id":"PINC2WB","type":"incident_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"R3TRIGGER00000000000000004","type":"trigger_log_entry","summary":"Triggered through the API","created_at":"@-5h","channel":{"type":"api"},"agent":{"id":"PSWEB03","type":"service_reference"},"incident":{"id":"PINC3TL","type":"incident_reference"},"teams":[{"id":"PTPLAT1","type":"team_reference"}]}
],
"maintenance_windows": [
 {"id":"PMW0001","sequence_number":1,"description":"Orders DB minor version upgrade","start_time":"@+2d","end_time":"@+50h","created_by":{"id":"PAL1CE7","type":"user_reference"},"services":[{"id":"PSDB002","type":"service_reference"}],"teams":[{"id":"PTPLAT1","type":"team_reference"}]}
],
"business_services": [
 {"id":"PBSCHK1","name":"Online Checkout","description":"Customers can buy things on the website","point_of_contact":"payments@acme.example","team":{"id":"PTPAYM2","type":"team_reference"}}
],
"service_dependencies": [
 {"id":"D1CHKAPI00000001","type":"service_dependency","supporting_service":{"id":"PSAPI01","type":"technical_service_reference"},"dependent_service":{"id":"PBSCHK1","type":"business_service_reference"}},
 {"id":"D2WEB0000000002","type":"service_dependency","supporting_service":{"id":"PSWEB03","type":"technical_service_reference"},"dependent_service":{"id":"PBSCHK1","type":"business_service_reference"}},
 {"id":"D3DB00000000003","type":"service_dependency","supporting_service":{"id":"PSDB002","type":"technical_service_reference"},"dependent_service":{"id":"PSAPI01","type":"technical_service_reference"}}
],
"change_events": [
 {"id":"01CE7WQ9V0M7YB8P3M5TQ2H4KX","type":"change_event","summary":"Deploy orders-api v2024.11.4","timestamp":"@-3h","source":"github-actions","integration":{"id":"PINTCH1","type":"inbound_integration_reference"},"services":[{"id":"PSDB002","type":"service_reference"},{"id":"PSAPI01","type":"service_reference"}],"custom_details":{"commit":"9f2c1e4","author":"bob"},"links":[{"href":"https://github.example/acme/orders-api/releases/v2024.11.4","text":"Release notes"}]},
 {"id":"01CE7WQ9V0M7YB8P3M5TQ2H4KY","type":"change_event","summary":"Raise pgbouncer default_pool_size to 40","timestamp":"@-26h","source":"terraform","integration":{"id":"PINTCH1","type":"inbound_integration_reference"},"services":[{"id":"PSDB002","type":"service_reference"}],"custom_details":{"plan":"1 to change"},"links":[]}
],
"extension_schemas": [
 {"id":"PJFWPEP","label":"Generic V2 Webhook","key":"generic_v2_webhook","description":"Send webhook notifications to any URL","guide_url":"https://developer.pagerduty.com","icon_url":"https://pd-static-assets.pagerduty.com/webhook-icon.png","logo_url":"https://pd-static-assets.pagerduty.com/webhook-logo.png","send_types":["trigger","acknowledge","resolve","delegate","escalate","unacknowledge","assign"],"url":""},
 {"id":"PSLK7QX","label":"Slack V2","key":"slack_v2","description":"Post incident updates to a Slack channel","guide_url":"https://www.pagerduty.com/docs/guides/slack-integration-guide","icon_url":"https://pd-static-assets.pagerduty.com/slack-icon.png","logo_url":"https://pd-static-assets.pagerduty.com/slack-logo.png","send_types":["trigger","acknowledge","resolve"],"url":""}
],
"incident_workflows": [
 {"id":"PWFLW01","name":"Major incident kickoff","description":"Opens a Slack channel, a conference bridge and notifies stakeholders","created_at":"@-90d","is_enabled":true,"team":{"id":"PTPLAT1","type":"team_reference"},
  "steps":[{"id":"PSTEP01","type":"step","name":"Create Slack channel","description":"Creates #inc-<number>","action_configuration":{"action_id":"pagerduty.com:slack:create-a-channel:3","description":"Create a Slack channel","inputs":[{"name":"Channel Name","parameter_type":"text","value":"inc-{{incident.number}}"}],"outputs":[]}}]},
 {"id":"PWFLW02","name":"Notify payments stakeholders","description":"Posts a status update to the payments stakeholders","created_at":"@-40d","is_enabled":true,"team":{"id":"PTPAYM2","type":"team_reference"},"steps":[]}
],
"webhook_subscriptions": [
 {"id":"PWHK001","type":"webhook_subscription","active":true,"description":"Incident events to the on-call bot","events":["incident.acknowledged","incident.annotated","incident.resolved","incident.triggered"],"filter":{"id":"PSDB002","type":"service_reference"},"delivery_method":{"id":"PDLVM01","type":"http_delivery_method","url":"https://hooks.acme.example/pagerduty","secret":null,"temporarily_disabled":false,"custom_headers":[]}}
],
"alert_grouping_settings": [
 {"id":"PAGS001","name":"Checkout content grouping","description":"Group checkout alerts by host","type":"content_based","config":{"time_window":900,"aggregate":"all","fields":["summary","custom_details.host"]},"services":[{"id":"PSAPI01","type":"service_reference"}],"created_at":"@-30d","updated_at":"@-30d"}
],
"status_pages": [
 {"id":"PSTPG01","name":"Acme Status","published_at":"@-300d","status_page_type":"public","url":"https://status.acme.example"}
],
"status_page_impacts": [
 {"id":"PIMP001","_status_page_id":"PSTPG01","description":"operational","post_type":"incident"},
 {"id":"PIMP002","_status_page_id":"PSTPG01","description":"partial outage","post_type":"incident"},
 {"id":"PIMP003","_status_page_id":"PSTPG01","description":"major outage","post_type":"incident"}
],
"status_page_severities": [
 {"id":"PSEV001","_status_page_id":"PSTPG01","description":"all good","post_type":"incident"},
 {"id":"PSEV002","_status_page_id":"PSTPG01","description":"minor","post_type":"incident"},
 {"id":"PSEV003","_status_page_id":"PSTPG01","description":"major","post_type":"incident"},
 {"id":"PSEV004","_status_page_id":"PSTPG01","description":"scheduled","post_type":"maintenance"}
],
"status_page_statuses": [
 {"id":"PSTS001","_status_page_id":"PSTPG01","description":"investigating","post_type":"incident"},
 {"id":"PSTS002","_status_page_id":"PSTPG01","description":"identified","post_type":"incident"},
 {"id":"PSTS003","_status_page_id":"PSTPG01","description":"resolved","post_type":"incident"},
 {"id":"PSTS004","_status_page_id":"PSTPG01","description":"scheduled","post_type":"maintenance"}
],
"status_page_posts": [
 {"id":"PSTPS01","_status_page_id":"PSTPG01","type":"status_page_post","post_type":"incident","title":"Degraded checkout performance","starts_at":"@-20m","ends_at":null,"status_page":{"id":"PSTPG01","type":"status_page"}}
],
"status_page_post_updates": [
 {"id":"PSTPU01","_status_page_id":"PSTPG01","_post_id":"PSTPS01","type":"status_page_post_update","message":"<p>We are investigating slow checkouts.</p>","reviewed_status":"approved","notify_subscribers":false,"reported_at":"@-15m","update_frequency_ms":1800000,
  "post":{"id":"PSTPS01","type":"status_page_post"},"severity":{"id":"PSEV002","type":"status_page_severity"},"status":{"id":"PSTS001","type":"status_page_status"},"impacted_services":[]}
],
"event_orchestrations": [
 {"id":"6c1a7f52-3d1c-4f2a-9a61-0c5a2b0e7d11","name":"Acme Global Orchestration","description":"Routes monitoring events to the right service","team":{"id":"PTPLAT1","type":"team_reference"},"routes":2,"created_at":"@-120d","updated_at":"@-7d","version":"1",
  "integrations":[{"id":"9c5ff030-12da-4204-a067-25ee61a8df6c","label":"Acme Global Orchestration Default Integration","parameters":{"routing_key":"R028DIE06SNKNO6V5ACSLRV7Y0TUVG7T","type":"global"}}]}
],
"orchestration_routers": [
 {"id":"6c1a7f52-3d1c-4f2a-9a61-0c5a2b0e7d11","type":"router","version":"1","created_at":"@-120d","updated_at":"@-7d",
  "sets":[{"id":"start","rules":[{"id":"1c26698b","label":"Database events","conditions":[{"expression":"event.summary matches part 'database'"}],"actions":{"route_to":"PSDB002"}},{"id":"d9801904","label":"Checkout events","conditions":[{"expression":"event.source matches part 'checkout'"}],"actions":{"route_to":"PSAPI01"}}]}],
  "catch_all":{"actions":{"route_to":"unrouted"}}}
],
"orchestration_globals": [
 {"id":"6c1a7f52-3d1c-4f2a-9a61-0c5a2b0e7d11","type":"global","version":"1","created_at":"@-120d","updated_at":"@-7d",
  "sets":[{"id":"start","rules":[{"id":"c91f72f3","label":"Tag every event with its environment","conditions":[],"actions":{"variables":[{"name":"env","path":"event.custom_details.env","value":".*","type":"regex"}]}}]}],
  "catch_all":{"actions":{}}}
],
"v3_schedules": [
 {"id":"PS3FOLL","name":"Follow the sun","time_zone":"UTC","description":"Shift-based coverage across three regions","teams":[{"id":"PTPLAT1","type":"team_reference"}]},
 {"id":"PS3WKND","name":"Weekend coverage","time_zone":"Europe/Berlin","description":"Saturday and Sunday shifts","teams":[]}
],
"v3_rotations": [
 {"id":"R0TAT10N0000000000000001A","_schedule_id":"PS3FOLL","type":"schedule_rotation","schedule":{"id":"PS3FOLL","type":"schedule_v3_reference"}}
],
"v3_events": [
 {"id":"EVENT00000000000000000001","_schedule_id":"PS3FOLL","_rotation_id":"R0TAT10N0000000000000001A","type":"schedule_event","name":"Weekly on-call",
  "start_time":{"date_time":"@-14d","time_zone":"UTC"},"end_time":{"date_time":"@-7d","time_zone":"UTC"},"effective_since":"@-14d","effective_until":null,"recurrence":["RRULE:FREQ=WEEKLY"],
  "assignment_strategy":{"type":"rotating_member_assignment_strategy","shifts_per_member":1,"members":[{"type":"user_member","user_id":"PAL1CE7"},{"type":"user_member","user_id":"PB0B4X2"}]}}
],
"v3_custom_shifts": [
 {"id":"CUST0MSH1FT00000000000001","_schedule_id":"PS3FOLL","type":"custom_shift","start_time":"@+1d","end_time":"@+33h","assignments":[{"id":"AGOQEAQOOJ3UDGC22OGLXLIRY4","type":"shift_assignment","member":{"type":"user_member","user_id":"PB0B4X2"}}]}
],
"v3_overrides": [
 {"id":"0VERR1DE00000000000000001","_schedule_id":"PS3FOLL","type":"override_shift","rotation_id":"R0TAT10N0000000000000001A","start_time":"@+2d","end_time":"@+58h","overridden_member":{"type":"user_member","user_id":"PAL1CE7"},"overriding_member":{"type":"user_member","user_id":"PB0B4X2"}}
]
})json";

// "@-2h" -> now - 2h. Units: m, h, d.
bool ResolveRelativeTime(absl::string_view text, absl::Time now, std::string* out) {
  if (!absl::ConsumePrefix(&text, "@") || text.size() < 3) return false;
  char unit = text.back();
  int64_t amount;
  if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &amount)) return false;
  absl::Duration d = unit == 'm' ? absl::Minutes(amount)
                     : unit == 'h' ? absl::Hours(amount)
                     : unit == 'd' ? absl::Hours(24 * amount)
                                   : absl::InfiniteDuration();
  if (d == absl::InfiniteDuration()) return false;
  *out = Iso(now + d);
  return true;
}

void ResolveTimes(json::value& v, absl::Time now) {
  if (v.is_string()) {
    std::string resolved;
    json::string& s = v.as_string();
    if (ResolveRelativeTime(absl::string_view(s.data(), s.size()), now, &resolved)) s = resolved;
  } else if (v.is_array()) {
    for (json::value& item : v.as_array()) ResolveTimes(item, now);
  } else if (v.is_object()) {
    for (auto& member : v.as_object()) ResolveTimes(member.value(), now);
  }
}

}  // namespace

std::string IdGenerator::Classic() { return absl::StrCat("P", Long(6)); }

std::string IdGenerator::Long(int length) {
  std::string out;
  for (int i = 0; i < length; ++i) out.push_back(kIdAlphabet[rng_() % (sizeof(kIdAlphabet) - 1)]);
  return out;
}

std::string Iso(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

absl::string_view Str(const boost::json::value* v) {
  if (v == nullptr || !v->is_string()) return "";
  return absl::string_view(v->as_string().data(), v->as_string().size());
}

absl::string_view Str(const Object& o, absl::string_view key) {
  return Str(o.if_contains(json::string_view(key.data(), key.size())));
}

Object Reference(const Object& entity, absl::string_view ref_type) {
  Object ref;
  ref["id"] = entity.contains("id") ? entity.at("id") : json::value(nullptr);
  ref["type"] = json::string_view(ref_type.data(), ref_type.size());
  for (const char* key : {"summary", "self", "html_url"}) {
    if (const json::value* v = entity.if_contains(key)) ref[key] = *v;
  }
  return ref;
}

Object Render(const Object& entity) {
  Object out;
  for (const auto& member : entity) {
    if (member.key().empty() || member.key()[0] != '_') out.emplace(member.key(), member.value());
  }
  return out;
}

Account::Account(uint64_t seed, absl::Time now, std::string subdomain)
    : ids_(seed), web_base_(absl::StrCat("https://", subdomain, ".pagerduty.com")) {
  Seed(now);
}

Object* Account::Find(absl::string_view collection, absl::string_view id) {
  auto it = collections_.find(std::string(collection));
  if (it == collections_.end()) return nullptr;
  for (Object& o : it->second) {
    if (Str(o, "id") == id) return &o;
  }
  return nullptr;
}

bool Account::Erase(absl::string_view collection, absl::string_view id) {
  std::vector<Object>& items = Items(collection);
  auto it = std::find_if(items.begin(), items.end(), [&](const Object& o) { return Str(o, "id") == id; });
  if (it == items.end()) return false;
  items.erase(it);
  return true;
}

// Fills type, summary, self and html_url the way PagerDuty does for this kind of object, and
// expands every nested "*_reference" it can resolve.
Object& Account::Add(absl::string_view collection, Object object) {
  std::vector<Object>& items = Items(collection);
  items.push_back(std::move(object));
  Object& o = items.back();
  if (const Kind* kind = KindOfCollection(collection)) {
    std::string id(Str(o, "id"));
    if (!o.contains("type")) o["type"] = kind->type;
    if (!o.contains("summary")) {
      if (collection == "incidents") {
        o["summary"] = absl::StrCat("[#", o["incident_number"].to_number<int64_t>(), "] ", Str(o, "title"));
      } else if (!Str(o, "name").empty()) {
        o["summary"] = o["name"];
      } else if (!Str(o, "label").empty()) {
        o["summary"] = o["label"];
      } else if (!Str(o, "description").empty()) {
        o["summary"] = o["description"];
      }
    }
    o["self"] = absl::StrCat(kApiBase, "/", kind->api_path, "/", id);
    if (*kind->html_path != '\0') {
      o["html_url"] = absl::StrCat(web_base_, "/", kind->html_path, "/", id);
    } else if (!o.contains("html_url")) {
      o["html_url"] = nullptr;
    }
  }
  return o;
}

// Turns {"id","type":"x_reference"} members into full references with summary and links.
void ExpandReferences(Account& account, json::value& v) {
  if (v.is_array()) {
    for (json::value& item : v.as_array()) ExpandReferences(account, item);
    return;
  }
  if (!v.is_object()) return;
  Object& o = v.as_object();
  absl::string_view type = Str(o, "type");
  if (const Kind* kind = KindOfReference(type); kind != nullptr && o.contains("id")) {
    if (const Object* target = account.Find(kind->collection, Str(o, "id"))) {
      for (const char* key : {"summary", "self", "html_url"}) {
        if (const json::value* field = target->if_contains(key)) o[key] = *field;
      }
    }
    return;
  }
  for (auto& member : o) ExpandReferences(account, member.value());
}

void Account::Seed(absl::Time now) {
  json::error_code ec;
  json::value seed = json::parse(kSeedJson, ec);
  BASTION_CHECK(!ec);  // The seed is a constant of this file.
  ResolveTimes(seed, now);
  // Users, teams and services first: the other objects' references point at them.
  for (auto& member : seed.as_object()) {
    for (json::value& item : member.value().as_array()) {
      Add(absl::string_view(member.key().data(), member.key().size()), std::move(item.as_object()));
    }
  }
  for (auto& [name, items] : collections_) {
    for (Object& o : items) {
      for (auto& member : o) {
        if (member.key() != "self" && member.key() != "html_url") {
          json::value& value = member.value();
          ExpandReferences(*this, value);
        }
      }
    }
  }
  // Users carry contact methods and notification rules like real accounts do.
  for (Object& user : Items("users")) {
    std::string id(Str(user, "id"));
    user["avatar_url"] = "https://secure.gravatar.com/avatar/0?d=mm&r=PG";
    user["invitation_sent"] = false;
    user["contact_methods"] = json::array{Object{
        {"id", absl::StrCat("PCM", id.substr(1, 4))},
        {"type", "email_contact_method_reference"},
        {"summary", "Default"},
        {"self", absl::StrCat(kApiBase, "/users/", id, "/contact_methods/PCM", id.substr(1, 4))}}};
    user["notification_rules"] = json::array{};
  }
  for (Object& incident : Items("incidents")) {
    for (const Object& entry : Items("log_entries")) {
      const json::value* ref = entry.if_contains("incident");
      if (ref != nullptr && Str(ref->as_object(), "id") == Str(incident, "id") &&
          Str(entry, "type") == "trigger_log_entry") {
        incident["first_trigger_log_entry"] = Reference(entry, "trigger_log_entry_reference");
        break;
      }
    }
  }
  for (Object& entry : Items("log_entries")) {
    std::string incident_id(Str(entry.at("incident").as_object(), "id"));
    entry["self"] = absl::StrCat(kApiBase, "/log_entries/", Str(entry, "id"), "?incident_id=", incident_id);
    entry["html_url"] = absl::StrCat(web_base_, "/incidents/", incident_id, "/log_entries/", Str(entry, "id"));
  }
  for (Object& alert : Items("alerts")) {
    alert["type"] = "alert";
    alert["self"] = absl::StrCat(kApiBase, "/incidents/", Str(alert, "_incident_id"), "/alerts/", Str(alert, "id"));
    alert["html_url"] = absl::StrCat(web_base_, "/alerts/", Str(alert, "id"));
  }
  struct Child {
    const char* collection;
    const char* path;
    const char* type;
  };
  for (const Child& child : {Child{"status_page_impacts", "impacts", "status_page_impact"},
                             Child{"status_page_severities", "severities", "status_page_severity"},
                             Child{"status_page_statuses", "statuses", "status_page_status"}}) {
    for (Object& o : Items(child.collection)) {
      std::string page(Str(o, "_status_page_id"));
      o["type"] = child.type;
      o["self"] = absl::StrCat(kApiBase, "/status_pages/", page, "/", child.path, "/", Str(o, "id"));
      o["status_page"] = Object{{"id", page}, {"type", "status_page"}};
    }
  }
  for (Object& post : Items("status_page_posts")) {
    post["self"] = absl::StrCat(kApiBase, "/status_pages/", Str(post, "_status_page_id"), "/posts/", Str(post, "id"));
  }
  for (Object& update : Items("status_page_post_updates")) {
    update["self"] = absl::StrCat(kApiBase, "/status_pages/", Str(update, "_status_page_id"), "/posts/",
                                  Str(update, "_post_id"), "/post_updates/", Str(update, "id"));
  }
  next_incident_number_ = static_cast<int>(Items("incidents").size()) + 1;
}

}  // namespace bastion::pagerduty_sim
