// Incidents and what hangs off them: alerts, notes, log entries, responders, related incidents.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim::internal {

namespace json = boost::json;

namespace {

bool IsOpen(const Object& incident) { return Str(incident, "status") != "resolved"; }

// PagerDuty returns an incident's body only when asked with include[]=body.
Object RenderIncident(const Call& c, const Object& incident) {
  Object out = Render(incident);
  std::vector<std::string> include = c.QueryList("include");
  if (std::find(include.begin(), include.end(), "body") != include.end() && incident.contains("_body")) {
    out["body"] = incident.at("_body");
  }
  return out;
}

Object ActorRef(Call& c) {
  std::string user = c.ActingUserId();
  if (!user.empty()) return UserRef(c.account, user);
  return Object{{"id", nullptr}, {"type", "api_token_reference"}, {"summary", "API token"}};
}

void LogEntry(Call& c, Object& incident, absl::string_view type, absl::string_view summary) {
  Object entry{{"id", c.account.ids().Long(26)},
               {"type", J(type)},
               {"summary", J(summary)},
               {"created_at", Iso(c.now)},
               {"channel", Object{{"type", "api"}}},
               {"agent", ActorRef(c)},
               {"incident", Reference(incident, "incident_reference")},
               {"teams", incident.contains("teams") ? incident["teams"] : json::array{}}};
  std::string id(Str(entry, "id"));
  entry["self"] = absl::StrCat(kApiBase, "/log_entries/", id, "?incident_id=", Str(incident, "id"));
  entry["html_url"] =
      absl::StrCat(c.account.web_base(), "/incidents/", Str(incident, "id"), "/log_entries/", id);
  c.account.Items("log_entries").push_back(std::move(entry));
}

std::string ActorName(Call& c) {
  std::string user = c.ActingUserId();
  if (const Object* u = user.empty() ? nullptr : c.account.Find("users", user)) {
    return std::string(Str(*u, "name"));
  }
  return "API";
}

void RecountAlerts(Call& c, Object& incident) {
  int all = 0, triggered = 0, resolved = 0;
  for (const Object& alert : c.account.Items("alerts")) {
    if (Str(alert, "_incident_id") != Str(incident, "id")) continue;
    ++all;
    (Str(alert, "status") == "resolved" ? resolved : triggered)++;
  }
  incident["alert_counts"] = Object{{"all", all}, {"triggered", triggered}, {"resolved", resolved}};
}

// Validates the user references in `assignments` and stamps them; an error message or "".
std::string ParseAssignments(Call& c, const json::value& given, json::array* out) {
  if (!given.is_array()) return "assignments must be an array";
  for (const json::value& a : given.as_array()) {
    absl::string_view user = a.is_object() ? RefId(a.as_object(), "assignee") : "";
    if (user.empty() || c.account.Find("users", user) == nullptr) {
      return absl::StrCat("Assignee ", user, " is not a user in this account");
    }
    out->push_back(Object{{"at", Iso(c.now)}, {"assignee", UserRef(c.account, user)}});
  }
  return "";
}

// Applies one incident update (PUT /incidents/{id} or one item of PUT /incidents).
std::optional<ApiReply> ApplyUpdate(Call& c, Object& incident, const Object& patch) {
  absl::string_view type = Str(patch, "type");
  if (type != "incident" && type != "incident_reference") {
    return Invalid({"incident type must be \"incident\" or \"incident_reference\""});
  }
  std::string name = ActorName(c);
  if (const json::value* status = patch.if_contains("status")) {
    absl::string_view s = Str(status);
    if (s != "acknowledged" && s != "resolved") {
      return Invalid({"status must be \"acknowledged\" or \"resolved\""});
    }
    if (!IsOpen(incident)) return Invalid({"Incident Already Resolved"});
    if (s == "acknowledged" && Str(incident, "status") != "acknowledged") {
      incident["status"] = "acknowledged";
      json::value& acks = incident["acknowledgements"];
      if (!acks.is_array()) acks = json::array{};
      acks.as_array().push_back(Object{{"at", Iso(c.now)}, {"acknowledger", ActorRef(c)}});
      incident["last_status_change_at"] = Iso(c.now);
      LogEntry(c, incident, "acknowledge_log_entry", absl::StrCat("Acknowledged by ", name));
    } else if (s == "resolved") {
      incident["status"] = "resolved";
      incident["resolved_at"] = Iso(c.now);
      incident["last_status_change_at"] = Iso(c.now);
      incident["assignments"] = json::array{};
      for (Object& alert : c.account.Items("alerts")) {
        if (Str(alert, "_incident_id") == Str(incident, "id")) alert["status"] = "resolved";
      }
      RecountAlerts(c, incident);
      LogEntry(c, incident, "resolve_log_entry", absl::StrCat("Resolved by ", name));
    }
  }
  if (const json::value* urgency = patch.if_contains("urgency")) {
    if (Str(urgency) != "high" && Str(urgency) != "low") return Invalid({"urgency must be \"high\" or \"low\""});
    incident["urgency"] = *urgency;
    LogEntry(c, incident, "urgency_change_log_entry", absl::StrCat("Urgency changed to ", Str(urgency)));
  }
  if (const json::value* title = patch.if_contains("title")) {
    if (Str(title).empty()) return Invalid({"title can't be blank"});
    incident["title"] = *title;
    incident["summary"] = absl::StrCat("[#", incident["incident_number"].to_number<int64_t>(), "] ", Str(title));
  }
  if (const json::value* priority = patch.if_contains("priority")) {
    if (priority->is_null()) {
      incident["priority"] = nullptr;
    } else {
      absl::string_view id = priority->is_object() ? Str(priority->as_object(), "id") : "";
      const Object* p = c.account.Find("priorities", id);
      if (p == nullptr) return Invalid({absl::StrCat("Priority ", id, " not found")});
      incident["priority"] = Reference(*p, "priority_reference");
    }
  }
  if (const json::value* assignments = patch.if_contains("assignments")) {
    json::array parsed;
    std::string error = ParseAssignments(c, *assignments, &parsed);
    if (!error.empty()) return Invalid({error});
    if (!IsOpen(incident)) return Invalid({"Incident Already Resolved"});
    incident["assignments"] = std::move(parsed);
    LogEntry(c, incident, "assign_log_entry", absl::StrCat("Reassigned by ", name));
  }
  if (const json::value* level = patch.if_contains("escalation_level")) {
    if (!level->is_int64() || level->as_int64() < 1) return Invalid({"escalation_level must be a positive integer"});
    const Object* policy = c.account.Find("escalation_policies", RefId(incident, "escalation_policy"));
    const json::value* rules = policy ? policy->if_contains("escalation_rules") : nullptr;
    if (rules == nullptr || !rules->is_array() || level->as_int64() > static_cast<int64_t>(rules->as_array().size())) {
      return Invalid({"escalation_level is beyond the escalation policy's last rule"});
    }
    if (!IsOpen(incident)) return Invalid({"Incident Already Resolved"});
    json::array assignments;
    for (const std::string& user : LevelUsers(c.account, *policy, static_cast<int>(level->as_int64()), c.now)) {
      assignments.push_back(Object{{"at", Iso(c.now)}, {"assignee", UserRef(c.account, user)}});
    }
    incident["assignments"] = std::move(assignments);
    LogEntry(c, incident, "escalate_log_entry",
             absl::StrCat("Escalated to level ", level->as_int64(), " by ", name));
  }
  if (const json::value* policy = patch.if_contains("escalation_policy")) {
    absl::string_view id = policy->is_object() ? Str(policy->as_object(), "id") : "";
    const Object* p = c.account.Find("escalation_policies", id);
    if (p == nullptr) return Invalid({absl::StrCat("Escalation policy ", id, " not found")});
    incident["escalation_policy"] = Reference(*p, "escalation_policy_reference");
  }
  if (const json::value* resolution = patch.if_contains("resolution")) incident["resolution"] = *resolution;
  if (const json::value* bridge = patch.if_contains("conference_bridge")) incident["conference_bridge"] = *bridge;
  incident["updated_at"] = Iso(c.now);
  return std::nullopt;
}

std::vector<json::value> IncidentSummaries(const std::vector<const Object*>& incidents,
                                           absl::string_view wrapper_extra) {
  std::vector<json::value> out;
  for (const Object* i : incidents) {
    Object item{{"incident",
                 Object{{"id", i->at("id")}, {"created_at", i->at("created_at")}, {"self", i->at("self")},
                        {"title", i->at("title")}}}};
    if (wrapper_extra == "score") item["score"] = 42.5;
    out.emplace_back(std::move(item));
  }
  return out;
}

ApiReply ListIncidents(Call& c) {
  std::vector<std::string> statuses = c.QueryList("statuses");
  std::vector<std::string> services = c.QueryList("service_ids");
  std::vector<std::string> teams = c.QueryList("team_ids");
  std::vector<std::string> users = c.QueryList("user_ids");
  std::vector<std::string> urgencies = c.QueryList("urgencies");
  std::optional<std::string> key = c.Query("incident_key");
  std::optional<absl::Time> since, until;
  if (auto s = c.Query("since")) {
    if (!(since = ParseTime(*s))) return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
  }
  if (auto u = c.Query("until")) {
    if (!(until = ParseTime(*u))) return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
  }
  if (since && until && *until < *since) return ErrorReply(400, 2005, "Invalid Query Date Range");
  auto in = [](const std::vector<std::string>& list, absl::string_view v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  std::vector<const Object*> matched;
  for (const Object& i : c.account.Items("incidents")) {
    if (!in(statuses, Str(i, "status")) || !in(services, RefId(i, "service")) ||
        !in(urgencies, Str(i, "urgency"))) {
      continue;
    }
    if (key && Str(i, "incident_key") != *key) continue;
    if (!teams.empty() && std::none_of(teams.begin(), teams.end(), [&](const std::string& t) { return HasRef(i, "teams", t); })) {
      continue;
    }
    if (!users.empty()) {
      bool assigned = false;
      for (const json::value& a : i.at("assignments").as_array()) {
        if (in(users, RefId(a.as_object(), "assignee"))) assigned = true;
      }
      if (!assigned) continue;
    }
    std::optional<absl::Time> created = ParseTime(Str(i, "created_at"));
    if (since && created && *created < *since) continue;
    if (until && created && *created >= *until) continue;
    matched.push_back(&i);
  }
  if (auto sort = c.Query("sort_by"); sort && absl::EndsWith(*sort, ":desc")) {
    std::reverse(matched.begin(), matched.end());
  }
  std::vector<json::value> items;
  for (const Object* i : matched) items.emplace_back(RenderIncident(c, *i));
  return OffsetPage(c, "incidents", std::move(items));
}

ApiReply CreateIncident(Call& c) {
  Object* in = c.Wrapped("incident");
  if (in == nullptr) return Invalid({"incident is required"});
  if (Str(*in, "type") != "incident") return Invalid({"incident type must be \"incident\""});
  if (Str(*in, "title").empty()) return Invalid({"Incident title can't be blank"});
  const Object* service = c.account.Find("services", RefId(*in, "service"));
  if (service == nullptr) return Invalid({"Service not found: incident.service must reference a service"});
  absl::string_view urgency = in->contains("urgency") ? Str(*in, "urgency") : "high";
  if (urgency != "high" && urgency != "low") return Invalid({"urgency must be \"high\" or \"low\""});
  std::string key(Str(*in, "incident_key"));
  if (!key.empty()) {
    for (const Object& other : c.account.Items("incidents")) {
      if (IsOpen(other) && Str(other, "incident_key") == key && RefId(other, "service") == Str(*service, "id")) {
        return Invalid({"Open incident with matching dedup key already exists on this service"});
      }
    }
  }
  const Object* policy = c.account.Find("escalation_policies", in->contains("escalation_policy")
                                                                   ? RefId(*in, "escalation_policy")
                                                                   : RefId(*service, "escalation_policy"));
  if (policy == nullptr) return Invalid({"Escalation policy not found"});
  json::value priority = nullptr;
  if (in->contains("priority") && !in->at("priority").is_null()) {
    const Object* p = c.account.Find("priorities", RefId(*in, "priority"));
    if (p == nullptr) return Invalid({"Priority not found"});
    priority = Reference(*p, "priority_reference");
  }
  json::array assignments;
  if (const json::value* given = in->if_contains("assignments")) {
    std::string error = ParseAssignments(c, *given, &assignments);
    if (!error.empty()) return Invalid({error});
  } else {
    for (const std::string& user : LevelUsers(c.account, *policy, 1, c.now)) {
      assignments.push_back(Object{{"at", Iso(c.now)}, {"assignee", UserRef(c.account, user)}});
    }
  }
  // PagerDuty takes details as text or as an object (monitoring payloads) and keeps either.
  json::value details = "";
  if (const json::value* body = in->if_contains("body"); body && body->is_object()) {
    if (const json::value* d = body->as_object().if_contains("details")) details = *d;
  }
  std::string id = c.account.ids().Classic();
  if (key.empty()) key = c.account.ids().Long(32);
  Object incident{{"id", id},
                  {"incident_number", c.account.NextIncidentNumber()},
                  {"title", in->at("title")},
                  {"description", in->at("title")},
                  {"status", "triggered"},
                  {"urgency", J(urgency)},
                  {"incident_key", key},
                  {"created_at", Iso(c.now)},
                  {"updated_at", Iso(c.now)},
                  {"last_status_change_at", Iso(c.now)},
                  {"resolved_at", nullptr},
                  {"service", Reference(*service, "service_reference")},
                  {"escalation_policy", Reference(*policy, "escalation_policy_reference")},
                  {"teams", service->contains("teams") ? service->at("teams") : json::array{}},
                  {"priority", priority},
                  {"assignments", std::move(assignments)},
                  {"acknowledgements", json::array{}},
                  {"assigned_via", "escalation_policy"},
                  {"_body", Object{{"type", "incident_body"}, {"details", details}}},
                  {"incident_type", in->contains("incident_type") ? in->at("incident_type")
                                                                  : json::value(Object{{"name", "incident_default"}})},
                  {"is_mergeable", true},
                  {"pending_actions", json::array{}},
                  {"incidents_responders", json::array{}},
                  {"responder_requests", json::array{}}};
  Object& stored = c.account.Add("incidents", std::move(incident));
  Object alert{{"id", c.account.ids().Classic()},
               {"_incident_id", id},
               {"type", "alert"},
               {"summary", stored.at("title")},
               {"status", "triggered"},
               {"severity", urgency == "high" ? "critical" : "warning"},
               {"alert_key", key},
               {"created_at", Iso(c.now)},
               {"suppressed", false},
               {"service", stored.at("service")},
               {"incident", Reference(stored, "incident_reference")},
               {"body", Object{{"type", "alert_body"}, {"contexts", json::array{}}, {"details", details}}}};
  alert["self"] = absl::StrCat(kApiBase, "/incidents/", id, "/alerts/", Str(alert, "id"));
  alert["html_url"] = absl::StrCat(c.account.web_base(), "/alerts/", Str(alert, "id"));
  c.account.Items("alerts").push_back(std::move(alert));
  RecountAlerts(c, stored);
  LogEntry(c, stored, "trigger_log_entry", "Triggered through the API");
  stored["first_trigger_log_entry"] = Reference(c.account.Items("log_entries").back(), "trigger_log_entry_reference");
  return EntityReply(201, "incident", stored);
}

ApiReply UpdateIncident(Call& c) {
  Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  Object* patch = c.Wrapped("incident");
  if (patch == nullptr) return Invalid({"incident is required"});
  if (auto error = ApplyUpdate(c, *incident, *patch)) return *error;
  return EntityReply(200, "incident", *incident);
}

ApiReply BulkUpdateIncidents(Call& c) {
  const json::value* list = c.body.is_object() ? c.body.as_object().if_contains("incidents") : nullptr;
  if (list == nullptr || !list->is_array() || list->as_array().empty()) {
    return Invalid({"incidents must be a non-empty array"});
  }
  if (list->as_array().size() > 250) return ErrorReply(413, 2001, "Request Entity Too Large");
  std::vector<Object*> targets;
  for (const json::value& item : list->as_array()) {
    Object* incident = item.is_object() ? c.account.Find("incidents", Str(item.as_object(), "id")) : nullptr;
    if (incident == nullptr) return Invalid({"Incident Not Found"});
    targets.push_back(incident);
  }
  std::vector<json::value> updated;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (auto error = ApplyUpdate(c, *targets[i], list->as_array()[i].as_object())) return *error;
    updated.emplace_back(Render(*targets[i]));
  }
  return OffsetPage(c, "incidents", std::move(updated));
}

ApiReply AddNote(Call& c) {
  Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  Object* note = c.Wrapped("note");
  if (note == nullptr || Str(*note, "content").empty()) return Invalid({"Note content can't be blank"});
  Object stored{{"id", c.account.ids().Classic()},
                {"_incident_id", c.Param("id")},
                {"user", ActorRef(c)},
                {"channel", Object{{"summary", "The PagerDuty website or APIs"}}},
                {"content", note->at("content")},
                {"created_at", Iso(c.now)},
                {"updated_at", Iso(c.now)}};
  c.account.Items("notes").push_back(stored);
  LogEntry(c, *incident, "annotate_log_entry", "Note added");
  return EntityReply(200, "note", stored);
}

ApiReply ListNotes(Call& c) {
  if (c.account.Find("incidents", c.Param("id")) == nullptr) return NotFound();
  json::array notes;
  for (const Object& n : c.account.Items("notes")) {
    if (Str(n, "_incident_id") == c.Param("id")) notes.push_back(Render(n));
  }
  return JsonReply(200, Object{{"notes", std::move(notes)}});
}

ApiReply AddResponders(Call& c) {
  Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  if (!c.body.is_object()) return Invalid({"requester_id, message and responder_request_targets are required"});
  const Object& b = c.body.as_object();
  absl::string_view requester = Str(b, "requester_id");
  if (requester.empty() || c.account.Find("users", requester) == nullptr) {
    return Invalid({"requester_id must be the id of a user in this account"});
  }
  if (Str(b, "message").empty()) return Invalid({"message can't be blank"});
  const json::value* targets = b.if_contains("responder_request_targets");
  if (targets == nullptr || !targets->is_array() || targets->as_array().empty()) {
    return Invalid({"responder_request_targets must be a non-empty array"});
  }
  Object requester_ref = UserRef(c.account, requester);
  json::array out_targets;
  for (const json::value& t : targets->as_array()) {
    const json::value* target = t.is_object() ? t.as_object().if_contains("responder_request_target") : nullptr;
    if (target == nullptr || !target->is_object()) {
      return Invalid({"each target must be {\"responder_request_target\": {\"id\", \"type\"}}"});
    }
    absl::string_view id = Str(target->as_object(), "id");
    absl::string_view type = Str(target->as_object(), "type");
    std::vector<std::string> users;
    if (absl::StartsWith(type, "user")) {
      if (c.account.Find("users", id) == nullptr) return Invalid({absl::StrCat("User ", id, " not found")});
      users.push_back(std::string(id));
    } else if (absl::StartsWith(type, "escalation_policy")) {
      const Object* policy = c.account.Find("escalation_policies", id);
      if (policy == nullptr) return Invalid({absl::StrCat("Escalation policy ", id, " not found")});
      users = LevelUsers(c.account, *policy, 1, c.now);
    } else {
      return Invalid({"responder_request_target type must be user_reference or escalation_policy_reference"});
    }
    json::array responders;
    for (const std::string& user : users) {
      Object responder{{"state", "pending"},
                       {"user", UserRef(c.account, user)},
                       {"incident", Reference(*incident, "incident_reference")},
                       {"updated_at", Iso(c.now)},
                       {"message", b.at("message")},
                       {"requester", requester_ref},
                       {"requested_at", Iso(c.now)}};
      (*incident)["incidents_responders"].as_array().push_back(responder);
      responders.push_back(std::move(responder));
    }
    out_targets.push_back(Object{{"responder_request_target",
                                  Object{{"type", absl::StartsWith(type, "user") ? "user" : "escalation_policy"},
                                         {"id", J(id)},
                                         {"incidents_responders", std::move(responders)}}}});
  }
  Object request{{"incident", Reference(*incident, "incident_reference")},
                 {"requester", requester_ref},
                 {"requested_at", Iso(c.now)},
                 {"message", b.at("message")},
                 {"responder_request_targets", std::move(out_targets)}};
  (*incident)["responder_requests"].as_array().push_back(request);
  LogEntry(c, *incident, "responder_request_log_entry", "Responders requested");
  return JsonReply(200, Object{{"responder_request", std::move(request)}});
}

ApiReply ListAlerts(Call& c) {
  if (c.account.Find("incidents", c.Param("id")) == nullptr) return NotFound();
  std::vector<std::string> statuses = c.QueryList("statuses");
  std::optional<std::string> key = c.Query("alert_key");
  std::vector<json::value> alerts;
  for (const Object& a : c.account.Items("alerts")) {
    if (Str(a, "_incident_id") != c.Param("id")) continue;
    if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), Str(a, "status")) == statuses.end()) continue;
    if (key && Str(a, "alert_key") != *key) continue;
    alerts.emplace_back(Render(a));
  }
  return OffsetPage(c, "alerts", std::move(alerts));
}

ApiReply GetAlert(Call& c) {
  const Object* alert = c.account.Find("alerts", c.Param("alert_id"));
  if (alert == nullptr || Str(*alert, "_incident_id") != c.Param("id")) return NotFound();
  return EntityReply(200, "alert", *alert);
}

std::vector<const Object*> OtherIncidents(Call& c, const Object& incident, bool same_service) {
  std::vector<const Object*> out;
  for (const Object& other : c.account.Items("incidents")) {
    if (Str(other, "id") == Str(incident, "id")) continue;
    if (same_service != (RefId(other, "service") == RefId(incident, "service"))) continue;
    out.push_back(&other);
  }
  return out;
}

ApiReply PastIncidents(Call& c) {
  const Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  int limit = 5;
  if (auto l = c.Query("limit"); l && (!absl::SimpleAtoi(*l, &limit) || limit < 1 || limit > 999)) {
    return Invalid({"limit must be between 1 and 999"});
  }
  std::vector<const Object*> others = OtherIncidents(c, *incident, /*same_service=*/true);
  std::reverse(others.begin(), others.end());  // Most recent first.
  std::vector<json::value> items = IncidentSummaries(others, "score");
  if (static_cast<int>(items.size()) > limit) items.resize(limit);
  json::array list(items.begin(), items.end());
  return JsonReply(200, Object{{"past_incidents", std::move(list)},
                               {"total", static_cast<int64_t>(others.size())},
                               {"limit", limit}});
}

ApiReply RelatedIncidents(Call& c) {
  const Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  json::array related;
  for (const Object* other : OtherIncidents(c, *incident, /*same_service=*/false)) {
    if (!IsOpen(*other)) continue;
    related.push_back(Object{
        {"incident", Object{{"id", other->at("id")}, {"created_at", other->at("created_at")},
                            {"self", other->at("self")}, {"title", other->at("title")}}},
        {"relationships",
         json::array{Object{{"type", "machine_learning_inferred"},
                            {"metadata", Object{{"grouping_classification", "similar_contents"},
                                                {"user_feedback", Object{{"positive_feedback_count", 0},
                                                                         {"negative_feedback_count", 0}}}}}}}}});
  }
  return JsonReply(200, Object{{"related_incidents", std::move(related)}});
}

ApiReply OutlierIncident(Call& c) {
  const Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  size_t similar = OtherIncidents(c, *incident, /*same_service=*/true).size() + 1;
  Object out{{"incident",
              Object{{"id", incident->at("id")},
                     {"created_at", incident->at("created_at")},
                     {"self", incident->at("self")},
                     {"title", incident->at("title")},
                     {"occurrence", Object{{"count", static_cast<int64_t>(similar)},
                                           {"frequency", 0.04},
                                           {"category", similar > 2 ? "frequent" : "rare"},
                                           {"since", Iso(c.now - absl::Hours(24 * 90))},
                                           {"until", Iso(c.now)}}}}},
             {"incident_template", Object{{"id", "PX3P1PX"}, {"cluster_id", "P2B3X5"},
                                          {"mined_text", incident->at("title")}}}};
  return JsonReply(200, Object{{"outlier_incident", std::move(out)}});
}

ApiReply RelatedChangeEvents(Call& c) {
  const Object* incident = c.account.Find("incidents", c.Param("id"));
  if (incident == nullptr) return NotFound();
  json::array events;
  for (const Object& e : c.account.Items("change_events")) {
    if (!HasRef(e, "services", RefId(*incident, "service"))) continue;
    Object item = Render(e);
    item["correlation_reason"] = Object{{"reason", events.empty() ? "most_recent" : "related_service"}};
    events.push_back(std::move(item));
  }
  return JsonReply(200, Object{{"change_events", std::move(events)}});
}

ApiReply ListLogEntries(Call& c, const std::string& incident_id) {
  std::optional<absl::Time> since, until;
  if (auto s = c.Query("since"); s && !(since = ParseTime(*s))) {
    return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
  }
  if (auto u = c.Query("until"); u && !(until = ParseTime(*u))) {
    return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
  }
  std::vector<std::string> teams = c.QueryList("team_ids");
  bool overview = c.Query("is_overview") == std::optional<std::string>("true");
  std::vector<json::value> items;
  const std::vector<Object>& entries = c.account.Items("log_entries");
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {  // Newest first, like PagerDuty.
    const Object& e = *it;
    if (!incident_id.empty() && RefId(e, "incident") != incident_id) continue;
    std::optional<absl::Time> at = ParseTime(Str(e, "created_at"));
    if (since && at && *at < *since) continue;
    if (until && at && *at >= *until) continue;
    if (overview && Str(e, "type") == "annotate_log_entry") continue;
    if (!teams.empty() && std::none_of(teams.begin(), teams.end(), [&](const std::string& t) { return HasRef(e, "teams", t); })) {
      continue;
    }
    items.emplace_back(Render(e));
  }
  return OffsetPage(c, "log_entries", std::move(items));
}

}  // namespace

void AddIncidentRoutes(const Register& add) {
  constexpr bool kWrites = true, kReads = false, kFrom = true, kNoFrom = false;
  add("GET", "/incidents", kReads, "incidents.read", kNoFrom, ListIncidents);
  add("POST", "/incidents", kWrites, "incidents.write", kFrom, CreateIncident);
  add("PUT", "/incidents", kWrites, "incidents.write", kFrom, BulkUpdateIncidents);
  add("GET", "/incidents/{id}", kReads, "incidents.read", kNoFrom, [](Call& c) {
    const Object* i = c.account.Find("incidents", c.Param("id"));
    return i ? JsonReply(200, Object{{"incident", RenderIncident(c, *i)}}) : NotFound();
  });
  add("PUT", "/incidents/{id}", kWrites, "incidents.write", kFrom, UpdateIncident);
  add("GET", "/incidents/{id}/alerts", kReads, "incidents.read", kNoFrom, ListAlerts);
  add("GET", "/incidents/{id}/alerts/{alert_id}", kReads, "incidents.read", kNoFrom, GetAlert);
  add("GET", "/incidents/{id}/notes", kReads, "incidents.read", kNoFrom, ListNotes);
  add("POST", "/incidents/{id}/notes", kWrites, "incidents.write", kFrom, AddNote);
  add("POST", "/incidents/{id}/responder_requests", kWrites, "incidents.write", kNoFrom, AddResponders);
  add("GET", "/incidents/{id}/outlier_incident", kReads, "incidents.read", kNoFrom, OutlierIncident);
  add("GET", "/incidents/{id}/past_incidents", kReads, "incidents.read", kNoFrom, PastIncidents);
  add("GET", "/incidents/{id}/related_incidents", kReads, "incidents.read", kNoFrom, RelatedIncidents);
  add("GET", "/incidents/{id}/related_change_events", kReads, "incidents.read", kNoFrom, RelatedChangeEvents);
  add("GET", "/incidents/{id}/log_entries", kReads, "incidents.read", kNoFrom, [](Call& c) {
    if (c.account.Find("incidents", c.Param("id")) == nullptr) return NotFound();
    return ListLogEntries(c, c.Param("id"));
  });
  add("GET", "/log_entries", kReads, "incidents.read", kNoFrom, [](Call& c) { return ListLogEntries(c, ""); });
  add("GET", "/log_entries/{id}", kReads, "incidents.read", kNoFrom, [](Call& c) {
    const Object* e = c.account.Find("log_entries", c.Param("id"));
    return e ? EntityReply(200, "log_entry", *e) : NotFound();
  });
}

}  // namespace bastion::pagerduty_sim::internal
