#include "services/governance/governance_service.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "services/governance/audit_chain.h"
#include "services/governance/canonical_json.h"

namespace bastion::governance {
namespace {

namespace json = boost::json;
using Kind = auth::Caller::Kind;

constexpr int kMutateAttempts = 5;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int kExportPageSize = 500;
constexpr int kVerifyPageSize = 1000;
constexpr size_t kMaxRecordBatch = 1000;
constexpr size_t kMaxEventIdLength = 128;

// Decisions, allowed tools, policy watches and audit records serve the edge alone (and the
// operator); any other service identity is refused like a tenant user.
absl::Status RequireDecisionCaller(const auth::Caller& c) {
  if (c.is_service("edge") || c.kind == Kind::kOperator) return absl::OkStatus();
  if (c.kind == Kind::kNone) return absl::UnauthenticatedError("a service identity is required");
  return absl::PermissionDeniedError("only the edge service may call this");
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

std::string Details(const json::object& o) { return CanonicalJson(o); }

const Server* FindServer(const PolicyData& p, const std::string& ref) {
  for (const Server& s : p.servers) {
    if (s.name == ref) return &s;
  }
  for (const Server& s : p.servers) {
    if (s.id == ref) return &s;
  }
  return nullptr;
}

absl::StatusOr<const Server*> ResolveServer(const PolicyData& p, const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("server must name a server (name or id)");
  const Server* s = FindServer(p, ref);
  if (s == nullptr) {
    return absl::NotFoundError(absl::StrCat("server '", ref, "' not found in this tenant"));
  }
  return s;
}

const Toolset* FindToolset(const PolicyData& p, const std::string& ref) {
  for (const Toolset& t : p.toolsets) {
    if (t.name == ref) return &t;
  }
  for (const Toolset& t : p.toolsets) {
    if (t.id == ref) return &t;
  }
  return nullptr;
}

const AccessProfile* FindProfile(const PolicyData& p, const std::string& ref) {
  for (const AccessProfile& a : p.profiles) {
    if (a.name == ref) return &a;
  }
  for (const AccessProfile& a : p.profiles) {
    if (a.id == ref) return &a;
  }
  return nullptr;
}

bool IsBuiltin(const std::string& name) {
  return name == kAllApprovedToolset || name == kApprovedReadOnlyToolset;
}

std::vector<Tool> ToolsOf(const PolicyData& p, const std::string& server_id) {
  std::vector<Tool> out;
  for (const Tool& t : p.tools) {
    if (t.server_id == server_id) out.push_back(t);
  }
  return out;
}

// The tools named, checked against the server's discovered (not removed) tools; sorted, distinct.
absl::StatusOr<std::vector<std::string>> CheckToolNames(const PolicyData& p, const Server& server,
                                                        const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const std::string& n : names) {
    if (n.empty()) return absl::InvalidArgumentError("tool names must not be empty");
    auto it = std::find_if(p.tools.begin(), p.tools.end(), [&](const Tool& t) {
      return t.server_id == server.id && t.name == n;
    });
    if (it == p.tools.end() || it->state == ToolState::kRemoved) {
      return absl::NotFoundError(
          absl::StrCat("server '", server.name, "' has no tool '", n, "' (see ListTools)"));
    }
    out.insert(n);
  }
  return std::vector<std::string>(out.begin(), out.end());
}

// Toolset references (names, ids, built-in names) -> stored references (ids, built-in names).
absl::StatusOr<std::vector<std::string>> ResolveToolsets(const PolicyData& p,
                                                         const std::vector<std::string>& refs) {
  std::vector<std::string> out;
  for (const std::string& ref : refs) {
    std::string id;
    if (IsBuiltin(ref)) {
      id = ref;
    } else if (const Toolset* t = FindToolset(p, ref); t != nullptr) {
      id = t->id;
    } else {
      return absl::NotFoundError(absl::StrCat("toolset '", ref, "' not found in this tenant"));
    }
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

ToolState InitialState(const Server& server, const TenantFacts& tenant, const Tool& tool) {
  switch (server.tool_policy) {
    case ToolPolicy::kRequireReview: return ToolState::kPendingReview;
    case ToolPolicy::kApproveAll: return ToolState::kApproved;
    case ToolPolicy::kApproveReadOnly:
      return tool.read_only() ? ToolState::kApproved : ToolState::kPendingReview;
    case ToolPolicy::kTenantDefault:
      if (tenant.default_approved) return ToolState::kApproved;
      if (tenant.auto_approve_read_only && tool.read_only()) return ToolState::kApproved;
      return ToolState::kPendingReview;
  }
  return ToolState::kPendingReview;
}

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::StatusOr<int64_t> DecodeSeqToken(const std::string& token) {
  if (token.empty()) return 0;
  auto decoded = crypto::Base64UrlDecode(token);
  int64_t seq = 0;
  if (!decoded.ok() || !absl::SimpleAtoi(*decoded, &seq) || seq <= 0) {
    return absl::InvalidArgumentError("page_token is not one this service issued");
  }
  return seq;
}

}  // namespace

absl::Status ValidateName(const char* what, const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " name must not be empty"));
  bool ok = name.size() <= 63 && (absl::ascii_islower(name[0]) || absl::ascii_isdigit(name[0]));
  for (char c : name) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " name '", name,
        "' must be 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SyncPlan> PlanSync(const Server& server, const std::vector<Tool>& existing,
                                  const std::vector<DiscoveredTool>& discovered,
                                  const TenantFacts& tenant, absl::Time now) {
  std::map<std::string, const Tool*> old;
  for (const Tool& t : existing) old[t.name] = &t;
  std::set<std::string> seen;
  SyncPlan plan;
  for (const DiscoveredTool& d : discovered) {
    if (d.name.empty() || !seen.insert(d.name).second) {
      return absl::InternalError(
          absl::StrCat("the tool source listed tool '", d.name, "' twice or without a name"));
    }
    auto definition = CanonicalizeJson(d.definition_json);
    if (!definition.ok()) {
      return absl::InternalError(absl::StrCat("the tool source gave tool '", d.name,
                                              "' a malformed definition: ",
                                              definition.status().message()));
    }
    Tool t;
    t.tenant_id = server.tenant_id;
    t.server_id = server.id;
    t.name = d.name;
    t.title = d.title;
    t.description = d.description;
    t.access = d.access;
    t.annotations = d.annotations;
    t.scopes = d.scopes;
    t.definition_json = *definition;
    // Access and scopes count as the definition too: a read tool that starts writing, or needs
    // new scopes, is a different tool from the one that was approved.
    json::object digest_input;
    digest_input["definition"] = json::parse(t.definition_json);
    digest_input["access"] = Name(t.access);
    digest_input["scopes"] = Strings(t.scopes);
    t.digest = Sha256Hex(CanonicalJson(digest_input));

    auto it = old.find(d.name);
    if (it == old.end() || it->second->state == ToolState::kRemoved) {
      t.state = InitialState(server, tenant, t);
      t.discovered_at = now;
      t.state_changed_at = now;
      t.state_changed_by = kDiscoveryActor;
      plan.summary.new_names.push_back(t.name);
      plan.upserts.push_back(std::move(t));
      continue;
    }
    const Tool& before = *it->second;
    t.discovered_at = before.discovered_at;
    t.kill_switch = before.kill_switch;
    t.state = before.state;
    t.state_changed_at = before.state_changed_at;
    t.state_changed_by = before.state_changed_by;
    if (t.digest != before.digest) {
      // An approved tool must never silently change under the people who approved it.
      if (before.state == ToolState::kApproved) {
        t.state = ToolState::kPendingReview;
        t.state_changed_at = now;
        t.state_changed_by = kDiscoveryActor;
      }
      plan.summary.changed_names.push_back(t.name);
      plan.upserts.push_back(std::move(t));
    } else {
      ++plan.summary.unchanged;
      if (t.title != before.title || t.description != before.description) {
        plan.upserts.push_back(std::move(t));
      }
    }
  }
  for (const Tool& t : existing) {
    if (seen.count(t.name) || t.state == ToolState::kRemoved) continue;
    Tool gone = t;
    gone.state = ToolState::kRemoved;
    gone.state_changed_at = now;
    gone.state_changed_by = kDiscoveryActor;
    plan.summary.removed_names.push_back(t.name);
    plan.upserts.push_back(std::move(gone));
  }
  return plan;
}

GovernanceService::GovernanceService(GovernanceStore& store, const Clock& clock,
                                     tenant::TenantClient& tenants, ToolSource& tools,
                                     CredentialInfoSource& credentials, GovernanceOptions options)
    : store_(store),
      clock_(clock),
      tenants_(tenants),
      tools_(tools),
      credentials_(credentials),
      cache_(
          store, [this](const std::string& ref) { return FetchFacts(ref); }, credentials, clock,
          options.facts_ttl),
      audit_retention_(options.audit_retention) {
  if (options.registry != nullptr) {
    auto& decisions = metrics::BuildCounter()
                          .Name("bastion_governance_decisions_total")
                          .Help("Authorization decisions, by decision and deny reason.")
                          .Register(*options.registry);
    for (int r = 0; r <= static_cast<int>(DenyReason::kCredentialCannotServe); ++r) {
      const auto reason = static_cast<DenyReason>(r);
      decisions_[r] = &decisions.Add(
          {{"decision", reason == DenyReason::kNone ? "allow" : "deny"}, {"reason", Name(reason)}});
    }
    auto& audit = metrics::BuildCounter()
                      .Name("bastion_governance_audit_events_total")
                      .Help("Tool-call audit events received, by result.")
                      .Register(*options.registry);
    audit_recorded_ = &audit.Add({{"result", "recorded"}});
    audit_duplicates_ = &audit.Add({{"result", "duplicate"}});
  }
}

absl::StatusOr<TenantFacts> GovernanceService::FetchFacts(const std::string& ref) {
  auto t = tenants_.GetTenant(ref);
  if (!t.ok()) {
    if (t.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot read tenant '", ref, "' from the tenant service: ", t.status().message()));
  }
  TenantFacts f;
  f.id = t->id();
  f.slug = t->slug();
  f.active = t->ai_access_active();
  f.kill_switch = t->kill_switch();
  f.tenant_version = t->version();
  f.default_approved = t->settings().default_tool_state() == tenant::v1::TOOL_STATE_APPROVED;
  f.auto_approve_read_only = t->settings().auto_approve_read_only();
  return f;
}

absl::StatusOr<TenantFacts> GovernanceService::TenantForAdmin(const Caller& caller,
                                                              const std::string& ref) {
  if (caller.kind == Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  if (caller.kind == Kind::kService) {
    return absl::PermissionDeniedError("services may not call admin APIs");
  }
  if (ref.empty()) return absl::InvalidArgumentError("tenant must name a tenant id or slug");
  ASSIGN_OR_RETURN(TenantFacts t, FetchFacts(ref));
  RETURN_IF_ERROR(auth::RequireTenantAdmin(caller, t.id, ref));
  return t;
}

absl::StatusOr<int64_t> GovernanceService::Mutate(const Caller& caller, const TenantFacts& tenant,
                                                  const Planner& plan) {
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(PolicyData policy, store_.LoadPolicy(tenant.id));
    PolicyChange change;
    change.tenant_id = tenant.id;
    change.expected_version = policy.version;
    RETURN_IF_ERROR(plan(policy, change));
    AuditEvent& a = change.audit;
    a.event_id = crypto::NewUuid();
    a.tenant_id = tenant.id;
    a.time = clock_.Now();
    a.kind = AuditKind::kAdminChange;
    a.actor = caller.Actor();
    auto version = store_.ApplyChange(change);
    if (version.ok()) {
      cache_.Invalidate(tenant.id, *version);
      return *version;
    }
    if (version.status().code() != absl::StatusCode::kAborted) return version.status();
    if (attempt >= kMutateAttempts) {
      return absl::AbortedError("the tenant's policy kept changing while this change was made; retry");
    }
  }
}

absl::StatusOr<Registration> GovernanceService::RegisterServer(const Caller& caller,
                                                               const std::string& tenant,
                                                               const ServerSpec& spec) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  RETURN_IF_ERROR(ValidateName("server", spec.name));
  ASSIGN_OR_RETURN(bool enabled, tenants_.CatalogEnabled(t.id, Name(spec.type)));
  if (!enabled) {
    return absl::FailedPreconditionError(
        absl::StrCat("the '", Name(spec.type), "' catalog entry is not enabled for tenant '",
                     t.slug, "'; the operator must enable it before servers can be registered"));
  }
  ASSIGN_OR_RETURN(std::vector<DiscoveredTool> discovered, tools_.ListTools(spec.type));
  Registration out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    for (const Server& s : p.servers) {
      if (s.name == spec.name) {
        return absl::AlreadyExistsError(
            absl::StrCat("a server named '", spec.name, "' already exists in this tenant"));
      }
    }
    const absl::Time now = clock_.Now();
    Server s;
    s.id = crypto::NewUuid();
    s.tenant_id = t.id;
    s.name = spec.name;
    s.type = spec.type;
    s.region = spec.region;
    s.auth_mode = spec.auth_mode;
    s.tool_policy = spec.tool_policy;
    s.created_at = s.updated_at = now;
    s.last_synced_at = now;
    ASSIGN_OR_RETURN(SyncPlan plan, PlanSync(s, {}, discovered, t, now));
    c.upsert_servers.push_back(s);
    c.upsert_tools = std::move(plan.upserts);
    c.audit.action = "server.register";
    c.audit.target = s.name;
    c.audit.details_json = Details({{"type", Name(s.type)},
                                    {"region", Name(s.region)},
                                    {"auth_mode", Name(s.auth_mode)},
                                    {"tool_policy", Name(s.tool_policy)},
                                    {"new_tools", plan.summary.new_names.size()}});
    out.server = s;
    out.discovery = std::move(plan.summary);
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(int64_t version, Mutate(caller, t, plan));
  out.discovery.policy_version = version;
  return out;
}

absl::StatusOr<Server> GovernanceService::GetServer(const Caller& caller, const std::string& tenant,
                                                    const std::string& server) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(PolicyData p, store_.LoadPolicy(t.id));
  ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, server));
  return *s;
}

absl::StatusOr<std::vector<Server>> GovernanceService::ListServers(const Caller& caller,
                                                                   const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(PolicyData p, store_.LoadPolicy(t.id));
  std::sort(p.servers.begin(), p.servers.end(),
            [](const Server& a, const Server& b) { return a.name < b.name; });
  return std::move(p.servers);
}

absl::StatusOr<Server> GovernanceService::UpdateServer(const Caller& caller,
                                                       const std::string& tenant,
                                                       const std::string& server,
                                                       const ServerUpdate& update) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  Server out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    ASSIGN_OR_RETURN(const Server* found, ResolveServer(p, server));
    Server s = *found;
    json::object details;
    if (update.region) {
      s.region = *update.region;
      details["region"] = Name(s.region);
    }
    if (update.auth_mode) {
      s.auth_mode = *update.auth_mode;
      details["auth_mode"] = Name(s.auth_mode);
    }
    if (update.tool_policy) {
      s.tool_policy = *update.tool_policy;
      details["tool_policy"] = Name(s.tool_policy);
    }
    if (update.enabled) {
      s.enabled = *update.enabled;
      details["enabled"] = s.enabled;
    }
    s.updated_at = clock_.Now();
    c.upsert_servers.push_back(s);
    c.audit.action = "server.update";
    c.audit.target = s.name;
    c.audit.details_json = Details(details);
    out = s;
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::StatusOr<ServerDeletion> GovernanceService::DeleteServer(const Caller& caller,
                                                               const std::string& tenant,
                                                               const std::string& server) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ServerDeletion out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, server));
    out = ServerDeletion{};
    out.tools_deleted = static_cast<int>(ToolsOf(p, s->id).size());
    std::set<std::string> gone;
    for (const Toolset& ts : p.toolsets) {
      if (ts.server_id != s->id) continue;
      gone.insert(ts.id);
      out.toolsets_deleted.push_back(ts.name);
      c.delete_toolset_ids.push_back(ts.id);
    }
    for (const AccessProfile& a : p.profiles) {
      AccessProfile kept = a;
      kept.toolsets.erase(std::remove_if(kept.toolsets.begin(), kept.toolsets.end(),
                                         [&](const std::string& id) { return gone.count(id) > 0; }),
                          kept.toolsets.end());
      if (kept.toolsets.size() != a.toolsets.size()) c.upsert_profiles.push_back(kept);
    }
    c.delete_server_ids.push_back(s->id);
    c.audit.action = "server.delete";
    c.audit.target = s->name;
    c.audit.details_json = Details({{"tools_deleted", out.tools_deleted},
                                    {"toolsets_deleted", Strings(out.toolsets_deleted)}});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::StatusOr<SyncSummary> GovernanceService::SyncTools(const Caller& caller,
                                                         const std::string& tenant,
                                                         const std::string& server) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  // Discovery lists the connector's tools; it needs no credential and calls no upstream.
  ASSIGN_OR_RETURN(PolicyData first, store_.LoadPolicy(t.id));
  ASSIGN_OR_RETURN(const Server* target, ResolveServer(first, server));
  ASSIGN_OR_RETURN(std::vector<DiscoveredTool> discovered, tools_.ListTools(target->type));
  SyncSummary out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, server));
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(SyncPlan plan, PlanSync(*s, ToolsOf(p, s->id), discovered, t, now));
    Server synced = *s;
    synced.last_synced_at = now;
    c.upsert_servers.push_back(synced);
    c.upsert_tools = std::move(plan.upserts);
    c.audit.action = "tools.sync";
    c.audit.target = s->name;
    c.audit.details_json = Details({{"new", Strings(plan.summary.new_names)},
                                    {"changed", Strings(plan.summary.changed_names)},
                                    {"removed", Strings(plan.summary.removed_names)},
                                    {"unchanged", plan.summary.unchanged}});
    out = std::move(plan.summary);
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(int64_t version, Mutate(caller, t, plan));
  out.policy_version = version;
  return out;
}

absl::StatusOr<std::vector<ToolView>> GovernanceService::ListTools(const Caller& caller,
                                                                   const std::string& tenant,
                                                                   const std::string& server,
                                                                   std::optional<ToolState> state) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(PolicyData p, store_.LoadPolicy(t.id));
  ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, server));
  const absl::StatusOr<CredentialInfo> credential = credentials_.GetCredentialInfo(t.id, s->name);
  std::vector<ToolView> out;
  for (Tool& tool : ToolsOf(p, s->id)) {
    if (state.has_value() && tool.state != *state) continue;
    CredentialFit fit = FitCredential(credential, *s, tool);
    out.push_back(ToolView{std::move(tool), std::move(fit)});
  }
  std::sort(out.begin(), out.end(),
            [](const ToolView& a, const ToolView& b) { return a.tool.name < b.tool.name; });
  return out;
}

absl::StatusOr<ToolStateChange> GovernanceService::SetToolState(
    const Caller& caller, const std::string& tenant, const std::string& server,
    const std::vector<std::string>& tools, ToolState state) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  if (state == ToolState::kRemoved) {
    return absl::InvalidArgumentError(
        "state must be approved, disabled or pending_review; only discovery marks tools removed");
  }
  if (tools.empty()) return absl::InvalidArgumentError("name at least one tool");
  ToolStateChange out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, server));
    ASSIGN_OR_RETURN(std::vector<std::string> names, CheckToolNames(p, *s, tools));
    const absl::Time now = clock_.Now();
    out.tools.clear();
    for (const Tool& tool : p.tools) {
      if (tool.server_id != s->id || !std::binary_search(names.begin(), names.end(), tool.name)) {
        continue;
      }
      Tool changed = tool;
      if (changed.state != state) {
        changed.state = state;
        changed.state_changed_at = now;
        changed.state_changed_by = caller.Actor();
        c.upsert_tools.push_back(changed);
      }
      out.tools.push_back(std::move(changed));
    }
    c.audit.action = "tools.set_state";
    c.audit.target = s->name;
    c.audit.details_json = Details({{"state", Name(state)}, {"tools", Strings(names)}});
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(out.policy_version, Mutate(caller, t, plan));
  return out;
}

absl::StatusOr<Tool> GovernanceService::SetToolKillSwitch(const Caller& caller,
                                                          const std::string& tenant,
                                                          const std::string& server,
                                                          const std::string& tool, bool on) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  Tool out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, server));
    auto it = std::find_if(p.tools.begin(), p.tools.end(), [&](const Tool& x) {
      return x.server_id == s->id && x.name == tool;
    });
    if (it == p.tools.end()) {
      return absl::NotFoundError(absl::StrCat("server '", s->name, "' has no tool '", tool, "'"));
    }
    out = *it;
    out.kill_switch = on;
    c.upsert_tools.push_back(out);
    c.audit.action = "tools.kill_switch";
    c.audit.target = absl::StrCat(s->name, "/", tool);
    c.audit.details_json = Details({{"on", on}});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::StatusOr<ToolsetView> GovernanceService::CreateToolset(const Caller& caller,
                                                             const std::string& tenant,
                                                             const ToolsetSpec& spec) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  RETURN_IF_ERROR(ValidateName("toolset", spec.name));
  if (IsBuiltin(spec.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", spec.name, "' is a built-in toolset; choose another name"));
  }
  ToolsetView out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    if (FindToolset(p, spec.name) != nullptr) {
      return absl::AlreadyExistsError(
          absl::StrCat("a toolset named '", spec.name, "' already exists in this tenant"));
    }
    ASSIGN_OR_RETURN(const Server* s, ResolveServer(p, spec.server));
    ASSIGN_OR_RETURN(std::vector<std::string> names, CheckToolNames(p, *s, spec.tools));
    const absl::Time now = clock_.Now();
    Toolset ts;
    ts.id = crypto::NewUuid();
    ts.tenant_id = t.id;
    ts.name = spec.name;
    ts.description = spec.description;
    ts.server_id = s->id;
    ts.tools = names;
    ts.created_at = ts.updated_at = now;
    c.upsert_toolsets.push_back(ts);
    c.audit.action = "toolset.create";
    c.audit.target = ts.name;
    c.audit.details_json = Details({{"server", s->name}, {"tools", Strings(names)}});
    out = ToolsetView{ts, s->name, false};
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::StatusOr<ToolsetView> GovernanceService::UpdateToolset(const Caller& caller,
                                                             const std::string& tenant,
                                                             const std::string& toolset,
                                                             const ToolsetUpdate& update) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  if (IsBuiltin(toolset)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", toolset, "' is a built-in toolset; it follows tool states and cannot be changed"));
  }
  if (update.name) {
    RETURN_IF_ERROR(ValidateName("toolset", *update.name));
    if (IsBuiltin(*update.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", *update.name, "' is a built-in toolset; choose another name"));
    }
  }
  ToolsetView out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    const Toolset* found = FindToolset(p, toolset);
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat("toolset '", toolset, "' not found in this tenant"));
    }
    Toolset ts = *found;
    const Server* s = FindServer(p, ts.server_id);
    if (s == nullptr) return absl::InternalError("toolset refers to a missing server");
    json::object details;
    if (update.name && *update.name != ts.name) {
      const Toolset* other = FindToolset(p, *update.name);
      if (other != nullptr && other->id != ts.id) {
        return absl::AlreadyExistsError(
            absl::StrCat("a toolset named '", *update.name, "' already exists in this tenant"));
      }
      details["name"] = *update.name;
      ts.name = *update.name;
    }
    if (update.description) ts.description = *update.description;
    if (update.tools) {
      ASSIGN_OR_RETURN(ts.tools, CheckToolNames(p, *s, *update.tools));
      details["tools"] = Strings(ts.tools);
    }
    ts.updated_at = clock_.Now();
    c.upsert_toolsets.push_back(ts);
    c.audit.action = "toolset.update";
    c.audit.target = found->name;
    c.audit.details_json = Details(details);
    out = ToolsetView{ts, s->name, false};
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::StatusOr<std::vector<std::string>> GovernanceService::DeleteToolset(
    const Caller& caller, const std::string& tenant, const std::string& toolset) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  if (IsBuiltin(toolset)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", toolset, "' is a built-in toolset and cannot be deleted"));
  }
  std::vector<std::string> changed;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    const Toolset* ts = FindToolset(p, toolset);
    if (ts == nullptr) {
      return absl::NotFoundError(absl::StrCat("toolset '", toolset, "' not found in this tenant"));
    }
    changed.clear();
    for (const AccessProfile& a : p.profiles) {
      auto it = std::find(a.toolsets.begin(), a.toolsets.end(), ts->id);
      if (it == a.toolsets.end()) continue;
      AccessProfile kept = a;
      kept.toolsets.erase(kept.toolsets.begin() + (it - a.toolsets.begin()));
      c.upsert_profiles.push_back(kept);
      changed.push_back(a.name);
    }
    c.delete_toolset_ids.push_back(ts->id);
    c.audit.action = "toolset.delete";
    c.audit.target = ts->name;
    c.audit.details_json = Details({{"profiles_changed", Strings(changed)}});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return changed;
}

absl::StatusOr<std::vector<ToolsetView>> GovernanceService::ListToolsets(const Caller& caller,
                                                                         const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(PolicyData p, store_.LoadPolicy(t.id));
  std::vector<ToolsetView> out;
  for (const char* name : {kAllApprovedToolset, kApprovedReadOnlyToolset}) {
    ToolsetView v;
    v.toolset.id = name;
    v.toolset.tenant_id = t.id;
    v.toolset.name = name;
    v.toolset.description = std::string(name) == kAllApprovedToolset
                                ? "Every approved tool of every server."
                                : "Every approved read-only tool of every server.";
    v.builtin = true;
    out.push_back(std::move(v));
  }
  std::sort(p.toolsets.begin(), p.toolsets.end(),
            [](const Toolset& a, const Toolset& b) { return a.name < b.name; });
  for (Toolset& ts : p.toolsets) {
    const Server* s = FindServer(p, ts.server_id);
    out.push_back(ToolsetView{std::move(ts), s != nullptr ? s->name : "", false});
  }
  return out;
}

absl::StatusOr<std::vector<Member>> GovernanceService::ResolveMembers(
    const std::string& tenant_id, const std::vector<std::string>& refs) {
  std::vector<Member> out;
  std::optional<std::vector<tenant::v1::Group>> groups;
  for (const std::string& ref : refs) {
    Member m;
    std::string who;
    if (absl::StartsWith(ref, "user:")) {
      m.kind = Member::Kind::kUser;
      who = ref.substr(5);
    } else if (absl::StartsWith(ref, "group:")) {
      m.kind = Member::Kind::kGroup;
      who = ref.substr(6);
    }
    if (who.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "member '", ref, "' must be user:<email or id> or group:<name or id>"));
    }
    if (m.kind == Member::Kind::kUser) {
      auto user = tenants_.GetUser(tenant_id, who);
      if (user.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat("user '", who, "' not found in this tenant"));
      }
      if (!user.ok()) {
        return absl::UnavailableError(
            absl::StrCat("cannot look up user '", who, "': ", user.status().message()));
      }
      m.id = user->id();
      m.label = user->email();
    } else {
      if (!groups.has_value()) {
        auto listed = tenants_.ListGroups(tenant_id);
        if (!listed.ok()) {
          return absl::UnavailableError(
              absl::StrCat("cannot list the tenant's groups: ", listed.status().message()));
        }
        groups = *std::move(listed);
      }
      auto it = std::find_if(groups->begin(), groups->end(), [&](const tenant::v1::Group& g) {
        return g.name() == who || g.id() == who;
      });
      if (it == groups->end()) {
        return absl::NotFoundError(absl::StrCat("group '", who, "' not found in this tenant"));
      }
      m.id = it->id();
      m.label = it->name();
    }
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(std::move(m));
  }
  return out;
}

ProfileView GovernanceService::ViewOf(const PolicyData& p, const AccessProfile& a) const {
  ProfileView v;
  v.profile = a;
  for (const std::string& ref : a.toolsets) {
    if (IsBuiltin(ref)) {
      v.toolset_names.push_back(ref);
    } else if (const Toolset* ts = FindToolset(p, ref); ts != nullptr) {
      v.toolset_names.push_back(ts->name);
    }
  }
  v.expired = a.expires_at.has_value() && *a.expires_at <= clock_.Now();
  return v;
}

absl::StatusOr<ProfileView> GovernanceService::CreateAccessProfile(const Caller& caller,
                                                                   const std::string& tenant,
                                                                   const ProfileSpec& spec) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  RETURN_IF_ERROR(ValidateName("profile", spec.name));
  if (spec.expires_at.has_value() && *spec.expires_at <= clock_.Now()) {
    return absl::InvalidArgumentError("expires_at must be in the future");
  }
  ASSIGN_OR_RETURN(std::vector<Member> members, ResolveMembers(t.id, spec.members));
  ProfileView out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    if (FindProfile(p, spec.name) != nullptr) {
      return absl::AlreadyExistsError(
          absl::StrCat("an access profile named '", spec.name, "' already exists in this tenant"));
    }
    ASSIGN_OR_RETURN(std::vector<std::string> toolsets, ResolveToolsets(p, spec.toolsets));
    AccessProfile a;
    a.id = crypto::NewUuid();
    a.tenant_id = t.id;
    a.name = spec.name;
    a.description = spec.description;
    a.toolsets = std::move(toolsets);
    a.members = members;
    a.expires_at = spec.expires_at;
    a.created_at = a.updated_at = clock_.Now();
    c.upsert_profiles.push_back(a);
    out = ViewOf(p, a);
    json::array labels;
    for (const Member& m : members) {
      labels.emplace_back(absl::StrCat(m.kind == Member::Kind::kUser ? "user:" : "group:", m.label));
    }
    c.audit.action = "profile.create";
    c.audit.target = a.name;
    c.audit.details_json = Details({{"toolsets", Strings(out.toolset_names)}, {"members", labels}});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::StatusOr<ProfileView> GovernanceService::UpdateAccessProfile(const Caller& caller,
                                                                   const std::string& tenant,
                                                                   const std::string& profile,
                                                                   const ProfileUpdate& update) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  if (update.name) RETURN_IF_ERROR(ValidateName("profile", *update.name));
  if (update.expires_at && update.expires_at->has_value() && **update.expires_at <= clock_.Now()) {
    return absl::InvalidArgumentError("expires_at must be in the future");
  }
  std::optional<std::vector<Member>> members;
  if (update.members) {
    ASSIGN_OR_RETURN(members, ResolveMembers(t.id, *update.members));
  }
  ProfileView out;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    const AccessProfile* found = FindProfile(p, profile);
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat("access profile '", profile, "' not found in this tenant"));
    }
    AccessProfile a = *found;
    json::object details;
    if (update.name && *update.name != a.name) {
      const AccessProfile* other = FindProfile(p, *update.name);
      if (other != nullptr && other->id != a.id) {
        return absl::AlreadyExistsError(
            absl::StrCat("an access profile named '", *update.name, "' already exists in this tenant"));
      }
      a.name = *update.name;
      details["name"] = a.name;
    }
    if (update.description) a.description = *update.description;
    if (update.toolsets) {
      ASSIGN_OR_RETURN(a.toolsets, ResolveToolsets(p, *update.toolsets));
      details["toolsets"] = Strings(*update.toolsets);
    }
    if (members) {
      a.members = *members;
      json::array labels;
      for (const Member& m : a.members) {
        labels.emplace_back(absl::StrCat(m.kind == Member::Kind::kUser ? "user:" : "group:", m.label));
      }
      details["members"] = labels;
    }
    if (update.expires_at) {
      a.expires_at = *update.expires_at;
      details["expires_at"] =
          a.expires_at ? json::value(absl::FormatTime(absl::RFC3339_sec, *a.expires_at, absl::UTCTimeZone()))
                       : json::value(nullptr);
    }
    a.updated_at = clock_.Now();
    c.upsert_profiles.push_back(a);
    c.audit.action = "profile.update";
    c.audit.target = found->name;
    c.audit.details_json = Details(details);
    out = ViewOf(p, a);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

absl::Status GovernanceService::DeleteAccessProfile(const Caller& caller, const std::string& tenant,
                                                    const std::string& profile) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  return Mutate(caller, t, [&](const PolicyData& p, PolicyChange& c) {
           const AccessProfile* a = FindProfile(p, profile);
           if (a == nullptr) {
             return absl::NotFoundError(
                 absl::StrCat("access profile '", profile, "' not found in this tenant"));
           }
           c.delete_profile_ids.push_back(a->id);
           c.audit.action = "profile.delete";
           c.audit.target = a->name;
           c.audit.details_json = "{}";
           return absl::OkStatus();
         })
      .status();
}

absl::StatusOr<std::vector<ProfileView>> GovernanceService::ListAccessProfiles(
    const Caller& caller, const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(PolicyData p, store_.LoadPolicy(t.id));
  std::vector<ProfileView> out;
  for (const AccessProfile& a : p.profiles) out.push_back(ViewOf(p, a));
  std::sort(out.begin(), out.end(),
            [](const ProfileView& a, const ProfileView& b) { return a.profile.name < b.profile.name; });
  return out;
}

void GovernanceService::CountDecision(const DecisionResult& d) {
  metrics::Counter* c = decisions_[static_cast<int>(d.reason)];
  if (c != nullptr) c->Increment();
}

absl::StatusOr<DecisionResult> GovernanceService::Authorize(const Caller& caller,
                                                            const AuthorizeInput& in) {
  RETURN_IF_ERROR(RequireDecisionCaller(caller));
  if (in.tenant.empty() || in.user_id.empty() || in.server.empty() || in.tool.empty()) {
    return absl::InvalidArgumentError("tenant, user_id, server and tool are required");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicySnapshot> snapshot, cache_.Get(in.tenant));
  DecisionResult d = snapshot->Decide(in.user_id, in.group_ids, in.server, in.tool, clock_.Now());
  CountDecision(d);
  return d;
}

absl::StatusOr<AllowedTools> GovernanceService::ListAllowedTools(
    const Caller& caller, const std::string& tenant, const std::string& user_id,
    const std::vector<std::string>& group_ids, const std::string& server) {
  RETURN_IF_ERROR(RequireDecisionCaller(caller));
  if (tenant.empty() || user_id.empty() || server.empty()) {
    return absl::InvalidArgumentError("tenant, user_id and server are required");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicySnapshot> snapshot, cache_.Get(tenant));
  return snapshot->Allowed(user_id, group_ids, server, clock_.Now());
}

absl::StatusOr<PolicyWatch> GovernanceService::WatchPolicy(const Caller& caller,
                                                           const std::string& tenant,
                                                           PolicyCache::Watcher on_version) {
  std::string tenant_id;
  if (caller.kind == Kind::kService) RETURN_IF_ERROR(RequireDecisionCaller(caller));
  if (caller.kind == Kind::kService || caller.kind == Kind::kOperator) {
    if (tenant.empty()) {
      // Every tenant's changes, as they happen: what an edge replica needs to drop its caches.
      PolicyWatch all;
      all.watch_id = cache_.Watch("", std::move(on_version));
      return all;
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const PolicySnapshot> s, cache_.Get(tenant));
    tenant_id = s->facts().id;
  } else {
    ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
    tenant_id = t.id;
  }
  // Watch before reading the version, so a change in between is not missed.
  PolicyWatch w;
  w.tenant_id = tenant_id;
  w.watch_id = cache_.Watch(tenant_id, std::move(on_version));
  auto version = store_.PolicyVersion(tenant_id);
  if (!version.ok()) {
    cache_.Unwatch(w.watch_id);
    return version.status();
  }
  w.version = *version;
  return w;
}

void GovernanceService::Unwatch(int64_t watch_id) { cache_.Unwatch(watch_id); }

void GovernanceService::OnPolicyVersion(const std::string& tenant_id, int64_t version) {
  cache_.Invalidate(tenant_id, version);
}

void GovernanceService::ResyncPolicyVersions() {
  for (const std::string& id : cache_.KnownTenants()) {
    auto version = store_.PolicyVersion(id);
    if (version.ok()) {
      cache_.Invalidate(id, *version);
    } else {
      cache_.InvalidateAll();
    }
  }
}

absl::StatusOr<AppendResult> GovernanceService::RecordToolCalls(const Caller& caller,
                                                                std::vector<ToolCallRecord> records) {
  RETURN_IF_ERROR(RequireDecisionCaller(caller));
  if (records.size() > kMaxRecordBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxRecordBatch, " events per call; split the batch"));
  }
  // Validate everything first: a bad event rejects the batch and nothing is stored.
  std::map<std::string, std::vector<AuditEvent>> by_tenant;
  const absl::Time now = clock_.Now();
  for (size_t i = 0; i < records.size(); ++i) {
    ToolCallRecord& r = records[i];
    AuditEvent& e = r.event;
    if (e.event_id.empty() || e.event_id.size() > kMaxEventIdLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("event ", i, ": event_id must be 1 to ", kMaxEventIdLength, " characters"));
    }
    if (r.tenant.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("event ", i, ": tenant is required"));
    }
    auto snapshot = cache_.Get(r.tenant);
    if (!snapshot.ok()) {
      if (snapshot.status().code() == absl::StatusCode::kNotFound) {
        return absl::InvalidArgumentError(
            absl::StrCat("event ", i, ": ", snapshot.status().message()));
      }
      return snapshot.status();
    }
    e.tenant_id = (*snapshot)->facts().id;
    e.kind = AuditKind::kToolCall;
    e.actor = absl::StrCat("user:", e.user_email.empty() ? e.user_id : e.user_email);
    if (e.time == absl::InfinitePast() || e.time == absl::UnixEpoch()) e.time = now;
    if (!(*snapshot)->store_arguments()) e.arguments_json.clear();
    e.action.clear();
    e.target.clear();
    e.details_json.clear();
    by_tenant[e.tenant_id].push_back(std::move(e));
  }
  AppendResult total;
  for (const auto& [tenant_id, events] : by_tenant) {
    ASSIGN_OR_RETURN(AppendResult r, store_.AppendAudit(tenant_id, events));
    total.recorded += r.recorded;
    total.duplicates += r.duplicates;
  }
  if (audit_recorded_ != nullptr) {
    audit_recorded_->Increment(total.recorded);
    audit_duplicates_->Increment(total.duplicates);
  }
  return total;
}

absl::StatusOr<AuditPage> GovernanceService::QueryAudit(const Caller& caller,
                                                        const std::string& tenant,
                                                        const AuditFilter& filter, int page_size,
                                                        const std::string& page_token) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  if (filter.since && filter.until && *filter.since >= *filter.until) {
    return absl::InvalidArgumentError("since must be before until");
  }
  ASSIGN_OR_RETURN(int64_t before, DecodeSeqToken(page_token));
  const int limit = PageSize(page_size);
  ASSIGN_OR_RETURN(std::vector<AuditEvent> events,
                   store_.QueryAudit(t.id, filter, AuditOrder::kNewestFirst, before, limit + 1));
  AuditPage page;
  if (static_cast<int>(events.size()) > limit) {
    events.resize(limit);
    page.next_page_token = crypto::Base64UrlEncode(absl::StrCat(events.back().seq));
  }
  page.events = std::move(events);
  return page;
}

absl::Status GovernanceService::ExportAudit(
    const Caller& caller, const std::string& tenant, const AuditFilter& filter,
    const std::function<absl::Status(std::string jsonl)>& sink) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  if (filter.since && filter.until && *filter.since >= *filter.until) {
    return absl::InvalidArgumentError("since must be before until");
  }
  int64_t after = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<AuditEvent> events,
                     store_.QueryAudit(t.id, filter, AuditOrder::kOldestFirst, after, kExportPageSize));
    if (events.empty()) return absl::OkStatus();
    std::string chunk;
    for (const AuditEvent& e : events) {
      chunk += json::serialize(EventJson(e, /*with_hash=*/true));
      chunk += '\n';
    }
    after = events.back().seq;
    RETURN_IF_ERROR(sink(std::move(chunk)));
    if (static_cast<int>(events.size()) < kExportPageSize) return absl::OkStatus();
  }
}

absl::StatusOr<ChainCheck> GovernanceService::VerifyAuditChain(const Caller& caller,
                                                               const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  // Events appended while this runs are beyond the head read here and are left for next time.
  ASSIGN_OR_RETURN(AuditHead head, store_.GetAuditHead(t.id));
  ChainVerifier verifier;
  int64_t after = 0;
  while (!verifier.broken()) {
    ASSIGN_OR_RETURN(std::vector<AuditEvent> events,
                     store_.ReadAuditChain(t.id, after, kVerifyPageSize));
    bool past_head = false;
    for (const AuditEvent& e : events) {
      if (e.seq > head.seq) {
        past_head = true;
        break;
      }
      verifier.Feed(e);
      if (verifier.broken()) break;
    }
    if (events.empty() || past_head) break;
    after = events.back().seq;
  }
  return verifier.Finish(head);
}

absl::StatusOr<std::pair<std::string, AuditSettings>> GovernanceService::GetAuditSettings(
    const Caller& caller, const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(PolicyData p, store_.LoadPolicy(t.id));
  return std::make_pair(t.id, p.audit_settings);
}

absl::StatusOr<std::pair<std::string, AuditSettings>> GovernanceService::UpdateAuditSettings(
    const Caller& caller, const std::string& tenant, const AuditSettings& settings) {
  ASSIGN_OR_RETURN(TenantFacts t, TenantForAdmin(caller, tenant));
  const Planner plan = [&](const PolicyData&, PolicyChange& c) -> absl::Status {
    c.audit_settings = settings;
    c.audit.action = "audit.settings";
    c.audit.target = t.slug;
    c.audit.details_json = Details({{"store_arguments", settings.store_arguments}});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return std::make_pair(t.id, settings);
}

absl::StatusOr<GovernanceService::TenantPolicyDeletion> GovernanceService::DeleteTenantPolicy(
    const Caller& caller, const std::string& tenant) {
  if (caller.kind == Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  if (!caller.is_operator()) return absl::PermissionDeniedError("only the operator may delete a tenant");
  if (tenant.empty()) return absl::InvalidArgumentError("tenant must name a tenant id or slug");
  ASSIGN_OR_RETURN(TenantFacts t, FetchFacts(tenant));
  if (t.active) {
    return absl::FailedPreconditionError(
        absl::StrCat("tenant ", t.slug, " still has AI access active: deactivate it before deleting it"));
  }
  TenantPolicyDeletion out;
  out.audit_kept_until = clock_.Now() + audit_retention_;
  const Planner plan = [&](const PolicyData& p, PolicyChange& c) -> absl::Status {
    // Tools and toolsets go with their servers (ON DELETE CASCADE).
    for (const Server& s : p.servers) c.delete_server_ids.push_back(s.id);
    for (const AccessProfile& a : p.profiles) c.delete_profile_ids.push_back(a.id);
    out.servers_deleted = static_cast<int>(p.servers.size());
    out.profiles_deleted = static_cast<int>(p.profiles.size());
    c.audit.action = "tenant.delete";
    c.audit.target = t.slug;
    c.audit.details_json =
        Details({{"servers_deleted", out.servers_deleted},
                 {"profiles_deleted", out.profiles_deleted},
                 {"audit_kept_until", absl::FormatTime(absl::RFC3339_sec, out.audit_kept_until, absl::UTCTimeZone())}});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(Mutate(caller, t, plan).status());
  return out;
}

}  // namespace bastion::governance
