// The account's directory: users, teams and their members, services, escalation policies,
// priorities, business services and service dependencies, abilities.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim::internal {

namespace json = boost::json;

namespace {

constexpr const char* kAbilities[] = {"teams", "read_only_users", "service_support_hours", "urgencies",
                                      "event_orchestration", "status_pages", "analytics", "incident_workflows",
                                      "shift_based_schedules"};

bool AnyTeam(const Object& o, const std::vector<std::string>& teams) {
  return teams.empty() || std::any_of(teams.begin(), teams.end(), [&](const std::string& t) { return HasRef(o, "teams", t); });
}

bool NameTaken(Call& c, const char* collection, absl::string_view name, absl::string_view except_id) {
  for (const Object& o : c.account.Items(collection)) {
    if (Str(o, "id") != except_id && absl::EqualsIgnoreCase(Str(o, "name"), name)) return true;
  }
  return false;
}

ApiReply GetOne(Call& c, const char* collection, const char* key) {
  const Object* o = c.account.Find(collection, c.Param("id"));
  return o ? EntityReply(200, key, *o) : NotFound();
}

ApiReply DeleteOne(Call& c, const char* collection) {
  return c.account.Erase(collection, c.Param("id")) ? NoContent() : NotFound();
}

// Expands the references a client sent ({"id","type"}) the way PagerDuty echoes them back.
void Expand(Call& c, Object& o) {
  for (auto& member : o) ExpandReferences(c.account, member.value());
}

// --- Users ---

ApiReply ListUsers(Call& c) {
  std::optional<std::string> query = c.Query("query");
  std::vector<std::string> teams = c.QueryList("team_ids");
  std::vector<json::value> items;
  for (const Object& u : c.account.Items("users")) {
    if (query && !ContainsIgnoreCase(Str(u, "name"), *query) && !ContainsIgnoreCase(Str(u, "email"), *query)) continue;
    if (!AnyTeam(u, teams)) continue;
    items.emplace_back(Render(u));
  }
  return OffsetPage(c, "users", std::move(items));
}

std::optional<ApiReply> CheckUser(Call& c, const Object& in, absl::string_view except_id, bool partial) {
  if ((!partial || in.contains("name")) && Str(in, "name").empty()) return Invalid({"Name can't be blank"});
  if (!partial || in.contains("email")) {
    absl::string_view email = Str(in, "email");
    size_t at = email.find('@');
    if (at == absl::string_view::npos || at == 0 || email.find('.', at) == absl::string_view::npos) {
      return Invalid({"Email is invalid"});
    }
    for (const Object& u : c.account.Items("users")) {
      if (Str(u, "id") != except_id && absl::EqualsIgnoreCase(Str(u, "email"), email)) {
        return Invalid({"Email has already been taken"});
      }
    }
  }
  if (in.contains("role")) {
    static constexpr const char* kRoles[] = {"admin", "limited_user", "observer", "owner", "read_only_user",
                                             "restricted_access", "read_only_limited_user", "user"};
    absl::string_view role = Str(in, "role");
    if (std::none_of(std::begin(kRoles), std::end(kRoles), [&](const char* r) { return role == r; })) {
      return Invalid({"Role is not a valid user role"});
    }
  }
  return std::nullopt;
}

ApiReply CreateUser(Call& c) {
  Object* in = c.Wrapped("user");
  if (in == nullptr) return Invalid({"user is required"});
  if (auto error = CheckUser(c, *in, "", /*partial=*/false)) return *error;
  Object user = *in;
  std::string id = c.account.ids().Classic();
  user["id"] = id;
  user.erase("type");
  for (const char* key : {"time_zone", "color", "role", "job_title", "description"}) {
    if (!user.contains(key)) user[key] = nullptr;
  }
  if (user["time_zone"].is_null()) user["time_zone"] = "Etc/UTC";
  if (user["role"].is_null()) user["role"] = "user";
  user["avatar_url"] = "https://secure.gravatar.com/avatar/0?d=mm&r=PG";
  user["invitation_sent"] = true;
  user["teams"] = json::array{};
  user["contact_methods"] = json::array{};
  user["notification_rules"] = json::array{};
  return EntityReply(201, "user", c.account.Add("users", std::move(user)));
}

ApiReply UpdateUser(Call& c) {
  Object* user = c.account.Find("users", c.Param("id"));
  if (user == nullptr) return NotFound();
  Object* in = c.Wrapped("user");
  if (in == nullptr) return Invalid({"user is required"});
  if (auto error = CheckUser(c, *in, c.Param("id"), /*partial=*/true)) return *error;
  Merge(*user, *in);
  (*user)["summary"] = (*user)["name"];
  return EntityReply(200, "user", *user);
}

ApiReply Me(Call& c) {
  if (c.request.caller.account_level) {
    return ErrorReply(400, 2001,
                      "Because this request was made using an account-level access token, we were unable to "
                      "determine the user's identity. Please use a user-level token.");
  }
  const Object* user = c.account.Find("users", c.request.caller.user_id);
  return user ? EntityReply(200, "user", *user) : NotFound();
}

// --- Teams ---

ApiReply ListTeams(Call& c) {
  std::optional<std::string> query = c.Query("query");
  std::vector<json::value> items;
  for (const Object& t : c.account.Items("teams")) {
    if (query && !ContainsIgnoreCase(Str(t, "name"), *query)) continue;
    items.emplace_back(Render(t));
  }
  return OffsetPage(c, "teams", std::move(items));
}

ApiReply CreateTeam(Call& c) {
  Object* in = c.Wrapped("team");
  if (in == nullptr) return Invalid({"team is required"});
  if (Str(*in, "name").empty()) return Invalid({"Name can't be blank"});
  if (NameTaken(c, "teams", Str(*in, "name"), "")) return Invalid({"Name has already been taken"});
  Object team{{"id", c.account.ids().Classic()},
              {"name", in->at("name")},
              {"description", in->contains("description") ? in->at("description") : json::value(nullptr)},
              {"default_role", in->contains("default_role") ? in->at("default_role") : json::value("manager")},
              {"parent", in->contains("parent") ? in->at("parent") : json::value(nullptr)}};
  return EntityReply(201, "team", c.account.Add("teams", std::move(team)));
}

ApiReply UpdateTeam(Call& c) {
  Object* team = c.account.Find("teams", c.Param("id"));
  if (team == nullptr) return NotFound();
  Object* in = c.Wrapped("team");
  if (in == nullptr) return Invalid({"team is required"});
  if (in->contains("name") && Str(*in, "name").empty()) return Invalid({"Name can't be blank"});
  if (NameTaken(c, "teams", Str(*in, "name"), c.Param("id"))) return Invalid({"Name has already been taken"});
  Merge(*team, *in);
  (*team)["summary"] = (*team)["name"];
  return EntityReply(200, "team", *team);
}

void RemoveTeamFromUser(Call& c, absl::string_view user_id, absl::string_view team_id) {
  Object* user = c.account.Find("users", user_id);
  if (user == nullptr || !(*user)["teams"].is_array()) return;
  json::array& teams = (*user)["teams"].as_array();
  for (auto it = teams.begin(); it != teams.end(); ++it) {
    if (Str(it->as_object(), "id") == team_id) {
      teams.erase(it);
      return;
    }
  }
}

ApiReply DeleteTeam(Call& c) {
  if (!c.account.Erase("teams", c.Param("id"))) return NotFound();
  std::vector<Object>& members = c.account.Items("team_members");
  for (const Object& m : members) {
    if (Str(m, "team_id") == c.Param("id")) RemoveTeamFromUser(c, Str(m, "user_id"), c.Param("id"));
  }
  members.erase(std::remove_if(members.begin(), members.end(),
                               [&](const Object& m) { return Str(m, "team_id") == c.Param("id"); }),
                members.end());
  return NoContent();
}

ApiReply TeamMembers(Call& c) {
  if (c.account.Find("teams", c.Param("id")) == nullptr) return NotFound();
  std::vector<json::value> items;
  for (const Object& m : c.account.Items("team_members")) {
    if (Str(m, "team_id") != c.Param("id")) continue;
    items.emplace_back(Object{{"user", UserRef(c.account, Str(m, "user_id"))}, {"role", m.at("role")}});
  }
  return OffsetPage(c, "members", std::move(items));
}

ApiReply AddTeamMember(Call& c) {
  const Object* team = c.account.Find("teams", c.Param("id"));
  Object* user = c.account.Find("users", c.Param("user_id"));
  if (team == nullptr || user == nullptr) return NotFound();
  std::string role = "manager";
  if (c.body.is_object() && c.body.as_object().contains("role")) {
    role = std::string(Str(c.body.as_object(), "role"));
    if (role != "observer" && role != "responder" && role != "manager") {
      return Invalid({"role must be observer, responder or manager"});
    }
  }
  for (Object& m : c.account.Items("team_members")) {
    if (Str(m, "team_id") == c.Param("id") && Str(m, "user_id") == c.Param("user_id")) {
      m["role"] = role;
      return NoContent();
    }
  }
  c.account.Items("team_members").push_back(Object{{"team_id", c.Param("id")}, {"user_id", c.Param("user_id")}, {"role", role}});
  if (!(*user)["teams"].is_array()) (*user)["teams"] = json::array{};
  (*user)["teams"].as_array().push_back(Reference(*team, "team_reference"));
  return NoContent();
}

ApiReply RemoveTeamMember(Call& c) {
  std::vector<Object>& members = c.account.Items("team_members");
  auto it = std::find_if(members.begin(), members.end(), [&](const Object& m) {
    return Str(m, "team_id") == c.Param("id") && Str(m, "user_id") == c.Param("user_id");
  });
  if (it == members.end()) return NotFound();
  members.erase(it);
  RemoveTeamFromUser(c, c.Param("user_id"), c.Param("id"));
  return NoContent();
}

// --- Services ---

ApiReply ListServices(Call& c) {
  std::optional<std::string> query = c.Query("query");
  std::optional<std::string> name = c.Query("name");
  std::vector<std::string> teams = c.QueryList("team_ids");
  std::vector<const Object*> matched;
  for (const Object& s : c.account.Items("services")) {
    if (query && !ContainsIgnoreCase(Str(s, "name"), *query)) continue;
    if (name && Str(s, "name") != *name) continue;
    if (!AnyTeam(s, teams)) continue;
    matched.push_back(&s);
  }
  std::sort(matched.begin(), matched.end(), [](const Object* a, const Object* b) { return Str(*a, "name") < Str(*b, "name"); });
  std::vector<json::value> items;
  for (const Object* s : matched) items.emplace_back(Render(*s));
  return OffsetPage(c, "services", std::move(items));
}

std::optional<ApiReply> CheckPolicyRef(Call& c, const Object& in) {
  const Object* policy = c.account.Find("escalation_policies", RefId(in, "escalation_policy"));
  if (policy == nullptr) return Invalid({"Escalation policy must reference an escalation policy in this account"});
  return std::nullopt;
}

ApiReply CreateService(Call& c) {
  Object* in = c.Wrapped("service");
  if (in == nullptr) return Invalid({"service is required"});
  if (Str(*in, "name").empty()) return Invalid({"Name can't be blank"});
  if (NameTaken(c, "services", Str(*in, "name"), "")) return Invalid({"Name has already been taken"});
  if (auto error = CheckPolicyRef(c, *in)) return *error;
  Object service = *in;
  service.erase("type");
  service["id"] = c.account.ids().Classic();
  service["created_at"] = Iso(c.now);
  service["last_incident_timestamp"] = nullptr;
  if (!service.contains("status")) service["status"] = "active";
  if (!service.contains("description")) service["description"] = nullptr;
  if (!service.contains("auto_resolve_timeout")) service["auto_resolve_timeout"] = 14400;
  if (!service.contains("acknowledgement_timeout")) service["acknowledgement_timeout"] = 1800;
  if (!service.contains("alert_creation")) service["alert_creation"] = "create_alerts_and_incidents";
  if (!service.contains("incident_urgency_rule")) service["incident_urgency_rule"] = Object{{"type", "constant"}, {"urgency", "high"}};
  if (!service.contains("teams")) service["teams"] = json::array{};
  service["integrations"] = json::array{};
  Expand(c, service);
  return EntityReply(201, "service", c.account.Add("services", std::move(service)));
}

ApiReply UpdateService(Call& c) {
  Object* service = c.account.Find("services", c.Param("id"));
  if (service == nullptr) return NotFound();
  Object* in = c.Wrapped("service");
  if (in == nullptr) return Invalid({"service is required"});
  if (in->contains("name") && Str(*in, "name").empty()) return Invalid({"Name can't be blank"});
  if (NameTaken(c, "services", Str(*in, "name"), c.Param("id"))) return Invalid({"Name has already been taken"});
  if (in->contains("escalation_policy")) {
    if (auto error = CheckPolicyRef(c, *in)) return *error;
  }
  if (in->contains("status")) {
    absl::string_view s = Str(*in, "status");
    if (s != "active" && s != "warning" && s != "critical" && s != "maintenance" && s != "disabled") {
      return Invalid({"status must be active, warning, critical, maintenance or disabled"});
    }
  }
  Merge(*service, *in);
  (*service)["summary"] = (*service)["name"];
  Expand(c, *service);
  return EntityReply(200, "service", *service);
}

// --- Escalation policies ---

std::optional<ApiReply> CheckRules(Call& c, json::value& rules) {
  if (!rules.is_array() || rules.as_array().empty()) return Invalid({"Escalation rules can't be empty"});
  for (json::value& r : rules.as_array()) {
    if (!r.is_object()) return Invalid({"each escalation rule must be an object"});
    Object& rule = r.as_object();
    const json::value* delay = rule.if_contains("escalation_delay_in_minutes");
    if (delay == nullptr || !delay->is_int64() || delay->as_int64() < 1) {
      return Invalid({"escalation_delay_in_minutes must be a positive integer"});
    }
    json::value* targets = rule.if_contains("targets");
    if (targets == nullptr || !targets->is_array() || targets->as_array().empty()) {
      return Invalid({"Escalation rule targets can't be empty"});
    }
    for (const json::value& t : targets->as_array()) {
      absl::string_view type = t.is_object() ? Str(t.as_object(), "type") : "";
      absl::string_view id = t.is_object() ? Str(t.as_object(), "id") : "";
      const char* collection = absl::StartsWith(type, "user") ? "users"
                               : absl::StartsWith(type, "schedule") ? "schedules"
                                                                    : nullptr;
      if (collection == nullptr || c.account.Find(collection, id) == nullptr) {
        return Invalid({absl::StrCat("Escalation rule target ", id, " must be a user_reference or schedule_reference in this account")});
      }
    }
    if (!rule.contains("id")) rule["id"] = c.account.ids().Classic();
  }
  return std::nullopt;
}

ApiReply ListPolicies(Call& c) {
  std::optional<std::string> query = c.Query("query");
  std::vector<std::string> users = c.QueryList("user_ids");
  std::vector<std::string> teams = c.QueryList("team_ids");
  std::vector<json::value> items;
  for (const Object& p : c.account.Items("escalation_policies")) {
    if (query && !ContainsIgnoreCase(Str(p, "name"), *query)) continue;
    if (!AnyTeam(p, teams)) continue;
    if (!users.empty()) {
      bool found = false;
      for (const json::value& r : p.at("escalation_rules").as_array()) {
        for (const json::value& t : r.as_object().at("targets").as_array()) {
          absl::string_view id = Str(t.as_object(), "id");
          if (std::find(users.begin(), users.end(), id) != users.end()) found = true;
          if (const Object* s = c.account.Find("schedules", id)) {
            for (const std::string& u : users) found = found || HasRef(*s, "users", u);
          }
        }
      }
      if (!found) continue;
    }
    items.emplace_back(Render(p));
  }
  return OffsetPage(c, "escalation_policies", std::move(items));
}

ApiReply CreatePolicy(Call& c) {
  Object* in = c.Wrapped("escalation_policy");
  if (in == nullptr) return Invalid({"escalation_policy is required"});
  if (Str(*in, "name").empty()) return Invalid({"Name can't be blank"});
  if (NameTaken(c, "escalation_policies", Str(*in, "name"), "")) return Invalid({"Name has already been taken"});
  Object policy = *in;
  if (!policy.contains("escalation_rules")) return Invalid({"Escalation rules can't be empty"});
  if (auto error = CheckRules(c, policy["escalation_rules"])) return *error;
  policy.erase("type");
  policy["id"] = c.account.ids().Classic();
  if (!policy.contains("num_loops")) policy["num_loops"] = 0;
  if (!policy.contains("on_call_handoff_notifications")) policy["on_call_handoff_notifications"] = "if_has_services";
  if (!policy.contains("services")) policy["services"] = json::array{};
  if (!policy.contains("teams")) policy["teams"] = json::array{};
  if (!policy.contains("description")) policy["description"] = nullptr;
  Expand(c, policy);
  return EntityReply(201, "escalation_policy", c.account.Add("escalation_policies", std::move(policy)));
}

ApiReply UpdatePolicy(Call& c) {
  Object* policy = c.account.Find("escalation_policies", c.Param("id"));
  if (policy == nullptr) return NotFound();
  Object* in = c.Wrapped("escalation_policy");
  if (in == nullptr) return Invalid({"escalation_policy is required"});
  Object patch = *in;
  if (patch.contains("name") && Str(patch, "name").empty()) return Invalid({"Name can't be blank"});
  if (patch.contains("escalation_rules")) {
    if (auto error = CheckRules(c, patch["escalation_rules"])) return *error;
  }
  Merge(*policy, patch);
  (*policy)["summary"] = (*policy)["name"];
  Expand(c, *policy);
  return EntityReply(200, "escalation_policy", *policy);
}

ApiReply Dependencies(Call& c, const char* collection) {
  if (c.account.Find(collection, c.Param("id")) == nullptr) return NotFound();
  json::array relationships;
  for (const Object& d : c.account.Items("service_dependencies")) {
    if (RefId(d, "supporting_service") == c.Param("id") || RefId(d, "dependent_service") == c.Param("id")) {
      relationships.push_back(Render(d));
    }
  }
  return JsonReply(200, Object{{"relationships", std::move(relationships)}});
}

}  // namespace

void AddDirectoryRoutes(const Register& add) {
  constexpr bool kWrites = true, kReads = false, kFrom = true, kNoFrom = false;
  add("GET", "/users", kReads, "users.read", kNoFrom, ListUsers);
  add("POST", "/users", kWrites, "users.write", kFrom, CreateUser);
  add("GET", "/users/me", kReads, "", kNoFrom, Me);
  add("GET", "/users/{id}", kReads, "users.read", kNoFrom, [](Call& c) { return GetOne(c, "users", "user"); });
  add("PUT", "/users/{id}", kWrites, "users.write", kNoFrom, UpdateUser);
  add("DELETE", "/users/{id}", kWrites, "users.write", kNoFrom, [](Call& c) { return DeleteOne(c, "users"); });

  add("GET", "/teams", kReads, "teams.read", kNoFrom, ListTeams);
  add("POST", "/teams", kWrites, "teams.write", kNoFrom, CreateTeam);
  add("GET", "/teams/{id}", kReads, "teams.read", kNoFrom, [](Call& c) { return GetOne(c, "teams", "team"); });
  add("PUT", "/teams/{id}", kWrites, "teams.write", kNoFrom, UpdateTeam);
  add("DELETE", "/teams/{id}", kWrites, "teams.write", kNoFrom, DeleteTeam);
  add("GET", "/teams/{id}/members", kReads, "teams.read", kNoFrom, TeamMembers);
  add("PUT", "/teams/{id}/users/{user_id}", kWrites, "teams.write", kNoFrom, AddTeamMember);
  add("DELETE", "/teams/{id}/users/{user_id}", kWrites, "teams.write", kNoFrom, RemoveTeamMember);

  add("GET", "/services", kReads, "services.read", kNoFrom, ListServices);
  add("POST", "/services", kWrites, "services.write", kNoFrom, CreateService);
  add("GET", "/services/{id}", kReads, "services.read", kNoFrom, [](Call& c) { return GetOne(c, "services", "service"); });
  add("PUT", "/services/{id}", kWrites, "services.write", kNoFrom, UpdateService);
  add("DELETE", "/services/{id}", kWrites, "services.write", kNoFrom, [](Call& c) { return DeleteOne(c, "services"); });

  add("GET", "/escalation_policies", kReads, "escalation_policies.read", kNoFrom, ListPolicies);
  add("POST", "/escalation_policies", kWrites, "escalation_policies.write", kNoFrom, CreatePolicy);
  add("GET", "/escalation_policies/{id}", kReads, "escalation_policies.read", kNoFrom,
      [](Call& c) { return GetOne(c, "escalation_policies", "escalation_policy"); });
  add("PUT", "/escalation_policies/{id}", kWrites, "escalation_policies.write", kNoFrom, UpdatePolicy);
  add("DELETE", "/escalation_policies/{id}", kWrites, "escalation_policies.write", kNoFrom,
      [](Call& c) { return DeleteOne(c, "escalation_policies"); });

  add("GET", "/priorities", kReads, "priorities.read", kNoFrom,
      [](Call& c) { return OffsetPage(c, "priorities", Rendered(c.account.Items("priorities"))); });
  add("GET", "/business_services", kReads, "services.read", kNoFrom,
      [](Call& c) { return OffsetPage(c, "business_services", Rendered(c.account.Items("business_services"))); });
  add("GET", "/business_services/{id}", kReads, "services.read", kNoFrom,
      [](Call& c) { return GetOne(c, "business_services", "business_service"); });
  add("GET", "/service_dependencies/business_services/{id}", kReads, "services.read", kNoFrom,
      [](Call& c) { return Dependencies(c, "business_services"); });
  add("GET", "/service_dependencies/technical_services/{id}", kReads, "services.read", kNoFrom,
      [](Call& c) { return Dependencies(c, "services"); });

  add("GET", "/abilities", kReads, "abilities.read", kNoFrom, [](Call&) {
    json::array abilities;
    for (const char* a : kAbilities) abilities.emplace_back(a);
    return JsonReply(200, Object{{"abilities", std::move(abilities)}});
  });
  add("GET", "/abilities/{id}", kReads, "abilities.read", kNoFrom, [](Call& c) {
    for (const char* a : kAbilities) {
      if (c.Param("id") == a) return NoContent();
    }
    return ErrorReply(402, 2014, "The account does not have the ability to perform this action");
  });
}

}  // namespace bastion::pagerduty_sim::internal
