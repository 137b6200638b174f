#include "services/governance/policy_snapshot.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/tenant/tenant_types.h"

namespace bastion::governance {
namespace {

void Deny(DecisionResult& r, DenyReason reason, std::string message) {
  r.allowed = false;
  r.reason = reason;
  r.message = std::move(message);
}

void Widen(absl::flat_hash_map<std::string, absl::Time>& grants, const std::string& id,
           absl::Time expiry) {
  auto [it, inserted] = grants.try_emplace(id, expiry);
  if (!inserted && it->second < expiry) it->second = expiry;
}

}  // namespace

PolicySnapshot::PolicySnapshot(const PolicyData& data, const TenantFacts& facts,
                               const CredentialsByServer& credentials)
    : version_(data.version), facts_(facts), store_arguments_(data.audit_settings.store_arguments) {
  absl::flat_hash_map<std::string, const Server*> server_by_id;
  absl::flat_hash_map<std::string, size_t> index_by_id;
  for (const Server& s : data.servers) server_by_id[s.id] = &s;

  servers_.reserve(data.servers.size());
  for (const Server& s : data.servers) {
    ServerEntry e;
    e.id = s.id;
    e.name = s.name;
    e.enabled = s.enabled;
    index_by_id[s.id] = servers_.size();
    server_by_key_[s.id] = servers_.size();
    server_by_key_[s.name] = servers_.size();
    servers_.push_back(std::move(e));
  }
  for (const Tool& t : data.tools) {
    auto it = index_by_id.find(t.server_id);
    if (it == index_by_id.end()) continue;
    ServerEntry& server = servers_[it->second];
    ToolEntry e;
    e.name = t.name;
    e.title = t.title;
    e.definition_json = t.definition_json;
    e.access = t.access;
    e.state = t.state;
    e.kill_switch = t.kill_switch;
    auto cred = credentials.find(t.server_id);
    e.fit = FitCredential(cred == credentials.end()
                              ? absl::StatusOr<CredentialInfo>(absl::UnknownError("not asked"))
                              : cred->second,
                          *server_by_id.at(t.server_id), t);
    server.tools.push_back(std::move(e));
  }
  for (ServerEntry& s : servers_) {
    std::sort(s.tools.begin(), s.tools.end(),
              [](const ToolEntry& a, const ToolEntry& b) { return a.name < b.name; });
    for (size_t i = 0; i < s.tools.size(); ++i) s.by_name[s.tools[i].name] = i;
  }

  // Resolve each profile's toolsets to (server, tool) pairs and grant them to its members.
  absl::flat_hash_map<std::string, const Toolset*> toolset_by_id;
  for (const Toolset& ts : data.toolsets) toolset_by_id[ts.id] = &ts;
  for (const AccessProfile& p : data.profiles) {
    const absl::Time expiry = p.expires_at.value_or(absl::InfiniteFuture());
    auto grant = [&](ToolEntry& tool) {
      for (const Member& m : p.members) {
        Widen(m.kind == Member::Kind::kUser ? tool.user_grants : tool.group_grants, m.id, expiry);
      }
    };
    for (const std::string& ref : p.toolsets) {
      if (ref == kAllApprovedToolset || ref == kApprovedReadOnlyToolset) {
        const bool read_only_only = ref == kApprovedReadOnlyToolset;
        for (const Tool& t : data.tools) {
          if (t.state != ToolState::kApproved || (read_only_only && !t.read_only())) continue;
          auto s = index_by_id.find(t.server_id);
          if (s == index_by_id.end()) continue;
          ServerEntry& server = servers_[s->second];
          grant(server.tools[server.by_name.at(t.name)]);
        }
        continue;
      }
      auto ts = toolset_by_id.find(ref);
      if (ts == toolset_by_id.end()) continue;
      auto s = index_by_id.find(ts->second->server_id);
      if (s == index_by_id.end()) continue;
      ServerEntry& server = servers_[s->second];
      for (const std::string& name : ts->second->tools) {
        auto t = server.by_name.find(name);
        if (t != server.by_name.end()) grant(server.tools[t->second]);
      }
    }
  }
}

const PolicySnapshot::ServerEntry* PolicySnapshot::Gate(absl::string_view server,
                                                        DecisionResult& r) const {
  r.policy_version = version_;
  r.tenant_id = facts_.id;
  if (!facts_.active) {
    Deny(r, DenyReason::kTenantInactive, tenant::kActivationRequiredMessage);
    return nullptr;
  }
  if (facts_.kill_switch) {
    Deny(r, DenyReason::kKillSwitch, tenant::kKillSwitchMessage);
    return nullptr;
  }
  auto it = server_by_key_.find(server);
  if (it == server_by_key_.end()) {
    Deny(r, DenyReason::kServerUnavailable,
         absl::StrCat("No server '", server, "' is registered for this tenant."));
    return nullptr;
  }
  const ServerEntry& s = servers_[it->second];
  r.server_id = s.id;
  if (!s.enabled) {
    Deny(r, DenyReason::kServerUnavailable,
         absl::StrCat("Server '", s.name, "' is disabled by your administrator."));
    return nullptr;
  }
  return &s;
}

PolicySnapshot::Grant PolicySnapshot::GrantFor(const ToolEntry& tool, absl::string_view user_id,
                                               const std::vector<std::string>& group_ids,
                                               absl::Time now, absl::Time* until) {
  bool found = false;
  absl::Time best = absl::InfinitePast();
  auto consider = [&](const absl::flat_hash_map<std::string, absl::Time>& grants,
                      absl::string_view id) {
    auto it = grants.find(id);
    if (it == grants.end()) return;
    found = true;
    best = std::max(best, it->second);
  };
  if (!user_id.empty()) consider(tool.user_grants, user_id);
  if (!tool.group_grants.empty()) {
    for (const std::string& g : group_ids) consider(tool.group_grants, g);
  }
  if (!found) return Grant::kNone;
  if (until != nullptr) *until = best;
  return best > now ? Grant::kActive : Grant::kExpired;
}

DenyReason PolicySnapshot::Check(const ToolEntry& tool, absl::string_view user_id,
                                 const std::vector<std::string>& group_ids, absl::Time now,
                                 absl::Time* grant_until) {
  if (tool.kill_switch) return DenyReason::kKillSwitch;
  switch (tool.state) {
    case ToolState::kApproved: break;
    case ToolState::kPendingReview: return DenyReason::kToolPendingReview;
    case ToolState::kDisabled:
    case ToolState::kRemoved: return DenyReason::kToolDisabled;
  }
  switch (GrantFor(tool, user_id, group_ids, now, grant_until)) {
    case Grant::kActive: break;
    case Grant::kNone: return DenyReason::kNotGranted;
    case Grant::kExpired: return DenyReason::kGrantExpired;
  }
  if (!tool.fit.can_serve) return DenyReason::kCredentialCannotServe;
  return DenyReason::kNone;
}

void PolicySnapshot::DecideTool(const ToolEntry& tool, absl::string_view user_id,
                                const std::vector<std::string>& group_ids, absl::Time now,
                                DecisionResult& r) const {
  r.access = tool.access;
  const DenyReason reason = Check(tool, user_id, group_ids, now);
  switch (reason) {
    case DenyReason::kNone:
      r.allowed = true;
      r.reason = DenyReason::kNone;
      return;
    case DenyReason::kKillSwitch:
      return Deny(r, reason, absl::StrCat("Tool '", tool.name, "' is switched off by your administrator."));
    case DenyReason::kToolPendingReview:
      return Deny(r, reason,
                  absl::StrCat("Tool '", tool.name, "' is waiting for an administrator's review."));
    case DenyReason::kToolDisabled:
      return Deny(r, reason,
                  tool.state == ToolState::kRemoved
                      ? absl::StrCat("Tool '", tool.name, "' is no longer offered by this server.")
                      : absl::StrCat("Tool '", tool.name, "' is disabled by your administrator."));
    case DenyReason::kNotGranted:
      return Deny(r, reason,
                  absl::StrCat("You have no access profile that grants tool '", tool.name,
                               "'. Ask your administrator."));
    case DenyReason::kGrantExpired:
      return Deny(r, reason,
                  absl::StrCat("Your access to tool '", tool.name,
                               "' has expired. Ask your administrator to renew it."));
    case DenyReason::kCredentialCannotServe:
      return Deny(r, reason,
                  absl::StrCat("Tool '", tool.name, "' cannot be served: ", tool.fit.problem, "."));
    default:
      return Deny(r, reason, "Denied.");
  }
}

DecisionResult PolicySnapshot::Decide(absl::string_view user_id,
                                      const std::vector<std::string>& group_ids,
                                      absl::string_view server, absl::string_view tool,
                                      absl::Time now) const {
  DecisionResult r;
  const ServerEntry* s = Gate(server, r);
  if (s == nullptr) return r;
  auto it = s->by_name.find(tool);
  if (it == s->by_name.end()) {
    Deny(r, DenyReason::kUnknownTool,
         absl::StrCat("Server '", s->name, "' has no tool '", tool, "'."));
    return r;
  }
  DecideTool(s->tools[it->second], user_id, group_ids, now, r);
  return r;
}

AllowedTools PolicySnapshot::Allowed(absl::string_view user_id,
                                     const std::vector<std::string>& group_ids,
                                     absl::string_view server, absl::Time now) const {
  AllowedTools out;
  DecisionResult gate;
  const ServerEntry* s = Gate(server, gate);
  out.policy_version = version_;
  if (s == nullptr) {
    out.reason = gate.reason;
    out.message = gate.message;
    return out;
  }
  for (const ToolEntry& t : s->tools) {
    absl::Time until = absl::InfiniteFuture();
    if (Check(t, user_id, group_ids, now, &until) == DenyReason::kNone) {
      out.tools.push_back(AllowedTool{t.name, t.title, t.access, t.definition_json});
      out.valid_until = std::min(out.valid_until, until);
    }
  }
  return out;
}

}  // namespace bastion::governance
