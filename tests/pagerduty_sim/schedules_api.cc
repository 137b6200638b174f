// Layer-based (v2) schedules and overrides, on-calls, and shift-based (/v3) schedules with their
// rotations, events, custom shifts and overrides.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim::internal {

namespace json = boost::json;

std::string OnCallUser(Account& account, const Object& schedule, absl::Time at, absl::Time* start,
                       absl::Time* end) {
  for (const Object& o : account.Items("overrides")) {
    if (Str(o, "_schedule_id") != Str(schedule, "id")) continue;
    std::optional<absl::Time> s = ParseTime(Str(o, "start")), e = ParseTime(Str(o, "end"));
    if (s && e && *s <= at && at < *e) {
      *start = *s;
      *end = *e;
      return std::string(RefId(o, "user"));
    }
  }
  const json::value* layers = schedule.if_contains("schedule_layers");
  if (layers == nullptr || !layers->is_array() || layers->as_array().empty()) return "";
  const Object& layer = layers->as_array()[0].as_object();
  const json::array& users = layer.at("users").as_array();
  std::optional<absl::Time> virtual_start = ParseTime(Str(layer, "rotation_virtual_start"));
  int64_t turn = layer.at("rotation_turn_length_seconds").to_number<int64_t>();
  if (users.empty() || !virtual_start || turn <= 0 || at < *virtual_start) return "";
  int64_t turns = absl::ToInt64Seconds(at - *virtual_start) / turn;
  *start = *virtual_start + absl::Seconds(turns * turn);
  *end = *start + absl::Seconds(turn);
  return std::string(RefId(users[turns % users.size()].as_object(), "user"));
}

std::vector<std::string> LevelUsers(Account& account, const Object& policy, int level, absl::Time at) {
  std::vector<std::string> out;
  const json::value* rules = policy.if_contains("escalation_rules");
  if (rules == nullptr || !rules->is_array() || level < 1 || level > static_cast<int>(rules->as_array().size())) {
    return out;
  }
  const Object& rule = rules->as_array()[level - 1].as_object();
  for (const json::value& t : rule.at("targets").as_array()) {
    const Object& target = t.as_object();
    absl::string_view type = Str(target, "type");
    std::string user;
    if (absl::StartsWith(type, "user")) {
      user = std::string(Str(target, "id"));
    } else if (const Object* schedule = account.Find("schedules", Str(target, "id"))) {
      absl::Time s, e;
      user = OnCallUser(account, *schedule, at, &s, &e);
    }
    if (!user.empty() && std::find(out.begin(), out.end(), user) == out.end()) out.push_back(user);
  }
  return out;
}

namespace {

bool In(const std::vector<std::string>& list, absl::string_view v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

std::optional<ApiReply> Window(const Call& c, absl::Duration default_length, absl::Time* since, absl::Time* until) {
  *since = c.now;
  *until = c.now + default_length;
  if (auto s = c.Query("since")) {
    std::optional<absl::Time> t = ParseTime(*s);
    if (!t) return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
    *since = *t;
  }
  if (auto u = c.Query("until")) {
    std::optional<absl::Time> t = ParseTime(*u);
    if (!t) return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
    *until = *t;
  }
  if (*until < *since) return ErrorReply(400, 2005, "Invalid Query Date Range");
  return std::nullopt;
}

// On-call shifts of a v2 schedule between since and until, at most `cap`.
json::array RenderedEntries(Call& c, const Object& schedule, absl::Time since, absl::Time until, int cap) {
  json::array entries;
  absl::Time at = since;
  while (at < until && static_cast<int>(entries.size()) < cap) {
    absl::Time start, end;
    std::string user = OnCallUser(c.account, schedule, at, &start, &end);
    if (user.empty()) break;
    entries.push_back(Object{{"start", Iso(std::max(start, since))},
                             {"end", Iso(std::min(end, until))},
                             {"user", UserRef(c.account, user)}});
    at = end;
  }
  return entries;
}

ApiReply ListSchedules(Call& c) {
  std::optional<std::string> query = c.Query("query");
  std::vector<std::string> teams = c.QueryList("team_ids");
  std::vector<json::value> items;
  for (const Object& s : c.account.Items("schedules")) {
    if (query && !ContainsIgnoreCase(Str(s, "name"), *query)) continue;
    if (!teams.empty() && std::none_of(teams.begin(), teams.end(), [&](const std::string& t) { return HasRef(s, "teams", t); })) {
      continue;
    }
    Object item = Render(s);
    item.erase("schedule_layers");
    items.emplace_back(std::move(item));
  }
  return OffsetPage(c, "schedules", std::move(items));
}

ApiReply GetSchedule(Call& c) {
  const Object* schedule = c.account.Find("schedules", c.Param("id"));
  if (schedule == nullptr) {
    if (c.account.Find("v3_schedules", c.Param("id")) != nullptr) {
      // What PagerDuty answers when a v2 client asks for a shift-based schedule.
      return ErrorReply(400, 2001, "Invalid Input Provided",
                        {absl::StrCat("Schedule ", c.Param("id"),
                                      " is a shift-based schedule. Use the v3 Schedules API "
                                      "(/v3/schedules/{id}) to read it.")});
    }
    return NotFound();
  }
  absl::Time since, until;
  if (auto error = Window(c, absl::Hours(24 * 7), &since, &until)) return *error;
  Object out = Render(*schedule);
  json::array entries = RenderedEntries(c, *schedule, since, until, 100);
  out["final_schedule"] = Object{{"name", "Final Schedule"},
                                 {"rendered_schedule_entries", entries},
                                 {"rendered_coverage_percentage", entries.empty() ? 0.0 : 100.0}};
  json::array overrides;
  for (const Object& o : c.account.Items("overrides")) {
    if (Str(o, "_schedule_id") == c.Param("id")) overrides.push_back(Object{{"start", o.at("start")}, {"end", o.at("end")}, {"user", o.at("user")}});
  }
  out["overrides_subschedule"] = Object{{"name", "Overrides"}, {"rendered_schedule_entries", std::move(overrides)}};
  return JsonReply(200, Object{{"schedule", std::move(out)}});
}

ApiReply ScheduleUsers(Call& c) {
  const Object* schedule = c.account.Find("schedules", c.Param("id"));
  if (schedule == nullptr) return NotFound();
  absl::Time since, until;
  if (auto error = Window(c, absl::Hours(24 * 7), &since, &until)) return *error;
  std::vector<std::string> ids;
  for (const json::value& e : RenderedEntries(c, *schedule, since, until, 500)) {
    std::string id(RefId(e.as_object(), "user"));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  json::array users;
  for (const std::string& id : ids) {
    if (const Object* u = c.account.Find("users", id)) users.push_back(Render(*u));
  }
  return JsonReply(200, Object{{"users", std::move(users)}});
}

ApiReply CreateOverrides(Call& c) {
  const Object* schedule = c.account.Find("schedules", c.Param("id"));
  if (schedule == nullptr) return NotFound();
  const json::value* list = c.body.is_object() ? c.body.as_object().if_contains("overrides") : nullptr;
  if (list == nullptr || !list->is_array() || list->as_array().empty()) {
    return Invalid({"overrides must be a non-empty array"});
  }
  // PagerDuty answers 201 with a status per override, failed ones included.
  json::array results;
  for (const json::value& item : list->as_array()) {
    const Object empty;
    const Object& o = item.is_object() ? item.as_object() : empty;
    std::optional<absl::Time> start = ParseTime(Str(o, "start")), end = ParseTime(Str(o, "end"));
    absl::string_view user = RefId(o, "user");
    std::vector<std::string> errors;
    if (!start || !end) errors.push_back("start and end must be ISO 8601 date-times");
    else if (*end <= *start) errors.push_back("Override must end after its start");
    if (c.account.Find("users", user) == nullptr) errors.push_back("user must reference a user in this account");
    Object result;
    if (!errors.empty()) {
      json::array e;
      for (const std::string& s : errors) e.emplace_back(s);
      result = Object{{"status", 400}, {"errors", std::move(e)}, {"override", o}};
    } else {
      Object stored{{"id", absl::StrCat("Q", c.account.ids().Long(13))},
                    {"_schedule_id", c.Param("id")},
                    {"start", Iso(*start)},
                    {"end", Iso(*end)},
                    {"user", UserRef(c.account, user)}};
      c.account.Items("overrides").push_back(stored);
      result = Object{{"status", 201}, {"override", Render(stored)}};
    }
    results.push_back(std::move(result));
  }
  return JsonReply(201, results);
}

ApiReply ListOncalls(Call& c) {
  std::vector<std::string> users = c.QueryList("user_ids");
  std::vector<std::string> policies = c.QueryList("escalation_policy_ids");
  std::vector<std::string> schedules = c.QueryList("schedule_ids");
  absl::Time at = c.now;
  if (auto s = c.Query("since")) {
    std::optional<absl::Time> t = ParseTime(*s);
    if (!t) return ErrorReply(400, 2004, "Invalid 'since' or 'until' Parameter Values");
    at = *t;
  }
  std::vector<json::value> oncalls;
  for (const Object& policy : c.account.Items("escalation_policies")) {
    if (!In(policies, Str(policy, "id"))) continue;
    const json::array& rules = policy.at("escalation_rules").as_array();
    for (size_t level = 1; level <= rules.size(); ++level) {
      for (const json::value& t : rules[level - 1].as_object().at("targets").as_array()) {
        const Object& target = t.as_object();
        Object entry{{"escalation_policy", Reference(policy, "escalation_policy_reference")},
                     {"escalation_level", static_cast<int64_t>(level)}};
        std::string user;
        if (absl::StartsWith(Str(target, "type"), "schedule")) {
          const Object* schedule = c.account.Find("schedules", Str(target, "id"));
          if (schedule == nullptr || !In(schedules, Str(*schedule, "id"))) continue;
          absl::Time start, end;
          user = OnCallUser(c.account, *schedule, at, &start, &end);
          entry["schedule"] = Reference(*schedule, "schedule_reference");
          entry["start"] = Iso(start);
          entry["end"] = Iso(end);
        } else {
          if (!schedules.empty()) continue;
          user = std::string(Str(target, "id"));
          entry["schedule"] = nullptr;
          entry["start"] = nullptr;
          entry["end"] = nullptr;
        }
        if (user.empty() || !In(users, user)) continue;
        entry["user"] = UserRef(c.account, user);
        oncalls.emplace_back(std::move(entry));
      }
    }
  }
  return OffsetPage(c, "oncalls", std::move(oncalls));
}

// --- Shift-based schedules (/v3). ---

std::string V3Self(absl::string_view schedule_id, absl::string_view rest) {
  return absl::StrCat(kApiBase, "/v3/schedules/", schedule_id, rest);
}

Object* V3Child(Call& c, const char* collection, const std::string& id) {
  Object* o = c.account.Find(collection, id);
  if (o == nullptr || Str(*o, "_schedule_id") != c.Param("id")) return nullptr;
  if (c.params.count("rotation_id") && std::string(collection) == "v3_events" &&
      Str(*o, "_rotation_id") != c.Param("rotation_id")) {
    return nullptr;
  }
  return o;
}

std::optional<ApiReply> CheckMember(Call& c, const json::value* member, absl::string_view field) {
  const Object* m = member && member->is_object() ? &member->as_object() : nullptr;
  if (m == nullptr || Str(*m, "type") != "user_member" || c.account.Find("users", Str(*m, "user_id")) == nullptr) {
    return Invalid({absl::StrCat(field, " must be {\"type\":\"user_member\",\"user_id\":<a user in this account>}")});
  }
  return std::nullopt;
}

std::optional<ApiReply> CheckSpan(const Object& o, const char* start_key, const char* end_key) {
  std::optional<absl::Time> start = ParseTime(Str(o, start_key)), end = ParseTime(Str(o, end_key));
  if (!start || !end) return Invalid({absl::StrCat(start_key, " and ", end_key, " must be ISO 8601 date-times")});
  if (*end <= *start) return Invalid({absl::StrCat(end_key, " must be after ", start_key)});
  return std::nullopt;
}

std::optional<ApiReply> CheckZone(absl::string_view zone) {
  absl::TimeZone tz;
  if (zone.empty() || !absl::LoadTimeZone(std::string(zone), &tz)) {
    return Invalid({"time_zone must be an IANA time zone such as America/New_York"});
  }
  return std::nullopt;
}

ApiReply V3List(Call& c, const char* collection, const char* key) {
  if (c.account.Find("v3_schedules", c.Param("id")) == nullptr) return NotFound();
  std::vector<json::value> items;
  for (const Object& o : c.account.Items(collection)) {
    if (Str(o, "_schedule_id") != c.Param("id")) continue;
    if (c.params.count("rotation_id") && Str(o, "_rotation_id") != c.Param("rotation_id")) continue;
    items.emplace_back(Render(o));
  }
  return OffsetPage(c, key, std::move(items), Paging::kNoTotal);
}

ApiReply V3Get(Call& c, const char* collection, const char* id_param, const char* key) {
  const Object* o = V3Child(c, collection, c.Param(id_param));
  return o ? EntityReply(200, key, *o) : NotFound();
}

ApiReply V3Delete(Call& c, const char* collection, const char* id_param) {
  if (V3Child(c, collection, c.Param(id_param)) == nullptr) return NotFound();
  c.account.Erase(collection, c.Param(id_param));
  return NoContent();
}

ApiReply V3Schedules(Call& c) {
  std::optional<std::string> query = c.Query("query");
  std::vector<json::value> items;
  for (const Object& s : c.account.Items("v3_schedules")) {
    if (query && !ContainsIgnoreCase(Str(s, "name"), *query)) continue;
    // The real list gives references without names; clients look each one up.
    items.emplace_back(Object{{"id", s.at("id")},
                              {"type", "schedule_v3_reference"},
                              {"summary", nullptr},
                              {"self", s.at("self")},
                              {"html_url", s.at("html_url")}});
  }
  return OffsetPage(c, "schedules", std::move(items), Paging::kNoTotal);
}

ApiReply CreateV3Schedule(Call& c) {
  Object* in = c.Wrapped("schedule");
  if (in == nullptr) return Invalid({"schedule is required"});
  if (Str(*in, "name").empty()) return Invalid({"name can't be blank"});
  if (auto error = CheckZone(Str(*in, "time_zone"))) return *error;
  Object schedule{{"id", c.account.ids().Classic()},
                  {"name", in->at("name")},
                  {"time_zone", in->at("time_zone")},
                  {"description", in->contains("description") ? in->at("description") : json::value(nullptr)},
                  {"teams", in->contains("teams") ? in->at("teams") : json::array{}}};
  Object& stored = c.account.Add("v3_schedules", std::move(schedule));
  return EntityReply(201, "schedule", stored);
}

ApiReply UpdateV3Schedule(Call& c) {
  Object* schedule = c.account.Find("v3_schedules", c.Param("id"));
  if (schedule == nullptr) return NotFound();
  Object* in = c.Wrapped("schedule");
  if (in == nullptr) return Invalid({"schedule is required"});
  // PagerDuty's v3 PUT replaces the schedule: name and time_zone must both be sent, and it
  // takes nothing but them and the description.
  for (const auto& member : *in) {
    if (member.key() != "name" && member.key() != "time_zone" && member.key() != "description") {
      return Invalid({absl::StrCat(S(member.key()), " is not a field this operation takes")});
    }
  }
  if (Str(*in, "name").empty()) return Invalid({"name can't be blank"});
  if (auto error = CheckZone(Str(*in, "time_zone"))) return *error;
  Merge(*schedule, *in);
  (*schedule)["summary"] = (*schedule)["name"];
  return EntityReply(200, "schedule", *schedule);
}

ApiReply DeleteV3Schedule(Call& c) {
  if (!c.account.Erase("v3_schedules", c.Param("id"))) return NotFound();
  for (const char* collection : {"v3_rotations", "v3_events", "v3_custom_shifts", "v3_overrides"}) {
    std::vector<Object>& items = c.account.Items(collection);
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](const Object& o) { return Str(o, "_schedule_id") == c.Param("id"); }),
                items.end());
  }
  return NoContent();
}

ApiReply CreateRotation(Call& c) {
  if (c.account.Find("v3_schedules", c.Param("id")) == nullptr) return NotFound();
  std::string id = c.account.ids().Long(25);
  Object rotation{{"id", id},
                  {"_schedule_id", c.Param("id")},
                  {"type", "schedule_rotation"},
                  {"schedule", Object{{"id", c.Param("id")}, {"type", "schedule_v3_reference"}}},
                  {"self", V3Self(c.Param("id"), absl::StrCat("/rotations/", id))}};
  c.account.Items("v3_rotations").push_back(rotation);
  Object out = Render(rotation);
  out["events"] = json::array{};
  return JsonReply(201, Object{{"rotation", std::move(out)}});
}

ApiReply GetRotation(Call& c) {
  const Object* rotation = V3Child(c, "v3_rotations", c.Param("rotation_id"));
  if (rotation == nullptr) return NotFound();
  Object out = Render(*rotation);
  json::array events;
  for (const Object& e : c.account.Items("v3_events")) {
    if (Str(e, "_rotation_id") == c.Param("rotation_id")) events.push_back(Render(e));
  }
  out["events"] = std::move(events);
  return JsonReply(200, Object{{"rotation", std::move(out)}});
}

ApiReply DeleteRotation(Call& c) {
  if (V3Child(c, "v3_rotations", c.Param("rotation_id")) == nullptr) return NotFound();
  c.account.Erase("v3_rotations", c.Param("rotation_id"));
  std::vector<Object>& events = c.account.Items("v3_events");
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const Object& e) { return Str(e, "_rotation_id") == c.Param("rotation_id"); }),
               events.end());
  return NoContent();
}

std::optional<ApiReply> CheckEvent(Call& c, const Object& e, bool partial) {
  for (const char* field : {"name", "start_time", "end_time", "effective_since", "recurrence", "assignment_strategy"}) {
    if (!partial && !e.contains(field)) return Invalid({absl::StrCat("event.", field, " is required")});
  }
  for (const char* field : {"start_time", "end_time"}) {
    const json::value* v = e.if_contains(field);
    if (v && (!v->is_object() || !ParseTime(Str(v->as_object(), "date_time")) ||
              CheckZone(Str(v->as_object(), "time_zone")))) {
      return Invalid({absl::StrCat("event.", field, " must be {\"date_time\": ISO 8601, \"time_zone\": IANA zone}")});
    }
  }
  if (const json::value* since = e.if_contains("effective_since"); since && !ParseTime(Str(since))) {
    return Invalid({"event.effective_since must be an ISO 8601 date-time"});
  }
  if (const json::value* r = e.if_contains("recurrence"); r && (!r->is_array() || r->as_array().empty())) {
    return Invalid({"event.recurrence must be a non-empty array of RRULE strings"});
  }
  if (const json::value* strategy = e.if_contains("assignment_strategy")) {
    const json::value* members = strategy->is_object() ? strategy->as_object().if_contains("members") : nullptr;
    if (members == nullptr || !members->is_array() || members->as_array().empty()) {
      return Invalid({"event.assignment_strategy.members must list at least one member"});
    }
    for (const json::value& m : members->as_array()) {
      if (auto error = CheckMember(c, &m, "assignment_strategy.members[]")) return error;
    }
  }
  return std::nullopt;
}

ApiReply CreateEvent(Call& c) {
  if (V3Child(c, "v3_rotations", c.Param("rotation_id")) == nullptr) return NotFound();
  Object* in = c.Wrapped("event");
  if (in == nullptr) return Invalid({"event is required"});
  if (auto error = CheckEvent(c, *in, /*partial=*/false)) return *error;
  Object event = *in;
  event["id"] = c.account.ids().Long(25);
  event["type"] = "schedule_event";
  event["_schedule_id"] = c.Param("id");
  event["_rotation_id"] = c.Param("rotation_id");
  if (!event.contains("effective_until")) event["effective_until"] = nullptr;
  c.account.Items("v3_events").push_back(event);
  return EntityReply(201, "event", event);
}

ApiReply UpdateEvent(Call& c) {
  Object* event = V3Child(c, "v3_events", c.Param("event_id"));
  if (event == nullptr) return NotFound();
  Object* in = c.Wrapped("event");
  if (in == nullptr) return Invalid({"event is required"});
  if (auto error = CheckEvent(c, *in, /*partial=*/true)) return *error;
  std::optional<absl::Time> since = ParseTime(Str(*event, "effective_since"));
  std::optional<absl::Time> until = ParseTime(Str(*event, "effective_until"));
  if (until && *until <= c.now) return Invalid({"Past events cannot be changed"});
  if (since && *since <= c.now) {
    for (const auto& member : *in) {
      if (member.key() != "effective_until") {
        return Invalid({"Only effective_until can be changed on an event that has started"});
      }
    }
  }
  Merge(*event, *in);
  return EntityReply(200, "event", *event);
}

ApiReply CreateCustomShifts(Call& c) {
  if (c.account.Find("v3_schedules", c.Param("id")) == nullptr) return NotFound();
  const json::value* list = c.body.is_object() ? c.body.as_object().if_contains("custom_shifts") : nullptr;
  if (list == nullptr || !list->is_array() || list->as_array().empty()) return Invalid({"custom_shifts must be a non-empty array"});
  json::array created;
  std::vector<Object> staged;
  for (const json::value& item : list->as_array()) {
    if (!item.is_object()) return Invalid({"each custom shift must be an object"});
    const Object& s = item.as_object();
    if (auto error = CheckSpan(s, "start_time", "end_time")) return *error;
    const json::value* assignments = s.if_contains("assignments");
    if (assignments == nullptr || !assignments->is_array() || assignments->as_array().size() != 1) {
      return Invalid({"a custom shift needs exactly one assignment"});
    }
    const json::value& a = assignments->as_array()[0];
    if (auto error = CheckMember(c, a.is_object() ? a.as_object().if_contains("member") : nullptr, "assignments[].member")) {
      return *error;
    }
    std::string id = c.account.ids().Long(25);
    Object shift{{"id", id},
                 {"_schedule_id", c.Param("id")},
                 {"type", "custom_shift"},
                 {"start_time", s.at("start_time")},
                 {"end_time", s.at("end_time")},
                 {"assignments", json::array{Object{{"id", c.account.ids().Long(26)},
                                                    {"type", "shift_assignment"},
                                                    {"member", a.as_object().at("member")}}}},
                 {"self", V3Self(c.Param("id"), absl::StrCat("/custom_shifts/", id))},
                 {"html_url", absl::StrCat(c.account.web_base(), "/schedules/", c.Param("id"))}};
    staged.push_back(shift);
    created.push_back(Render(shift));
  }
  for (Object& s : staged) c.account.Items("v3_custom_shifts").push_back(std::move(s));
  return JsonReply(201, Object{{"custom_shifts", std::move(created)}});
}

ApiReply UpdateCustomShift(Call& c) {
  Object* shift = V3Child(c, "v3_custom_shifts", c.Param("custom_shift_id"));
  if (shift == nullptr) return NotFound();
  Object* in = c.Wrapped("custom_shift");
  if (in == nullptr) return Invalid({"custom_shift is required"});
  Object merged = *shift;
  Merge(merged, *in);
  if (auto error = CheckSpan(merged, "start_time", "end_time")) return *error;
  *shift = std::move(merged);
  return EntityReply(200, "custom_shift", *shift);
}

std::optional<ApiReply> CheckOverride(Call& c, const Object& o) {
  if (auto error = CheckSpan(o, "start_time", "end_time")) return error;
  if (auto error = CheckMember(c, o.if_contains("overriding_member"), "overriding_member")) return error;
  if (o.contains("overridden_member")) {
    if (auto error = CheckMember(c, o.if_contains("overridden_member"), "overridden_member")) return error;
  }
  if (o.contains("rotation_id") && o.contains("custom_shift_id")) {
    return Invalid({"rotation_id and custom_shift_id are mutually exclusive"});
  }
  return std::nullopt;
}

ApiReply CreateV3Overrides(Call& c) {
  if (c.account.Find("v3_schedules", c.Param("id")) == nullptr) return NotFound();
  const json::value* list = c.body.is_object() ? c.body.as_object().if_contains("overrides") : nullptr;
  if (list == nullptr || !list->is_array() || list->as_array().empty()) return Invalid({"overrides must be a non-empty array"});
  std::vector<Object> staged;
  json::array created;
  for (const json::value& item : list->as_array()) {
    if (!item.is_object()) return Invalid({"each override must be an object"});
    const Object& o = item.as_object();
    if (!o.contains("overridden_member")) return Invalid({"overridden_member is required"});
    if (auto error = CheckOverride(c, o)) return *error;
    Object stored = o;
    stored["id"] = c.account.ids().Long(25);
    stored["type"] = "override_shift";
    stored["_schedule_id"] = c.Param("id");
    staged.push_back(stored);
    created.push_back(Render(stored));
  }
  for (Object& o : staged) c.account.Items("v3_overrides").push_back(std::move(o));
  return JsonReply(201, Object{{"overrides", std::move(created)}});
}

ApiReply UpdateV3Override(Call& c) {
  Object* o = V3Child(c, "v3_overrides", c.Param("override_id"));
  if (o == nullptr) return NotFound();
  Object* in = c.Wrapped("override");
  if (in == nullptr) return Invalid({"override is required"});
  Object merged = *o;
  Merge(merged, *in);
  if (auto error = CheckOverride(c, merged)) return *error;
  *o = std::move(merged);
  return EntityReply(200, "override", *o);
}

}  // namespace

void AddScheduleRoutes(const Register& add) {
  constexpr bool kWrites = true, kReads = false, kNoFrom = false;
  add("GET", "/schedules", kReads, "schedules.read", kNoFrom, ListSchedules);
  add("GET", "/schedules/{id}", kReads, "schedules.read", kNoFrom, GetSchedule);
  add("GET", "/schedules/{id}/users", kReads, "users.read", kNoFrom, ScheduleUsers);
  add("POST", "/schedules/{id}/overrides", kWrites, "schedules.write", kNoFrom, CreateOverrides);
  add("GET", "/schedules/{id}/overrides", kReads, "schedules.read", kNoFrom, [](Call& c) {
    if (c.account.Find("schedules", c.Param("id")) == nullptr) return NotFound();
    std::vector<json::value> items;
    for (const Object& o : c.account.Items("overrides")) {
      if (Str(o, "_schedule_id") == c.Param("id")) items.emplace_back(Render(o));
    }
    return OffsetPage(c, "overrides", std::move(items));
  });
  add("DELETE", "/schedules/{id}/overrides/{override_id}", kWrites, "schedules.write", kNoFrom, [](Call& c) {
    const Object* o = c.account.Find("overrides", c.Param("override_id"));
    if (o == nullptr || Str(*o, "_schedule_id") != c.Param("id")) return NotFound();
    c.account.Erase("overrides", c.Param("override_id"));
    return NoContent();
  });
  add("GET", "/oncalls", kReads, "oncalls.read", kNoFrom, ListOncalls);

  // The spec gives the /v3 operations no scope.
  add("GET", "/v3/schedules", kReads, "", kNoFrom, V3Schedules);
  add("POST", "/v3/schedules", kWrites, "", kNoFrom, CreateV3Schedule);
  add("GET", "/v3/schedules/{id}", kReads, "", kNoFrom, [](Call& c) {
    const Object* s = c.account.Find("v3_schedules", c.Param("id"));
    return s ? EntityReply(200, "schedule", *s) : NotFound();
  });
  add("PUT", "/v3/schedules/{id}", kWrites, "", kNoFrom, UpdateV3Schedule);
  add("DELETE", "/v3/schedules/{id}", kWrites, "", kNoFrom, DeleteV3Schedule);
  add("GET", "/v3/schedules/{id}/rotations", kReads, "", kNoFrom,
      [](Call& c) { return V3List(c, "v3_rotations", "rotations"); });
  add("POST", "/v3/schedules/{id}/rotations", kWrites, "", kNoFrom, CreateRotation);
  add("GET", "/v3/schedules/{id}/rotations/{rotation_id}", kReads, "", kNoFrom, GetRotation);
  add("DELETE", "/v3/schedules/{id}/rotations/{rotation_id}", kWrites, "", kNoFrom, DeleteRotation);
  add("GET", "/v3/schedules/{id}/rotations/{rotation_id}/events", kReads, "", kNoFrom, [](Call& c) {
    if (V3Child(c, "v3_rotations", c.Param("rotation_id")) == nullptr) return NotFound();
    return V3List(c, "v3_events", "events");
  });
  add("POST", "/v3/schedules/{id}/rotations/{rotation_id}/events", kWrites, "", kNoFrom, CreateEvent);
  add("GET", "/v3/schedules/{id}/rotations/{rotation_id}/events/{event_id}", kReads, "", kNoFrom,
      [](Call& c) { return V3Get(c, "v3_events", "event_id", "event"); });
  add("PUT", "/v3/schedules/{id}/rotations/{rotation_id}/events/{event_id}", kWrites, "", kNoFrom, UpdateEvent);
  add("DELETE", "/v3/schedules/{id}/rotations/{rotation_id}/events/{event_id}", kWrites, "", kNoFrom,
      [](Call& c) { return V3Delete(c, "v3_events", "event_id"); });
  add("GET", "/v3/schedules/{id}/custom_shifts", kReads, "", kNoFrom,
      [](Call& c) { return V3List(c, "v3_custom_shifts", "custom_shifts"); });
  add("POST", "/v3/schedules/{id}/custom_shifts", kWrites, "", kNoFrom, CreateCustomShifts);
  add("GET", "/v3/schedules/{id}/custom_shifts/{custom_shift_id}", kReads, "", kNoFrom,
      [](Call& c) { return V3Get(c, "v3_custom_shifts", "custom_shift_id", "custom_shift"); });
  add("PUT", "/v3/schedules/{id}/custom_shifts/{custom_shift_id}", kWrites, "", kNoFrom, UpdateCustomShift);
  add("DELETE", "/v3/schedules/{id}/custom_shifts/{custom_shift_id}", kWrites, "", kNoFrom,
      [](Call& c) { return V3Delete(c, "v3_custom_shifts", "custom_shift_id"); });
  add("GET", "/v3/schedules/{id}/overrides", kReads, "", kNoFrom,
      [](Call& c) { return V3List(c, "v3_overrides", "overrides"); });
  add("POST", "/v3/schedules/{id}/overrides", kWrites, "", kNoFrom, CreateV3Overrides);
  add("GET", "/v3/schedules/{id}/overrides/{override_id}", kReads, "", kNoFrom,
      [](Call& c) { return V3Get(c, "v3_overrides", "override_id", "override"); });
  add("PUT", "/v3/schedules/{id}/overrides/{override_id}", kWrites, "", kNoFrom, UpdateV3Override);
  add("DELETE", "/v3/schedules/{id}/overrides/{override_id}", kWrites, "", kNoFrom,
      [](Call& c) { return V3Delete(c, "v3_overrides", "override_id"); });
}

}  // namespace bastion::pagerduty_sim::internal
