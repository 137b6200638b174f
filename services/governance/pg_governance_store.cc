#include "services/governance/pg_governance_store.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/pg/row_reader.h"
#include "common/status/status_macros.h"
#include "services/governance/audit_chain.h"

namespace bastion::governance {
namespace {

// Column lists are macros so the statements below stay compile-time string constants.
#define SERVER_COLUMNS                                                                      \
  "id::text, tenant_id::text, name, type, region, auth_mode, tool_policy, enabled, created_at, " \
  "updated_at, last_synced_at"
#define TOOL_COLUMNS                                                                        \
  "tenant_id::text, server_id::text, name, title, description, access, read_only_hint, "    \
  "destructive_hint, idempotent_hint, open_world_hint, scopes, definition, digest, state, "  \
  "kill_switch, discovered_at, state_changed_at, state_changed_by"
#define AUDIT_COLUMNS                                                                       \
  "tenant_id::text, seq, event_id, at, kind, actor, user_id, user_email, client, server, tool, " \
  "decision, reason, outcome, upstream_status, latency_ms, request_id, arguments_digest, "  \
  "arguments_json, action, target, details_json, prev_hash, hash"

constexpr pg::Statement kRepeatableRead{"gov_repeatable_read",
                                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"};
constexpr pg::Statement kVersion{
    "gov_version", "SELECT version FROM governance.policy_versions WHERE tenant_id = $1"};
constexpr pg::Statement kSettings{
    "gov_settings", "SELECT store_arguments FROM governance.audit_settings WHERE tenant_id = $1"};
constexpr pg::Statement kServers{
    "gov_servers",
    "SELECT " SERVER_COLUMNS " FROM governance.servers WHERE tenant_id = $1 ORDER BY name"};
constexpr pg::Statement kTools{
    "gov_tools",
    "SELECT " TOOL_COLUMNS " FROM governance.tools WHERE tenant_id = $1 ORDER BY server_id, name"};
constexpr pg::Statement kToolsets{
    "gov_toolsets",
    "SELECT id::text, tenant_id::text, name, description, server_id::text, created_at, updated_at "
    "FROM governance.toolsets WHERE tenant_id = $1 ORDER BY name"};
constexpr pg::Statement kToolsetTools{
    "gov_toolset_tools",
    "SELECT toolset_id::text, tool_name FROM governance.toolset_tools WHERE tenant_id = $1 "
    "ORDER BY toolset_id, tool_name"};
constexpr pg::Statement kProfiles{
    "gov_profiles",
    "SELECT id::text, tenant_id::text, name, description, expires_at, created_at, updated_at "
    "FROM governance.access_profiles WHERE tenant_id = $1 ORDER BY name"};
constexpr pg::Statement kProfileToolsets{
    "gov_profile_toolsets",
    "SELECT profile_id::text, COALESCE(toolset_id::text, builtin) FROM governance.profile_toolsets "
    "WHERE tenant_id = $1 ORDER BY profile_id, position"};
constexpr pg::Statement kProfileMembers{
    "gov_profile_members",
    "SELECT profile_id::text, kind, member_id::text, label FROM governance.profile_members "
    "WHERE tenant_id = $1 ORDER BY profile_id, position"};

constexpr pg::Statement kEnsureVersion{
    "gov_ensure_version",
    "INSERT INTO governance.policy_versions (tenant_id, version) VALUES ($1, 0) "
    "ON CONFLICT DO NOTHING"};
constexpr pg::Statement kLockVersion{
    "gov_lock_version",
    "SELECT version FROM governance.policy_versions WHERE tenant_id = $1 FOR UPDATE"};
constexpr pg::Statement kBumpVersion{
    "gov_bump_version",
    "UPDATE governance.policy_versions SET version = version + 1 WHERE tenant_id = $1 "
    "RETURNING version"};
constexpr pg::Statement kNotify{"gov_notify", "SELECT pg_notify($1, $2)"};

constexpr pg::Statement kDeleteServer{
    "gov_delete_server", "DELETE FROM governance.servers WHERE tenant_id = $1 AND id = $2"};
constexpr pg::Statement kUpsertServer{
    "gov_upsert_server",
    "INSERT INTO governance.servers (id, tenant_id, name, type, region, auth_mode, tool_policy, "
    "enabled, created_at, updated_at, last_synced_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, auth_mode = EXCLUDED.auth_mode, "
    "tool_policy = EXCLUDED.tool_policy, enabled = EXCLUDED.enabled, "
    "updated_at = EXCLUDED.updated_at, last_synced_at = EXCLUDED.last_synced_at "
    "WHERE governance.servers.tenant_id = EXCLUDED.tenant_id"};
constexpr pg::Statement kUpsertTool{
    "gov_upsert_tool",
    "INSERT INTO governance.tools (tenant_id, server_id, name, title, description, access, "
    "read_only_hint, destructive_hint, idempotent_hint, open_world_hint, scopes, definition, "
    "digest, state, kill_switch, discovered_at, state_changed_at, state_changed_by) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) "
    "ON CONFLICT (server_id, name) DO UPDATE SET title = EXCLUDED.title, "
    "description = EXCLUDED.description, access = EXCLUDED.access, "
    "read_only_hint = EXCLUDED.read_only_hint, destructive_hint = EXCLUDED.destructive_hint, "
    "idempotent_hint = EXCLUDED.idempotent_hint, open_world_hint = EXCLUDED.open_world_hint, "
    "scopes = EXCLUDED.scopes, definition = EXCLUDED.definition, digest = EXCLUDED.digest, "
    "state = EXCLUDED.state, kill_switch = EXCLUDED.kill_switch, "
    "discovered_at = EXCLUDED.discovered_at, state_changed_at = EXCLUDED.state_changed_at, "
    "state_changed_by = EXCLUDED.state_changed_by "
    "WHERE governance.tools.tenant_id = EXCLUDED.tenant_id"};
constexpr pg::Statement kDeleteToolset{
    "gov_delete_toolset", "DELETE FROM governance.toolsets WHERE tenant_id = $1 AND id = $2"};
constexpr pg::Statement kUpsertToolset{
    "gov_upsert_toolset",
    "INSERT INTO governance.toolsets (id, tenant_id, name, description, server_id, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, "
    "updated_at = EXCLUDED.updated_at WHERE governance.toolsets.tenant_id = EXCLUDED.tenant_id"};
constexpr pg::Statement kClearToolsetTools{
    "gov_clear_toolset_tools",
    "DELETE FROM governance.toolset_tools WHERE tenant_id = $1 AND toolset_id = $2"};
constexpr pg::Statement kInsertToolsetTools{
    "gov_insert_toolset_tools",
    "INSERT INTO governance.toolset_tools (tenant_id, toolset_id, tool_name) "
    "SELECT $1, $2, unnest($3::text[])"};
constexpr pg::Statement kDeleteProfile{
    "gov_delete_profile",
    "DELETE FROM governance.access_profiles WHERE tenant_id = $1 AND id = $2"};
constexpr pg::Statement kUpsertProfile{
    "gov_upsert_profile",
    "INSERT INTO governance.access_profiles (id, tenant_id, name, description, expires_at, "
    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, "
    "expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at "
    "WHERE governance.access_profiles.tenant_id = EXCLUDED.tenant_id"};
constexpr pg::Statement kClearProfileToolsets{
    "gov_clear_profile_toolsets",
    "DELETE FROM governance.profile_toolsets WHERE tenant_id = $1 AND profile_id = $2"};
constexpr pg::Statement kInsertProfileToolsets{
    "gov_insert_profile_toolsets",
    "INSERT INTO governance.profile_toolsets (tenant_id, profile_id, position, toolset_id, builtin) "
    "SELECT $1, $2, o, CASE WHEN r IN ('all-approved', 'approved-read-only') THEN NULL "
    "ELSE r::uuid END, CASE WHEN r IN ('all-approved', 'approved-read-only') THEN r END "
    "FROM unnest($3::text[]) WITH ORDINALITY AS x(r, o)"};
constexpr pg::Statement kClearProfileMembers{
    "gov_clear_profile_members",
    "DELETE FROM governance.profile_members WHERE tenant_id = $1 AND profile_id = $2"};
constexpr pg::Statement kInsertProfileMembers{
    "gov_insert_profile_members",
    "INSERT INTO governance.profile_members (tenant_id, profile_id, position, kind, member_id, "
    "label) SELECT $1, $2, o, k, m::uuid, l "
    "FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS x(k, m, l, o)"};
constexpr pg::Statement kUpsertSettings{
    "gov_upsert_settings",
    "INSERT INTO governance.audit_settings (tenant_id, store_arguments) VALUES ($1, $2) "
    "ON CONFLICT (tenant_id) DO UPDATE SET store_arguments = EXCLUDED.store_arguments"};

constexpr pg::Statement kEnsureHead{
    "gov_ensure_head",
    "INSERT INTO governance.audit_heads (tenant_id, seq, hash) VALUES ($1, 0, '') "
    "ON CONFLICT DO NOTHING"};
constexpr pg::Statement kLockHead{
    "gov_lock_head",
    "SELECT seq, hash FROM governance.audit_heads WHERE tenant_id = $1 FOR UPDATE"};
constexpr pg::Statement kHead{
    "gov_head", "SELECT seq, hash FROM governance.audit_heads WHERE tenant_id = $1"};
constexpr pg::Statement kSetHead{
    "gov_set_head", "UPDATE governance.audit_heads SET seq = $2, hash = $3 WHERE tenant_id = $1"};
constexpr pg::Statement kExistingEvents{
    "gov_existing_events",
    "SELECT event_id FROM governance.audit_events WHERE tenant_id = $1 AND event_id = ANY($2::text[])"};
constexpr pg::Statement kInsertEvent{
    "gov_insert_event",
    "INSERT INTO governance.audit_events (tenant_id, seq, event_id, at, kind, actor, user_id, "
    "user_email, client, server, tool, decision, reason, outcome, upstream_status, latency_ms, "
    "request_id, arguments_digest, arguments_json, action, target, details_json, prev_hash, hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, "
    "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"};
#define AUDIT_FILTER                                                                        \
  "WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR at >= $2) "                         \
  "AND ($3::timestamptz IS NULL OR at < $3) "                                               \
  "AND ($4::text = '' OR user_id = $4 OR user_email = $4) AND ($5::text = '' OR server = $5) " \
  "AND ($6::text = '' OR tool = $6) "                                                        \
  "AND ($7::text = '' OR (kind = 'tool_call' AND outcome = $7)) "                   \
  "AND ($8::text = '' OR kind = $8) "
constexpr pg::Statement kQueryNewest{
    "gov_query_newest",
    "SELECT " AUDIT_COLUMNS " FROM governance.audit_events " AUDIT_FILTER
    "AND ($9::bigint = 0 OR seq < $9) ORDER BY seq DESC LIMIT $10"};
constexpr pg::Statement kQueryOldest{
    "gov_query_oldest",
    "SELECT " AUDIT_COLUMNS " FROM governance.audit_events " AUDIT_FILTER
    "AND seq > $9::bigint ORDER BY seq LIMIT $10"};
constexpr pg::Statement kReadChain{
    "gov_read_chain",
    "SELECT " AUDIT_COLUMNS " FROM governance.audit_events WHERE tenant_id = $1 AND seq > $2 "
    "ORDER BY seq LIMIT $3"};

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(s[i])) return false;
  }
  return true;
}

absl::Status CheckTenant(const std::string& tenant_id) {
  if (IsUuid(tenant_id)) return absl::OkStatus();
  return absl::InvalidArgumentError("tenant id must be a UUID");
}

// A stored enum's text as the domain enum; `fallback` for a value no code wrote.
template <typename E>
E ReadEnum(pg::RowReader& in, E fallback) {
  E out = fallback;
  Parse(in.Str(), &out);
  return out;
}

Server ReadServer(pg::RowReader& in) {
  Server s;
  s.id = in.Str();
  s.tenant_id = in.Str();
  s.name = in.Str();
  s.type = ReadEnum(in, ServerType::kPagerDuty);
  s.region = ReadEnum(in, Region::kUs);
  s.auth_mode = ReadEnum(in, AuthMode::kApiKey);
  s.tool_policy = ReadEnum(in, ToolPolicy::kTenantDefault);
  s.enabled = in.Bool();
  s.created_at = in.Time();
  s.updated_at = in.Time();
  s.last_synced_at = in.OptTime();
  return s;
}

Tool ReadTool(pg::RowReader& in) {
  Tool t;
  t.tenant_id = in.Str();
  t.server_id = in.Str();
  t.name = in.Str();
  t.title = in.Str();
  t.description = in.Str();
  t.access = ReadEnum(in, Access::kWrite);
  t.annotations.read_only = in.Bool();
  t.annotations.destructive = in.Bool();
  t.annotations.idempotent = in.Bool();
  t.annotations.open_world = in.Bool();
  t.scopes = absl::StrSplit(in.Str(), ' ', absl::SkipEmpty());
  t.definition_json = in.Str();
  t.digest = in.Str();
  t.state = ReadEnum(in, ToolState::kPendingReview);
  t.kill_switch = in.Bool();
  t.discovered_at = in.Time();
  t.state_changed_at = in.Time();
  t.state_changed_by = in.Str();
  return t;
}

AuditEvent ReadEvent(pg::RowReader& in) {
  AuditEvent e;
  bool parsed = true;
  auto parse = [&](auto fallback) {
    auto out = fallback;
    parsed = Parse(in.Str(), &out) && parsed;
    return out;
  };
  e.tenant_id = in.Str();
  e.seq = in.Int();
  e.event_id = in.Str();
  e.time = in.Time();
  e.kind = parse(AuditKind::kToolCall);
  e.actor = in.Str();
  e.user_id = in.Str();
  e.user_email = in.Str();
  e.client = in.Str();
  e.server = in.Str();
  e.tool = in.Str();
  e.decision = parse(Decision::kAllow);
  e.reason = parse(DenyReason::kNone);
  e.outcome = parse(Outcome::kSuccess);
  e.upstream_status = static_cast<int>(in.Int());
  e.latency_ms = in.Int();
  e.request_id = in.Str();
  e.arguments_digest = in.Str();
  e.arguments_json = in.Str();
  e.action = in.Str();
  e.target = in.Str();
  e.details_json = in.Str();
  e.prev_hash = in.Str();
  e.hash = in.Str();
  // A stored value no event could have held was written by hand: no hash may match it.
  if (!parsed) e.hash.clear();
  return e;
}

pg::Params EventParams(const AuditEvent& e) {
  return {e.tenant_id,
          static_cast<long long>(e.seq),
          e.event_id,
          e.time,
          Name(e.kind),
          e.actor,
          e.user_id,
          e.user_email,
          e.client,
          e.server,
          e.tool,
          Name(e.decision),
          Name(e.reason),
          Name(e.outcome),
          e.upstream_status,
          static_cast<long long>(e.latency_ms),
          e.request_id,
          e.arguments_digest,
          e.arguments_json,
          e.action,
          e.target,
          e.details_json,
          e.prev_hash,
          e.hash};
}

// Appends inside the caller's transaction; the head row lock serializes appends per tenant.
absl::StatusOr<AppendResult> AppendInTx(pg::Tx& tx, const std::string& tenant_id,
                                        const std::vector<AuditEvent>& events) {
  AppendResult result;
  if (events.empty()) return result;
  RETURN_IF_ERROR(tx.Execute(kEnsureHead, {tenant_id}).status());
  ASSIGN_OR_RETURN(pg::Result head_row, tx.Execute(kLockHead, {tenant_id}));
  pg::RowReader hr(head_row, 0);
  AuditHead head;
  head.seq = hr.Int();
  head.hash = hr.Str();

  std::vector<std::string> ids;
  for (const AuditEvent& e : events) ids.push_back(e.event_id);
  ASSIGN_OR_RETURN(pg::Result existing, tx.Execute(kExistingEvents, {tenant_id, TextArray(ids)}));
  std::set<std::string> seen;
  for (int i = 0; i < existing.rows(); ++i) seen.insert(existing.GetString(i, 0).value_or(""));

  for (AuditEvent e : events) {
    if (!seen.insert(e.event_id).second) {
      ++result.duplicates;
      continue;
    }
    e.tenant_id = tenant_id;
    head = Link(head, e);
    RETURN_IF_ERROR(tx.Execute(kInsertEvent, EventParams(e)).status());
    ++result.recorded;
  }
  if (result.recorded > 0) {
    RETURN_IF_ERROR(tx.Execute(kSetHead, {tenant_id, static_cast<long long>(head.seq), head.hash}).status());
  }
  return result;
}

}  // namespace

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

absl::StatusOr<PolicyData> PgGovernanceStore::LoadPolicy(const std::string& tenant_id) {
  RETURN_IF_ERROR(CheckTenant(tenant_id));
  PolicyData p;
  p.tenant_id = tenant_id;
  // One snapshot of the database for every read, so the data matches its version.
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    p = PolicyData{};
    p.tenant_id = tenant_id;
    RETURN_IF_ERROR(tx.Execute(kRepeatableRead).status());
    ASSIGN_OR_RETURN(pg::Result version, tx.Execute(kVersion, {tenant_id}));
    if (version.rows() > 0) p.version = version.GetInt64(0, 0).value_or(0);
    ASSIGN_OR_RETURN(pg::Result settings, tx.Execute(kSettings, {tenant_id}));
    if (settings.rows() > 0) p.audit_settings.store_arguments = settings.GetBool(0, 0).value_or(false);
    ASSIGN_OR_RETURN(pg::Result servers, tx.Execute(kServers, {tenant_id}));
    p.servers = pg::ReadAll<Server>(servers, ReadServer);
    ASSIGN_OR_RETURN(pg::Result tools, tx.Execute(kTools, {tenant_id}));
    p.tools = pg::ReadAll<Tool>(tools, ReadTool);

    ASSIGN_OR_RETURN(pg::Result toolsets, tx.Execute(kToolsets, {tenant_id}));
    p.toolsets = pg::ReadAll<Toolset>(toolsets, [](pg::RowReader& in) {
      Toolset t;
      t.id = in.Str();
      t.tenant_id = in.Str();
      t.name = in.Str();
      t.description = in.Str();
      t.server_id = in.Str();
      t.created_at = in.Time();
      t.updated_at = in.Time();
      return t;
    });
    std::map<std::string, Toolset*> toolset_by_id;
    for (Toolset& t : p.toolsets) toolset_by_id[t.id] = &t;
    ASSIGN_OR_RETURN(pg::Result toolset_tools, tx.Execute(kToolsetTools, {tenant_id}));
    for (int i = 0; i < toolset_tools.rows(); ++i) {
      pg::RowReader in(toolset_tools, i);
      const std::string id = in.Str();
      auto it = toolset_by_id.find(id);
      if (it != toolset_by_id.end()) it->second->tools.push_back(in.Str());
    }

    ASSIGN_OR_RETURN(pg::Result profiles, tx.Execute(kProfiles, {tenant_id}));
    p.profiles = pg::ReadAll<AccessProfile>(profiles, [](pg::RowReader& in) {
      AccessProfile a;
      a.id = in.Str();
      a.tenant_id = in.Str();
      a.name = in.Str();
      a.description = in.Str();
      a.expires_at = in.OptTime();
      a.created_at = in.Time();
      a.updated_at = in.Time();
      return a;
    });
    std::map<std::string, AccessProfile*> profile_by_id;
    for (AccessProfile& a : p.profiles) profile_by_id[a.id] = &a;
    ASSIGN_OR_RETURN(pg::Result profile_toolsets, tx.Execute(kProfileToolsets, {tenant_id}));
    for (int i = 0; i < profile_toolsets.rows(); ++i) {
      pg::RowReader in(profile_toolsets, i);
      auto it = profile_by_id.find(in.Str());
      if (it != profile_by_id.end()) it->second->toolsets.push_back(in.Str());
    }
    ASSIGN_OR_RETURN(pg::Result members, tx.Execute(kProfileMembers, {tenant_id}));
    for (int i = 0; i < members.rows(); ++i) {
      pg::RowReader in(members, i);
      auto it = profile_by_id.find(in.Str());
      if (it == profile_by_id.end()) continue;
      Member m;
      m.kind = in.Str() == "group" ? Member::Kind::kGroup : Member::Kind::kUser;
      m.id = in.Str();
      m.label = in.Str();
      it->second->members.push_back(std::move(m));
    }
    return absl::OkStatus();
  }));
  return p;
}

absl::StatusOr<int64_t> PgGovernanceStore::PolicyVersion(const std::string& tenant_id) {
  RETURN_IF_ERROR(CheckTenant(tenant_id));
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kVersion, {tenant_id}, timeout_));
  if (r.rows() == 0) return 0;
  return r.GetInt64(0, 0).value_or(0);
}

absl::StatusOr<int64_t> PgGovernanceStore::ApplyChange(const PolicyChange& c) {
  RETURN_IF_ERROR(CheckTenant(c.tenant_id));
  const std::string& t = c.tenant_id;
  int64_t version = 0;
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Execute(kEnsureVersion, {t}).status());
    ASSIGN_OR_RETURN(pg::Result current, tx.Execute(kLockVersion, {t}));
    if (current.GetInt64(0, 0).value_or(-1) != c.expected_version) {
      return absl::AbortedError("the tenant's policy changed meanwhile");
    }
    for (const std::string& id : c.delete_server_ids) {
      RETURN_IF_ERROR(tx.Execute(kDeleteServer, {t, id}).status());
    }
    for (const Server& s : c.upsert_servers) {
      RETURN_IF_ERROR(tx.Execute(kUpsertServer, {s.id, t, s.name, Name(s.type), Name(s.region),
                                                 Name(s.auth_mode), Name(s.tool_policy), s.enabled,
                                                 s.created_at, s.updated_at, pg::OptTime(s.last_synced_at)})
                          .status());
    }
    for (const Tool& x : c.upsert_tools) {
      RETURN_IF_ERROR(tx.Execute(kUpsertTool,
                                 {t, x.server_id, x.name, x.title, x.description, Name(x.access),
                                  x.annotations.read_only, x.annotations.destructive,
                                  x.annotations.idempotent, x.annotations.open_world,
                                  absl::StrJoin(x.scopes, " "), x.definition_json, x.digest,
                                  Name(x.state), x.kill_switch, x.discovered_at, x.state_changed_at,
                                  x.state_changed_by})
                          .status());
    }
    for (const std::string& id : c.delete_toolset_ids) {
      RETURN_IF_ERROR(tx.Execute(kDeleteToolset, {t, id}).status());
    }
    for (const Toolset& ts : c.upsert_toolsets) {
      RETURN_IF_ERROR(tx.Execute(kUpsertToolset, {ts.id, t, ts.name, ts.description, ts.server_id,
                                                  ts.created_at, ts.updated_at})
                          .status());
      RETURN_IF_ERROR(tx.Execute(kClearToolsetTools, {t, ts.id}).status());
      RETURN_IF_ERROR(tx.Execute(kInsertToolsetTools, {t, ts.id, TextArray(ts.tools)}).status());
    }
    for (const std::string& id : c.delete_profile_ids) {
      RETURN_IF_ERROR(tx.Execute(kDeleteProfile, {t, id}).status());
    }
    for (const AccessProfile& a : c.upsert_profiles) {
      RETURN_IF_ERROR(tx.Execute(kUpsertProfile, {a.id, t, a.name, a.description,
                                                  pg::OptTime(a.expires_at), a.created_at, a.updated_at})
                          .status());
      RETURN_IF_ERROR(tx.Execute(kClearProfileToolsets, {t, a.id}).status());
      RETURN_IF_ERROR(tx.Execute(kInsertProfileToolsets, {t, a.id, TextArray(a.toolsets)}).status());
      std::vector<std::string> kinds, ids, labels;
      for (const Member& m : a.members) {
        kinds.push_back(m.kind == Member::Kind::kGroup ? "group" : "user");
        ids.push_back(m.id);
        labels.push_back(m.label);
      }
      RETURN_IF_ERROR(tx.Execute(kClearProfileMembers, {t, a.id}).status());
      RETURN_IF_ERROR(tx.Execute(kInsertProfileMembers,
                                 {t, a.id, TextArray(kinds), TextArray(ids), TextArray(labels)})
                          .status());
    }
    if (c.audit_settings) {
      RETURN_IF_ERROR(tx.Execute(kUpsertSettings, {t, c.audit_settings->store_arguments}).status());
    }
    ASSIGN_OR_RETURN(pg::Result bumped, tx.Execute(kBumpVersion, {t}));
    version = bumped.GetInt64(0, 0).value_or(0);
    RETURN_IF_ERROR(AppendInTx(tx, t, {c.audit}).status());
    // Delivered to listeners only if and when this transaction commits.
    return tx.Execute(kNotify, {kPolicyChannel, absl::StrCat(t, ":", version)}).status();
  }));
  return version;
}

absl::StatusOr<AppendResult> PgGovernanceStore::AppendAudit(const std::string& tenant_id,
                                                            const std::vector<AuditEvent>& events) {
  RETURN_IF_ERROR(CheckTenant(tenant_id));
  AppendResult result;
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(result, AppendInTx(tx, tenant_id, events));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<AuditEvent>> PgGovernanceStore::QueryAudit(const std::string& tenant_id,
                                                                      const AuditFilter& f,
                                                                      AuditOrder order,
                                                                      int64_t after_seq, int limit) {
  RETURN_IF_ERROR(CheckTenant(tenant_id));
  pg::Params params = {tenant_id,
                       pg::OptTime(f.since),
                       pg::OptTime(f.until),
                       f.user,
                       f.server,
                       f.tool,
                       f.outcome ? Name(*f.outcome) : "",
                       f.kind ? Name(*f.kind) : "",
                       static_cast<long long>(after_seq),
                       limit};
  ASSIGN_OR_RETURN(pg::Result r,
                   pool_.Execute(order == AuditOrder::kNewestFirst ? kQueryNewest : kQueryOldest,
                                 params, timeout_));
  return pg::ReadAll<AuditEvent>(r, ReadEvent);
}

absl::StatusOr<std::vector<AuditEvent>> PgGovernanceStore::ReadAuditChain(const std::string& tenant_id,
                                                                          int64_t after_seq,
                                                                          int limit) {
  RETURN_IF_ERROR(CheckTenant(tenant_id));
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kReadChain, {tenant_id, static_cast<long long>(after_seq), limit},
                                               timeout_));
  return pg::ReadAll<AuditEvent>(r, ReadEvent);
}

absl::StatusOr<AuditHead> PgGovernanceStore::GetAuditHead(const std::string& tenant_id) {
  RETURN_IF_ERROR(CheckTenant(tenant_id));
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kHead, {tenant_id}, timeout_));
  if (r.rows() == 0) return AuditHead{};
  pg::RowReader in(r, 0);
  AuditHead h;
  h.seq = in.Int();
  h.hash = in.Str();
  return h;
}

}  // namespace bastion::governance
