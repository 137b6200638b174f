// The rest of the platform: change events, event orchestrations, extension schemas, incident
// workflows, webhook subscriptions, alert grouping settings, status pages, maintenance windows
// and analytics aggregates computed from the account's incidents.
#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim::internal {

namespace json = boost::json;

namespace {

ApiReply GetOne(Call& c, const char* collection, const char* key) {
  const Object* o = c.account.Find(collection, c.Param("id"));
  return o ? EntityReply(200, key, *o) : NotFound();
}

// --- Change events ---

// PagerDuty documents a 400 for non-UTC since/until on the change-event lists.
bool IsUtc(absl::string_view text) { return !text.empty() && text.back() == 'Z'; }

ApiReply ListChangeEvents(Call& c, const std::string& service_id) {
  std::optional<absl::Time> since, until;
  if (auto s = c.Query("since"); s && (!IsUtc(*s) || !(since = ParseTime(*s)))) {
    return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
  }
  if (auto u = c.Query("until"); u && (!IsUtc(*u) || !(until = ParseTime(*u)))) {
    return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
  }
  std::vector<std::string> integrations = c.QueryList("integration_ids");
  std::vector<json::value> items;
  for (const Object& e : c.account.Items("change_events")) {
    if (!service_id.empty() && !HasRef(e, "services", service_id)) continue;
    std::optional<absl::Time> at = ParseTime(Str(e, "timestamp"));
    if (since && at && *at < *since) continue;
    if (until && at && *at >= *until) continue;
    if (!integrations.empty() && std::find(integrations.begin(), integrations.end(), RefId(e, "integration")) == integrations.end()) {
      continue;
    }
    items.emplace_back(Render(e));
  }
  return OffsetPage(c, "change_events", std::move(items));
}

// --- Event orchestrations ---

Object OrchestrationPath(Call& c, const Object& stored, const std::string& parent_id, bool service) {
  Object out = Render(stored);
  out.erase("id");
  if (service) {
    out["parent"] = Object{{"id", parent_id}, {"self", absl::StrCat(kApiBase, "/services/", parent_id)}, {"type", "service_reference"}};
    out["self"] = absl::StrCat(kApiBase, "/event_orchestrations/services/", parent_id);
  } else {
    out["parent"] = Object{{"id", parent_id},
                           {"self", absl::StrCat(kApiBase, "/event_orchestrations/", parent_id)},
                           {"type", "event_orchestration_reference"}};
    out["self"] = absl::StrCat(kApiBase, "/event_orchestrations/", parent_id, "/", Str(stored, "type"));
  }
  Object by = UserRef(c.account, seed::kAdminUserId);
  out["created_by"] = by;
  out["updated_by"] = by;
  return out;
}

ApiReply GetPath(Call& c, const char* collection) {
  const Object* path = c.account.Find(collection, c.Param("id"));
  if (path == nullptr) return NotFound();
  return JsonReply(200, Object{{"orchestration_path", OrchestrationPath(c, *path, c.Param("id"), false)}});
}

ApiReply UpdateRouter(Call& c) {
  Object* router = c.account.Find("orchestration_routers", c.Param("id"));
  if (router == nullptr) return NotFound();
  Object* in = c.Wrapped("orchestration_path");
  if (in == nullptr) return Invalid({"orchestration_path is required"});
  json::value sets = in->contains("sets") ? in->at("sets") : json::value(nullptr);
  if (!sets.is_array() || sets.as_array().empty()) return Invalid({"orchestration_path.sets must be a non-empty array"});
  bool has_start = false;
  for (json::value& s : sets.as_array()) {
    if (!s.is_object()) return Invalid({"each set must be an object"});
    has_start = has_start || Str(s.as_object(), "id") == "start";
    json::value* rules = s.as_object().if_contains("rules");
    if (rules == nullptr || !rules->is_array()) return Invalid({"each set needs a rules array"});
    for (json::value& r : rules->as_array()) {
      if (!r.is_object() || !r.as_object().contains("actions") || !r.as_object().at("actions").is_object()) {
        return Invalid({"each rule needs an actions object"});
      }
      Object& rule = r.as_object();
      absl::string_view route = Str(rule.at("actions").as_object(), "route_to");
      if (!route.empty() && route != "unrouted" && c.account.Find("services", route) == nullptr) {
        return Invalid({absl::StrCat("route_to ", route, " is not a service in this account")});
      }
      if (!rule.contains("id")) rule["id"] = absl::AsciiStrToLower(c.account.ids().Long(8));
      if (!rule.contains("conditions")) rule["conditions"] = json::array{};
    }
  }
  if (!has_start) return Invalid({"the router needs a set with id \"start\""});
  (*router)["sets"] = std::move(sets);
  if (in->contains("catch_all")) (*router)["catch_all"] = in->at("catch_all");
  int version = 1;
  (void)absl::SimpleAtoi(Str(*router, "version"), &version);
  (*router)["version"] = absl::StrCat(version + 1);
  (*router)["updated_at"] = Iso(c.now);
  return JsonReply(200, Object{{"orchestration_path", OrchestrationPath(c, *router, c.Param("id"), false)}});
}

ApiReply ServiceOrchestration(Call& c) {
  const std::string& id = c.Param("service_id");
  if (c.account.Find("services", id) == nullptr) return NotFound();
  const Object* path = c.account.Find("service_orchestrations", id);
  if (path == nullptr) {
    // Every service has one, empty until configured.
    path = &c.account.Add("service_orchestrations",
                          Object{{"id", id},
                                 {"type", "service"},
                                 {"version", "1"},
                                 {"created_at", Iso(c.now)},
                                 {"updated_at", Iso(c.now)},
                                 {"sets", json::array{Object{{"id", "start"}, {"rules", json::array{}}}}},
                                 {"catch_all", Object{{"actions", Object{}}}}});
  }
  return JsonReply(200, Object{{"orchestration_path", OrchestrationPath(c, *path, id, true)}});
}

// --- Webhook subscriptions ---

std::optional<ApiReply> CheckWebhook(const Object& w, bool partial) {
  if (!partial || w.contains("delivery_method")) {
    const json::value* dm = w.if_contains("delivery_method");
    absl::string_view url = dm && dm->is_object() ? Str(dm->as_object(), "url") : "";
    if (!absl::StartsWith(url, "https://")) return Invalid({"delivery_method.url must be an https:// URL"});
  }
  if (!partial || w.contains("events")) {
    const json::value* events = w.if_contains("events");
    if (events == nullptr || !events->is_array() || events->as_array().empty()) return Invalid({"events can't be empty"});
  }
  if (!partial || w.contains("filter")) {
    const json::value* filter = w.if_contains("filter");
    absl::string_view type = filter && filter->is_object() ? Str(filter->as_object(), "type") : "";
    if (type != "account_reference" && type != "service_reference" && type != "team_reference") {
      return Invalid({"filter.type must be account_reference, service_reference or team_reference"});
    }
  }
  return std::nullopt;
}

ApiReply CreateWebhook(Call& c) {
  Object* in = c.Wrapped("webhook_subscription");
  if (in == nullptr) return Invalid({"webhook_subscription is required"});
  if (auto error = CheckWebhook(*in, false)) return *error;
  Object w = *in;
  w["id"] = c.account.ids().Classic();
  w["type"] = "webhook_subscription";
  w["active"] = w.contains("active") ? w["active"] : json::value(true);
  Object& dm = w["delivery_method"].as_object();
  dm["id"] = c.account.ids().Classic();
  dm["secret"] = c.account.ids().Long(32);  // Shown once, at creation, like PagerDuty.
  dm["temporarily_disabled"] = false;
  Object& stored = c.account.Add("webhook_subscriptions", w);
  Object reply = Render(stored);
  stored["delivery_method"].as_object()["secret"] = nullptr;
  return JsonReply(200, Object{{"webhook_subscription", std::move(reply)}});
}

ApiReply UpdateWebhook(Call& c) {
  Object* w = c.account.Find("webhook_subscriptions", c.Param("id"));
  if (w == nullptr) return NotFound();
  Object* in = c.Wrapped("webhook_subscription");
  if (in == nullptr) return Invalid({"webhook_subscription is required"});
  // PagerDuty documents the delivery method as not updatable.
  if (in->contains("delivery_method")) return Invalid({"delivery_method cannot be updated"});
  if (auto error = CheckWebhook(*in, true)) return *error;
  Merge(*w, *in);
  return EntityReply(200, "webhook_subscription", *w);
}

// --- Alert grouping settings (cursor paging) ---

std::optional<ApiReply> CheckGrouping(Call& c, const Object& s, bool partial) {
  if (!partial || s.contains("type")) {
    absl::string_view type = Str(s, "type");
    if (type != "content_based" && type != "content_based_intelligent" && type != "intelligent" && type != "time") {
      return Invalid({"type must be content_based, content_based_intelligent, intelligent or time"});
    }
  }
  if (!partial || s.contains("services")) {
    const json::value* services = s.if_contains("services");
    if (services == nullptr || !services->is_array() || services->as_array().empty()) return Invalid({"services can't be empty"});
    for (const json::value& ref : services->as_array()) {
      absl::string_view id = ref.is_object() ? Str(ref.as_object(), "id") : "";
      if (c.account.Find("services", id) == nullptr) return Invalid({absl::StrCat("Service ", id, " not found")});
    }
  }
  return std::nullopt;
}

ApiReply ListGroupings(Call& c) {
  int limit = 25;
  if (auto l = c.Query("limit"); l && (!absl::SimpleAtoi(*l, &limit) || limit < 1)) return Invalid({"limit must be a positive integer"});
  limit = std::min(limit, 100);
  std::vector<std::string> services = c.QueryList("service_ids");
  std::vector<const Object*> matched;
  for (const Object& s : c.account.Items("alert_grouping_settings")) {
    if (!services.empty() && std::none_of(services.begin(), services.end(), [&](const std::string& id) { return HasRef(s, "services", id); })) {
      continue;
    }
    matched.push_back(&s);
  }
  // The cursor is the id of the last item sent.
  size_t begin = 0;
  if (auto after = c.Query("after"); after && !after->empty()) {
    auto it = std::find_if(matched.begin(), matched.end(), [&](const Object* s) { return Str(*s, "id") == *after; });
    if (it == matched.end()) return Invalid({"after is not a valid cursor"});
    begin = (it - matched.begin()) + 1;
  }
  size_t end = std::min(matched.size(), begin + limit);
  json::array page;
  for (size_t i = begin; i < end; ++i) page.push_back(Render(*matched[i]));
  json::value after = nullptr, before = nullptr;
  if (end < matched.size()) after = J(Str(*matched[end - 1], "id"));
  if (begin > 0) before = J(Str(*matched[begin - 1], "id"));
  Object out{{"alert_grouping_settings", std::move(page)}, {"after", after}, {"before", before}, {"limit", limit}};
  out["total"] = c.Query("total") == std::optional<std::string>("true") ? json::value(static_cast<int64_t>(matched.size())) : json::value(nullptr);
  return JsonReply(200, out);
}

ApiReply CreateGrouping(Call& c) {
  Object* in = c.Wrapped("alert_grouping_setting");
  if (in == nullptr) return Invalid({"alert_grouping_setting is required"});
  if (auto error = CheckGrouping(c, *in, false)) return *error;
  Object s = *in;
  s["id"] = c.account.ids().Classic();
  s["created_at"] = Iso(c.now);
  s["updated_at"] = Iso(c.now);
  if (!s.contains("config")) s["config"] = Object{};
  c.account.Items("alert_grouping_settings").push_back(s);
  return EntityReply(201, "alert_grouping_setting", s);
}

ApiReply UpdateGrouping(Call& c) {
  Object* s = c.account.Find("alert_grouping_settings", c.Param("id"));
  if (s == nullptr) return NotFound();
  Object* in = c.Wrapped("alert_grouping_setting");
  if (in == nullptr) return Invalid({"alert_grouping_setting is required"});
  if (auto error = CheckGrouping(c, *in, true)) return *error;
  Merge(*s, *in);
  (*s)["updated_at"] = Iso(c.now);
  return EntityReply(200, "alert_grouping_setting", *s);
}

// --- Status pages ---

ApiReply StatusPageChildren(Call& c, const char* collection, const char* key) {
  if (c.account.Find("status_pages", c.Param("id")) == nullptr) return NotFound();
  std::optional<std::string> post_type = c.Query("post_type");
  std::vector<json::value> items;
  for (const Object& o : c.account.Items(collection)) {
    if (Str(o, "_status_page_id") != c.Param("id")) continue;
    if (post_type && Str(o, "post_type") != *post_type) continue;
    items.emplace_back(Render(o));
  }
  return OffsetPage(c, key, std::move(items));
}

Object* Post(Call& c) {
  Object* post = c.account.Find("status_page_posts", c.Param("post_id"));
  return post != nullptr && Str(*post, "_status_page_id") == c.Param("id") ? post : nullptr;
}

Object PostWithUpdates(Call& c, const Object& post) {
  Object out = Render(post);
  json::array updates;
  for (const Object& u : c.account.Items("status_page_post_updates")) {
    if (Str(u, "_post_id") == Str(post, "id")) {
      updates.push_back(Object{{"id", u.at("id")}, {"self", u.at("self")}, {"type", "status_page_post_update"}});
    }
  }
  out["updates"] = std::move(updates);
  return out;
}

std::optional<ApiReply> CheckStatusRef(Call& c, const Object& in, const char* key, const char* collection) {
  if (!in.contains(key)) return std::nullopt;
  const Object* o = c.account.Find(collection, RefId(in, key));
  if (o == nullptr || Str(*o, "_status_page_id") != c.Param("id")) {
    return Invalid({absl::StrCat(key, " must reference one of this status page's ", key == std::string("status") ? "statuses" : "severities")});
  }
  return std::nullopt;
}

Object StorePostUpdate(Call& c, const Object& in, const std::string& post_id) {
  std::string id = c.account.ids().Classic();
  Object u = in;
  u["id"] = id;
  u["type"] = "status_page_post_update";
  u["_status_page_id"] = c.Param("id");
  u["_post_id"] = post_id;
  u["post"] = Object{{"id", post_id}, {"type", "status_page_post"}};
  u["reported_at"] = Iso(c.now);
  if (!u.contains("reviewed_status")) u["reviewed_status"] = "approved";
  if (!u.contains("notify_subscribers")) u["notify_subscribers"] = false;
  if (!u.contains("impacted_services")) u["impacted_services"] = json::array{};
  if (!u.contains("update_frequency_ms")) u["update_frequency_ms"] = nullptr;
  u["self"] = absl::StrCat(kApiBase, "/status_pages/", c.Param("id"), "/posts/", post_id, "/post_updates/", id);
  c.account.Items("status_page_post_updates").push_back(u);
  return u;
}

ApiReply CreatePost(Call& c) {
  if (c.account.Find("status_pages", c.Param("id")) == nullptr) return NotFound();
  Object* in = c.Wrapped("post");
  if (in == nullptr) return Invalid({"post is required"});
  if (Str(*in, "title").empty()) return Invalid({"title can't be blank"});
  absl::string_view type = Str(*in, "post_type");
  if (type != "incident" && type != "maintenance") return Invalid({"post_type must be incident or maintenance"});
  if (type == "maintenance" && (!ParseTime(Str(*in, "starts_at")) || !ParseTime(Str(*in, "ends_at")))) {
    return Invalid({"a maintenance post needs starts_at and ends_at"});
  }
  std::string id = c.account.ids().Classic();
  Object post{{"id", id},
              {"_status_page_id", c.Param("id")},
              {"type", "status_page_post"},
              {"post_type", J(type)},
              {"title", in->at("title")},
              {"starts_at", in->contains("starts_at") ? in->at("starts_at") : json::value(Iso(c.now))},
              {"ends_at", in->contains("ends_at") ? in->at("ends_at") : json::value(nullptr)},
              {"status_page", Object{{"id", c.Param("id")}, {"type", "status_page"}}},
              {"self", absl::StrCat(kApiBase, "/status_pages/", c.Param("id"), "/posts/", id)}};
  if (const json::value* updates = in->if_contains("updates"); updates && updates->is_array()) {
    for (const json::value& u : updates->as_array()) {
      if (!u.is_object()) return Invalid({"each update must be an object"});
      if (auto error = CheckStatusRef(c, u.as_object(), "status", "status_page_statuses")) return *error;
      if (auto error = CheckStatusRef(c, u.as_object(), "severity", "status_page_severities")) return *error;
    }
    for (const json::value& u : updates->as_array()) StorePostUpdate(c, u.as_object(), id);
  }
  c.account.Items("status_page_posts").push_back(post);
  return JsonReply(201, Object{{"post", PostWithUpdates(c, post)}});
}

ApiReply CreatePostUpdate(Call& c) {
  Object* post = Post(c);
  if (post == nullptr) return NotFound();
  Object* in = c.Wrapped("post_update");
  if (in == nullptr) return Invalid({"post_update is required"});
  if (Str(*in, "message").empty()) return Invalid({"message can't be blank"});
  if (auto error = CheckStatusRef(c, *in, "status", "status_page_statuses")) return *error;
  if (auto error = CheckStatusRef(c, *in, "severity", "status_page_severities")) return *error;
  return EntityReply(201, "post_update", StorePostUpdate(c, *in, c.Param("post_id")));
}

// --- Analytics ---

struct Filters {
  std::optional<absl::Time> start, end;
  std::string urgency;
  std::vector<std::string> service_ids, team_ids, responder_ids;
};

std::optional<ApiReply> ParseFilters(Call& c, const char* start_key, const char* end_key, Filters* f) {
  if (!c.body.is_object()) return std::nullopt;
  const json::value* filters = c.body.as_object().if_contains("filters");
  if (filters == nullptr) return std::nullopt;
  if (!filters->is_object()) return ErrorReply(400, 2001, "Invalid Input Provided", {"filters must be an object"});
  const Object& o = filters->as_object();
  for (auto [key, out] : {std::pair{start_key, &f->start}, std::pair{end_key, &f->end}}) {
    if (o.contains(key)) {
      *out = ParseTime(Str(o, key));
      if (!*out) return Invalid({absl::StrCat("filters.", key, " must be an ISO 8601 date-time")});
    }
  }
  if (f->start && f->end && *f->end <= *f->start) return Invalid({"the filter's end must be after its start"});
  f->urgency = std::string(Str(o, "urgency"));
  for (auto [key, out] : {std::pair{"service_ids", &f->service_ids}, std::pair{"team_ids", &f->team_ids},
                          std::pair{"responder_ids", &f->responder_ids}}) {
    if (const json::value* ids = o.if_contains(key)) {
      if (!ids->is_array()) return Invalid({absl::StrCat("filters.", key, " must be an array")});
      for (const json::value& id : ids->as_array()) out->push_back(std::string(Str(&id)));
    }
  }
  return std::nullopt;
}

bool Matches(const Filters& f, const Object& incident) {
  std::optional<absl::Time> created = ParseTime(Str(incident, "created_at"));
  if (f.start && created && *created < *f.start) return false;
  if (f.end && created && *created >= *f.end) return false;
  if (!f.urgency.empty() && Str(incident, "urgency") != f.urgency) return false;
  if (!f.service_ids.empty() &&
      std::find(f.service_ids.begin(), f.service_ids.end(), RefId(incident, "service")) == f.service_ids.end()) {
    return false;
  }
  if (!f.team_ids.empty() && std::none_of(f.team_ids.begin(), f.team_ids.end(),
                                          [&](const std::string& t) { return HasRef(incident, "teams", t); })) {
    return false;
  }
  return true;
}

// Aggregates PagerDuty reports for a group of incidents, from their real timestamps.
Object Aggregate(const std::vector<const Object*>& incidents) {
  int64_t acknowledged = 0, resolved = 0, seconds_to_resolve = 0, seconds_to_ack = 0;
  for (const Object* i : incidents) {
    std::optional<absl::Time> created = ParseTime(Str(*i, "created_at"));
    const json::value& acks = i->at("acknowledgements");
    if (acks.is_array() && !acks.as_array().empty()) {
      ++acknowledged;
      std::optional<absl::Time> at = ParseTime(Str(acks.as_array()[0].as_object(), "at"));
      if (created && at) seconds_to_ack += absl::ToInt64Seconds(*at - *created);
    }
    if (Str(*i, "status") == "resolved") {
      ++resolved;
      std::optional<absl::Time> at = ParseTime(Str(*i, "resolved_at"));
      if (created && at) seconds_to_resolve += absl::ToInt64Seconds(*at - *created);
    }
  }
  int64_t n = static_cast<int64_t>(incidents.size());
  return Object{{"total_incident_count", n},
                {"total_incidents_acknowledged", acknowledged},
                {"total_incidents_auto_resolved", 0},
                {"total_incidents_manual_escalated", 0},
                {"total_incidents_reassigned", 0},
                {"total_incidents_timeout_escalated", 0},
                {"total_escalation_count", 0},
                {"total_interruptions", n},
                {"total_notifications", n * 2},
                {"total_business_hour_interruptions", n / 2},
                {"total_off_hour_interruptions", n - n / 2},
                {"total_sleep_hour_interruptions", 0},
                {"total_snoozed_seconds", 0},
                {"total_engaged_seconds", seconds_to_resolve},
                {"mean_assignment_count", n ? 1 : 0},
                {"mean_engaged_user_count", n ? 1 : 0},
                {"mean_seconds_to_first_ack", acknowledged ? json::value(seconds_to_ack / acknowledged) : json::value(nullptr)},
                {"mean_seconds_to_resolve", resolved ? json::value(seconds_to_resolve / resolved) : json::value(nullptr)},
                {"mean_seconds_to_engage", acknowledged ? json::value(seconds_to_ack / acknowledged) : json::value(nullptr)},
                {"mean_seconds_to_mobilize", acknowledged ? json::value(seconds_to_ack / acknowledged) : json::value(nullptr)},
                {"mean_engaged_seconds", resolved ? json::value(seconds_to_resolve / resolved) : json::value(nullptr)}};
}

Object AnalyticsEnvelope(Call& c, json::array data, bool with_aggregate_unit) {
  const Object empty;
  const Object& body = c.body.is_object() ? c.body.as_object() : empty;
  Object out{{"data", std::move(data)},
             {"filters", body.contains("filters") ? body.at("filters") : json::value(Object{})},
             {"time_zone", body.contains("time_zone") ? body.at("time_zone") : json::value("Etc/UTC")},
             {"order", body.contains("order") ? body.at("order") : json::value("desc")},
             {"order_by", body.contains("order_by") ? body.at("order_by") : json::value("total_incident_count")}};
  if (with_aggregate_unit) out["aggregate_unit"] = body.contains("aggregate_unit") ? body.at("aggregate_unit") : json::value(nullptr);
  return out;
}

ApiReply IncidentAnalytics(Call& c, absl::string_view group) {
  Filters f;
  if (auto error = ParseFilters(c, "created_at_start", "created_at_end", &f)) return *error;
  std::string unit = c.body.is_object() ? std::string(Str(c.body.as_object(), "aggregate_unit")) : "";
  if (!unit.empty() && unit != "day" && unit != "week" && unit != "month") {
    return Invalid({"aggregate_unit must be day, week or month"});
  }
  std::map<std::string, std::vector<const Object*>> groups;
  for (const Object& i : c.account.Items("incidents")) {
    if (!Matches(f, i)) continue;
    std::string key = group == "services" ? std::string(RefId(i, "service"))
                      : group == "teams" ? std::string(i.at("teams").as_array().empty() ? "" : Str(i.at("teams").as_array()[0].as_object(), "id"))
                                         : "";
    if (!unit.empty()) key += "|" + std::string(Str(i, "created_at").substr(0, unit == "month" ? 7 : 10));
    groups[key].push_back(&i);
  }
  json::array data;
  for (const auto& [key, incidents] : groups) {
    Object row = Aggregate(incidents);
    std::string id = key.substr(0, key.find('|'));
    if (!unit.empty()) row["range_start"] = absl::StrCat(key.substr(key.find('|') + 1), unit == "month" ? "-01T00:00:00" : "T00:00:00");
    if (group == "services") {
      const Object* s = c.account.Find("services", id);
      row["service_id"] = id;
      row["service_name"] = s ? s->at("name") : json::value(nullptr);
      absl::string_view team = s && !s->at("teams").as_array().empty() ? Str(s->at("teams").as_array()[0].as_object(), "id") : "";
      const Object* t = c.account.Find("teams", team);
      row["team_id"] = t ? t->at("id") : json::value(nullptr);
      row["team_name"] = t ? t->at("name") : json::value(nullptr);
    } else if (group == "teams") {
      const Object* t = c.account.Find("teams", id);
      row["team_id"] = id.empty() ? json::value(nullptr) : json::value(J(id));
      row["team_name"] = t ? t->at("name") : json::value(nullptr);
    }
    data.push_back(std::move(row));
  }
  if (data.empty() && group == "all") data.push_back(Aggregate({}));
  return JsonReply(200, AnalyticsEnvelope(c, std::move(data), true));
}

ApiReply ResponderAnalytics(Call& c, bool by_team) {
  Filters f;
  if (auto error = ParseFilters(c, "date_range_start", "date_range_end", &f)) return *error;
  absl::Time start = f.start.value_or(c.now - absl::Hours(24 * 30));
  absl::Time end = f.end.value_or(c.now);
  int64_t window = std::max<int64_t>(0, absl::ToInt64Seconds(end - start));
  json::array data;
  std::vector<const Object*> all;
  for (const Object& user : c.account.Items("users")) {
    std::string id(Str(user, "id"));
    if (!f.responder_ids.empty() && std::find(f.responder_ids.begin(), f.responder_ids.end(), id) == f.responder_ids.end()) continue;
    std::vector<const Object*> mine;
    for (const Object& i : c.account.Items("incidents")) {
      if (!Matches(Filters{f.start, f.end, f.urgency, {}, {}, {}}, i)) continue;
      bool involved = false;
      for (const char* key : {"assignments", "acknowledgements"}) {
        for (const json::value& a : i.at(key).as_array()) {
          involved = involved || RefId(a.as_object(), key == std::string("assignments") ? "assignee" : "acknowledger") == id;
        }
      }
      if (involved) mine.push_back(&i);
    }
    all.insert(all.end(), mine.begin(), mine.end());
    if (!by_team) continue;
    const json::value* teams = user.if_contains("teams");
    if (teams == nullptr || !teams->is_array()) continue;
    for (const json::value& t : teams->as_array()) {
      absl::string_view team_id = Str(t.as_object(), "id");
      if (!f.team_ids.empty() && std::find(f.team_ids.begin(), f.team_ids.end(), team_id) == f.team_ids.end()) continue;
      Object agg = Aggregate(mine);
      Object row{{"responder_id", id},
                 {"responder_name", user.at("name")},
                 {"team_id", J(team_id)},
                 {"team_name", t.as_object().contains("summary") ? t.as_object().at("summary") : json::value(nullptr)},
                 {"total_incident_count", agg["total_incident_count"]},
                 {"total_incidents_acknowledged", agg["total_incidents_acknowledged"]},
                 {"mean_time_to_acknowledge_seconds", agg["mean_seconds_to_first_ack"]},
                 {"total_interruptions", agg["total_interruptions"]},
                 {"total_notifications", agg["total_notifications"]},
                 {"total_seconds_on_call", window / 2},
                 {"total_seconds_on_call_level_1", window / 2},
                 {"total_seconds_on_call_level_2_plus", 0}};
      data.push_back(std::move(row));
    }
  }
  if (!by_team) {
    Object agg = Aggregate(all);
    data.push_back(Object{{"total_incident_count", agg["total_incident_count"]},
                          {"total_incidents_acknowledged", agg["total_incidents_acknowledged"]},
                          {"mean_time_to_acknowledge_seconds", agg["mean_seconds_to_first_ack"]},
                          {"total_interruptions", agg["total_interruptions"]},
                          {"total_notifications", agg["total_notifications"]},
                          {"total_seconds_on_call", window},
                          {"total_seconds_on_call_level_1", window},
                          {"total_seconds_on_call_level_2_plus", window / 2}});
  }
  return JsonReply(200, AnalyticsEnvelope(c, std::move(data), false));
}

}  // namespace

void AddPlatformRoutes(const Register& add) {
  constexpr bool kWrites = true, kReads = false, kNoFrom = false;
  add("GET", "/change_events", kReads, "change_events.read", kNoFrom, [](Call& c) { return ListChangeEvents(c, ""); });
  add("GET", "/change_events/{id}", kReads, "change_events.read", kNoFrom,
      [](Call& c) { return GetOne(c, "change_events", "change_event"); });
  add("GET", "/services/{id}/change_events", kReads, "services.read", kNoFrom, [](Call& c) {
    if (c.account.Find("services", c.Param("id")) == nullptr) return NotFound();
    return ListChangeEvents(c, c.Param("id"));
  });

  add("GET", "/event_orchestrations", kReads, "event_orchestrations.read", kNoFrom, [](Call& c) {
    std::vector<json::value> items;
    for (const Object& o : c.account.Items("event_orchestrations")) {
      Object item = Render(o);
      item.erase("integrations");
      items.emplace_back(std::move(item));
    }
    return OffsetPage(c, "orchestrations", std::move(items));
  });
  add("GET", "/event_orchestrations/{id}", kReads, "event_orchestrations.read", kNoFrom,
      [](Call& c) { return GetOne(c, "event_orchestrations", "orchestration"); });
  add("GET", "/event_orchestrations/{id}/global", kReads, "event_orchestrations.read", kNoFrom,
      [](Call& c) { return GetPath(c, "orchestration_globals"); });
  add("GET", "/event_orchestrations/{id}/router", kReads, "event_orchestrations.read", kNoFrom,
      [](Call& c) { return GetPath(c, "orchestration_routers"); });
  add("PUT", "/event_orchestrations/{id}/router", kWrites, "event_orchestrations.write", kNoFrom, UpdateRouter);
  add("GET", "/event_orchestrations/services/{service_id}", kReads, "services.read", kNoFrom, ServiceOrchestration);

  add("GET", "/extension_schemas", kReads, "extension_schemas.read", kNoFrom,
      [](Call& c) { return OffsetPage(c, "extension_schemas", Rendered(c.account.Items("extension_schemas"))); });
  add("GET", "/extension_schemas/{id}", kReads, "extension_schemas.read", kNoFrom,
      [](Call& c) { return GetOne(c, "extension_schemas", "extension_schema"); });

  add("GET", "/incident_workflows", kReads, "incident_workflows.read", kNoFrom, [](Call& c) {
    std::optional<std::string> query = c.Query("query");
    std::vector<json::value> items;
    for (const Object& w : c.account.Items("incident_workflows")) {
      if (query && !ContainsIgnoreCase(Str(w, "name"), *query)) continue;
      Object item = Render(w);
      item.erase("steps");
      items.emplace_back(std::move(item));
    }
    return OffsetPage(c, "incident_workflows", std::move(items));
  });
  add("GET", "/incident_workflows/{id}", kReads, "incident_workflows.read", kNoFrom,
      [](Call& c) { return GetOne(c, "incident_workflows", "incident_workflow"); });
  add("POST", "/incident_workflows/{id}/instances", kWrites, "incident_workflows:instances.write", kNoFrom, [](Call& c) {
    if (c.account.Find("incident_workflows", c.Param("id")) == nullptr) return NotFound();
    Object* in = c.Wrapped("incident_workflow_instance");
    const Object* incident = in ? c.account.Find("incidents", RefId(*in, "incident")) : nullptr;
    if (incident == nullptr) return Invalid({"incident_workflow_instance.incident must reference an incident"});
    Object instance{{"id", in->contains("id") ? in->at("id") : json::value(c.account.ids().Classic())},
                    {"type", "incident_workflow_instance"},
                    {"incident", Reference(*incident, "incident_reference")}};
    c.account.Items("incident_workflow_instances").push_back(instance);
    return EntityReply(201, "incident_workflow_instance", instance);
  });

  add("GET", "/webhook_subscriptions", kReads, "webhook_subscriptions.read", kNoFrom, [](Call& c) {
    std::optional<std::string> type = c.Query("filter_type"), id = c.Query("filter_id");
    std::vector<json::value> items;
    for (const Object& w : c.account.Items("webhook_subscriptions")) {
      if (type && Str(w.at("filter").as_object(), "type") != *type) continue;
      if (id && RefId(w, "filter") != *id) continue;
      items.emplace_back(Render(w));
    }
    return OffsetPage(c, "webhook_subscriptions", std::move(items));
  });
  add("POST", "/webhook_subscriptions", kWrites, "webhook_subscriptions.write", kNoFrom, CreateWebhook);
  add("GET", "/webhook_subscriptions/{id}", kReads, "webhook_subscriptions.read", kNoFrom,
      [](Call& c) { return GetOne(c, "webhook_subscriptions", "webhook_subscription"); });
  add("PUT", "/webhook_subscriptions/{id}", kWrites, "webhook_subscriptions.write", kNoFrom, UpdateWebhook);
  add("DELETE", "/webhook_subscriptions/{id}", kWrites, "webhook_subscriptions.write", kNoFrom, [](Call& c) {
    return c.account.Erase("webhook_subscriptions", c.Param("id")) ? NoContent() : NotFound();
  });

  add("GET", "/alert_grouping_settings", kReads, "services.read", kNoFrom, ListGroupings);
  add("POST", "/alert_grouping_settings", kWrites, "services.write", kNoFrom, CreateGrouping);
  add("GET", "/alert_grouping_settings/{id}", kReads, "services.read", kNoFrom,
      [](Call& c) { return GetOne(c, "alert_grouping_settings", "alert_grouping_setting"); });
  add("PUT", "/alert_grouping_settings/{id}", kWrites, "services.write", kNoFrom, UpdateGrouping);
  add("DELETE", "/alert_grouping_settings/{id}", kWrites, "services.write", kNoFrom, [](Call& c) {
    return c.account.Erase("alert_grouping_settings", c.Param("id")) ? NoContent() : NotFound();
  });

  add("GET", "/status_pages", kReads, "status_pages.read", kNoFrom, [](Call& c) {
    std::optional<std::string> type = c.Query("status_page_type");
    std::vector<json::value> items;
    for (const Object& p : c.account.Items("status_pages")) {
      if (type && Str(p, "status_page_type") != *type) continue;
      items.emplace_back(Render(p));
    }
    return OffsetPage(c, "status_pages", std::move(items));
  });
  add("GET", "/status_pages/{id}/impacts", kReads, "status_pages.read", kNoFrom,
      [](Call& c) { return StatusPageChildren(c, "status_page_impacts", "impacts"); });
  add("GET", "/status_pages/{id}/severities", kReads, "status_pages.read", kNoFrom,
      [](Call& c) { return StatusPageChildren(c, "status_page_severities", "severities"); });
  add("GET", "/status_pages/{id}/statuses", kReads, "status_pages.read", kNoFrom,
      [](Call& c) { return StatusPageChildren(c, "status_page_statuses", "statuses"); });
  add("POST", "/status_pages/{id}/posts", kWrites, "status_pages.write", kNoFrom, CreatePost);
  add("GET", "/status_pages/{id}/posts/{post_id}", kReads, "status_pages.read", kNoFrom, [](Call& c) {
    Object* post = Post(c);
    return post ? JsonReply(200, Object{{"post", PostWithUpdates(c, *post)}}) : NotFound();
  });
  add("GET", "/status_pages/{id}/posts/{post_id}/post_updates", kReads, "status_pages.read", kNoFrom, [](Call& c) {
    if (Post(c) == nullptr) return NotFound();
    std::optional<std::string> reviewed = c.Query("reviewed_status");
    std::vector<json::value> items;
    for (const Object& u : c.account.Items("status_page_post_updates")) {
      if (Str(u, "_post_id") != c.Param("post_id")) continue;
      if (reviewed && Str(u, "reviewed_status") != *reviewed) continue;
      items.emplace_back(Render(u));
    }
    return OffsetPage(c, "post_updates", std::move(items));
  });
  add("POST", "/status_pages/{id}/posts/{post_id}/post_updates", kWrites, "status_pages.write", kNoFrom, CreatePostUpdate);

  add("GET", "/maintenance_windows", kReads, "services.read", kNoFrom,
      [](Call& c) { return OffsetPage(c, "maintenance_windows", Rendered(c.account.Items("maintenance_windows"))); });
  add("GET", "/maintenance_windows/{id}", kReads, "services.read", kNoFrom,
      [](Call& c) { return GetOne(c, "maintenance_windows", "maintenance_window"); });

  // Analytics reads are POSTs; the spec asks for analytics.write, but read-only keys may run them.
  add("POST", "/analytics/metrics/incidents/all", kReads, "analytics.write", kNoFrom,
      [](Call& c) { return IncidentAnalytics(c, "all"); });
  add("POST", "/analytics/metrics/incidents/services", kReads, "analytics.write", kNoFrom,
      [](Call& c) { return IncidentAnalytics(c, "services"); });
  add("POST", "/analytics/metrics/incidents/teams", kReads, "analytics.write", kNoFrom,
      [](Call& c) { return IncidentAnalytics(c, "teams"); });
  add("POST", "/analytics/metrics/responders/all", kReads, "analytics.write", kNoFrom,
      [](Call& c) { return ResponderAnalytics(c, false); });
  add("POST", "/analytics/metrics/responders/teams", kReads, "analytics.write", kNoFrom,
      [](Call& c) { return ResponderAnalytics(c, true); });
}

}  // namespace bastion::pagerduty_sim::internal
