#include "services/tenant/pg_tenant_store.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/pg/row_reader.h"
#include "common/status/status_macros.h"

namespace bastion::tenant {
namespace {

// Column lists are macros so the statements below stay compile-time string constants.
#define TENANT_COLUMNS                                                                  \
  "id::text, slug, display_name, active, kill_switch, default_tool_state, "            \
  "auto_approve_read_only, allowed_client_types, created_at, updated_at, version"
#define USER_COLUMNS                                                                     \
  "u.id::text, u.tenant_id::text, u.email, u.display_name, u.role, u.disabled, u.created_at, " \
  "array_to_string(ARRAY(SELECT gm.group_id::text FROM tenant.group_members gm "         \
  "WHERE gm.user_id = u.id ORDER BY 1), ',')"
#define TOKEN_COLUMNS                                                                    \
  "t.id::text, t.tenant_id::text, t.user_id::text, t.name, t.client_type, t.hint, "      \
  "t.created_at, t.expires_at, t.revoked_at, t.last_used_at"

constexpr pg::Statement kInsertTenant{
    "tenant_insert",
    "INSERT INTO tenant.tenants (id, slug, display_name, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $4)"};
constexpr pg::Statement kTenantById{
    "tenant_by_id", "SELECT " TENANT_COLUMNS " FROM tenant.tenants WHERE id = $1"};
constexpr pg::Statement kTenantBySlug{
    "tenant_by_slug", "SELECT " TENANT_COLUMNS " FROM tenant.tenants WHERE slug = $1"};
constexpr pg::Statement kListTenants{
    "tenant_list",
    "SELECT " TENANT_COLUMNS " FROM tenant.tenants WHERE slug > $1 ORDER BY slug LIMIT $2"};
// Users, groups, memberships, catalog choices and tokens go with it (ON DELETE CASCADE).
constexpr pg::Statement kDeleteTenant{"tenant_delete", "DELETE FROM tenant.tenants WHERE id = $1"};
constexpr pg::Statement kUpdateTenant{
    "tenant_update",
    "UPDATE tenant.tenants SET display_name = $2, active = $3, kill_switch = $4, "
    "default_tool_state = $5, auto_approve_read_only = $6, allowed_client_types = $7, "
    "updated_at = $8, version = version + 1 WHERE id = $1 RETURNING " TENANT_COLUMNS};

constexpr pg::Statement kListCatalog{
    "catalog_list",
    "SELECT c.key, c.display_name, c.description, "
    "EXISTS (SELECT 1 FROM tenant.tenant_catalog tc WHERE tc.key = c.key AND tc.tenant_id::text = $1) "
    "FROM tenant.catalog_entries c ORDER BY c.key"};
constexpr pg::Statement kCatalogExists{
    "catalog_exists", "SELECT 1 FROM tenant.catalog_entries WHERE key = $1"};
constexpr pg::Statement kEnableCatalog{
    "catalog_enable",
    "INSERT INTO tenant.tenant_catalog (tenant_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
constexpr pg::Statement kDisableCatalog{
    "catalog_disable", "DELETE FROM tenant.tenant_catalog WHERE tenant_id = $1 AND key = $2"};

constexpr pg::Statement kInsertUser{
    "user_insert",
    "INSERT INTO tenant.users (id, tenant_id, email, display_name, role, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};
constexpr pg::Statement kUserById{
    "user_by_id", "SELECT " USER_COLUMNS " FROM tenant.users u WHERE u.tenant_id = $1 AND u.id = $2"};
constexpr pg::Statement kUserByEmail{
    "user_by_email",
    "SELECT " USER_COLUMNS " FROM tenant.users u WHERE u.tenant_id = $1 AND u.email = $2"};
constexpr pg::Statement kListUsers{
    "user_list",
    "SELECT " USER_COLUMNS " FROM tenant.users u WHERE u.tenant_id = $1 AND u.email > $2 "
    "ORDER BY u.email LIMIT $3"};
constexpr pg::Statement kSetUserDisabled{
    "user_set_disabled", "UPDATE tenant.users SET disabled = $3 WHERE tenant_id = $1 AND id = $2"};

constexpr pg::Statement kInsertGroup{
    "group_insert", "INSERT INTO tenant.groups (id, tenant_id, name) VALUES ($1, $2, $3)"};
#define GROUP_SELECT                                                                      \
  "SELECT g.id::text, g.tenant_id::text, g.name, array_to_string(ARRAY(SELECT gm.user_id::text " \
  "FROM tenant.group_members gm WHERE gm.group_id = g.id ORDER BY 1), ',') FROM tenant.groups g "
constexpr pg::Statement kGroupById{
    "group_by_id", GROUP_SELECT "WHERE g.tenant_id = $1 AND g.id = $2"};
constexpr pg::Statement kGroupByName{
    "group_by_name", GROUP_SELECT "WHERE g.tenant_id = $1 AND g.name = $2"};
constexpr pg::Statement kListGroups{
    "group_list", GROUP_SELECT "WHERE g.tenant_id = $1 ORDER BY g.name"};
constexpr pg::Statement kAddMember{
    "group_add_member",
    "INSERT INTO tenant.group_members (tenant_id, group_id, user_id) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"};
constexpr pg::Statement kRemoveMember{
    "group_remove_member",
    "DELETE FROM tenant.group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3"};

constexpr pg::Statement kInsertToken{
    "token_insert",
    "INSERT INTO tenant.client_tokens (id, tenant_id, user_id, name, client_type, token_hash, "
    "hint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"};
// The edge's hot path: one unique-index probe joined to the user and the tenant.
constexpr pg::Statement kTokenByHash{
    "token_by_hash",
    "SELECT " TOKEN_COLUMNS ", t.token_hash, "
    "u.id::text, u.tenant_id::text, u.email, u.display_name, u.role, u.disabled, u.created_at, "
    "array_to_string(ARRAY(SELECT gm.group_id::text FROM tenant.group_members gm "
    "WHERE gm.user_id = u.id ORDER BY 1), ','), "
    "n.id::text, n.slug, n.display_name, n.active, n.kill_switch, n.default_tool_state, "
    "n.auto_approve_read_only, n.allowed_client_types, n.created_at, n.updated_at, n.version "
    "FROM tenant.client_tokens t JOIN tenant.users u ON u.id = t.user_id "
    "JOIN tenant.tenants n ON n.id = t.tenant_id WHERE t.token_hash = $1"};
constexpr pg::Statement kListTokens{
    "token_list",
    "SELECT " TOKEN_COLUMNS " FROM tenant.client_tokens t WHERE t.tenant_id = $1 "
    "AND ($2 = '' OR t.user_id::text = $2) ORDER BY t.created_at, t.id"};
constexpr pg::Statement kRevokeToken{
    "token_revoke",
    "UPDATE tenant.client_tokens t SET revoked_at = COALESCE(revoked_at, $3) "
    "WHERE t.tenant_id = $1 AND t.id = $2 RETURNING " TOKEN_COLUMNS};
constexpr pg::Statement kTouchTokens{
    "token_touch",
    "UPDATE tenant.client_tokens t SET last_used_at = GREATEST(COALESCE(t.last_used_at, v.at), v.at) "
    "FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS at) v WHERE t.id = v.id"};

constexpr pg::Statement kEndSession{
    "session_end",
    "INSERT INTO tenant.ended_sessions (session_hash, ended_at, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (session_hash) DO NOTHING"};
constexpr pg::Statement kDropExpiredSessions{
    "session_drop_expired", "DELETE FROM tenant.ended_sessions WHERE expires_at < $1"};
constexpr pg::Statement kListEndedSessions{
    "session_list_ended",
    "SELECT seq, session_hash, expires_at FROM tenant.ended_sessions WHERE seq > $1 AND expires_at >= $2 "
    "ORDER BY seq LIMIT $3"};

constexpr pg::Statement kAddRevocation{
    "revocation_add",
    "INSERT INTO tenant.revocations (kind, tenant_id, subject_id, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5)"};
constexpr pg::Statement kDropExpiredRevocations{
    "revocation_drop_expired", "DELETE FROM tenant.revocations WHERE expires_at < $1"};
constexpr pg::Statement kListRevocations{
    "revocation_list",
    "SELECT seq, kind, tenant_id::text, subject_id, expires_at, created_at FROM tenant.revocations "
    "WHERE seq > $1 AND expires_at >= $2 ORDER BY seq LIMIT $3"};

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(s[i])) return false;
  }
  return true;
}

ToolState ParseToolState(const std::string& s) {
  return s == "approved" ? ToolState::kApproved : ToolState::kPendingReview;
}

ClientType ParseClientType(absl::string_view s) {
  if (s == "shared") return ClientType::kShared;
  if (s == "service") return ClientType::kService;
  return ClientType::kPersonal;
}

Tenant ReadTenant(pg::RowReader& in) {
  Tenant t;
  t.id = in.Str();
  t.slug = in.Str();
  t.display_name = in.Str();
  t.active = in.Bool();
  t.kill_switch = in.Bool();
  t.settings.default_tool_state = ParseToolState(in.Str());
  t.settings.auto_approve_read_only = in.Bool();
  t.settings.allowed_client_types.clear();
  for (const std::string& c : in.List(',')) t.settings.allowed_client_types.push_back(ParseClientType(c));
  t.created_at = in.Time();
  t.updated_at = in.Time();
  t.version = in.Int();
  return t;
}

User ReadUser(pg::RowReader& in) {
  User u;
  u.id = in.Str();
  u.tenant_id = in.Str();
  u.email = in.Str();
  u.display_name = in.Str();
  u.role = in.Str() == "admin" ? Role::kAdmin : Role::kMember;
  u.disabled = in.Bool();
  u.created_at = in.Time();
  u.group_ids = in.List(',');
  return u;
}

ClientToken ReadToken(pg::RowReader& in) {
  ClientToken t;
  t.id = in.Str();
  t.tenant_id = in.Str();
  t.user_id = in.Str();
  t.name = in.Str();
  t.client_type = ParseClientType(in.Str());
  t.hint = in.Str();
  t.created_at = in.Time();
  t.expires_at = in.OptTime();
  t.revoked_at = in.OptTime();
  t.last_used_at = in.OptTime();
  return t;
}

Group ReadGroup(pg::RowReader& in) {
  Group g;
  g.id = in.Str();
  g.tenant_id = in.Str();
  g.name = in.Str();
  g.member_user_ids = in.List(',');
  return g;
}

std::string ClientTypesText(const std::vector<ClientType>& types) {
  std::vector<std::string> names;
  for (ClientType t : types) names.push_back(ClientTypeDbName(t));
  return absl::StrJoin(names, ",");
}

}  // namespace

const char* ToolStateName(ToolState s) {
  return s == ToolState::kApproved ? "approved" : "pending_review";
}

const char* ClientTypeDbName(ClientType t) {
  switch (t) {
    case ClientType::kPersonal: return "personal";
    case ClientType::kShared: return "shared";
    case ClientType::kService: return "service";
  }
  return "personal";
}

const char* RoleName(Role r) { return r == Role::kAdmin ? "admin" : "member"; }

absl::StatusOr<pg::Result> PgTenantStore::Run(const pg::Statement& stmt, const pg::Params& params) {
  return pool_.Execute(stmt, params, timeout_);
}

absl::Status PgTenantStore::CreateTenant(const Tenant& t) {
  return Run(kInsertTenant, {t.id, t.slug, t.display_name, t.created_at}).status();
}

absl::StatusOr<Tenant> PgTenantStore::GetTenantById(const std::string& id) {
  if (!IsUuid(id)) return absl::NotFoundError("tenant not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kTenantById, {id}));
  return pg::ReadOne<Tenant>(r, ReadTenant, "tenant");
}

absl::StatusOr<Tenant> PgTenantStore::GetTenantBySlug(const std::string& slug) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kTenantBySlug, {slug}));
  return pg::ReadOne<Tenant>(r, ReadTenant, "tenant");
}

absl::StatusOr<std::vector<Tenant>> PgTenantStore::ListTenants(const std::string& after_slug,
                                                               int limit) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListTenants, {after_slug, limit}));
  return pg::ReadAll<Tenant>(r, ReadTenant);
}

absl::Status PgTenantStore::DeleteTenant(const std::string& id) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kDeleteTenant, {id}));
  if (r.affected_rows() == 0) return absl::NotFoundError("tenant not found");
  return absl::OkStatus();
}

absl::StatusOr<Tenant> PgTenantStore::UpdateTenant(const Tenant& t, absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r,
                   Run(kUpdateTenant, {t.id, t.display_name, t.active, t.kill_switch,
                                       ToolStateName(t.settings.default_tool_state),
                                       t.settings.auto_approve_read_only,
                                       ClientTypesText(t.settings.allowed_client_types), now}));
  return pg::ReadOne<Tenant>(r, ReadTenant, "tenant");
}

absl::StatusOr<std::vector<CatalogEntry>> PgTenantStore::ListCatalog(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListCatalog, {tenant_id}));
  return pg::ReadAll<CatalogEntry>(r, [](pg::RowReader& in) {
    CatalogEntry e;
    e.key = in.Str();
    e.display_name = in.Str();
    e.description = in.Str();
    e.enabled = in.Bool();
    return e;
  });
}

absl::Status PgTenantStore::SetCatalogEnabled(const std::string& tenant_id, const std::string& key,
                                              bool enabled) {
  ASSIGN_OR_RETURN(pg::Result exists, Run(kCatalogExists, {key}));
  if (exists.rows() == 0) return absl::NotFoundError("catalog entry not found");
  return Run(enabled ? kEnableCatalog : kDisableCatalog, {tenant_id, key}).status();
}

absl::Status PgTenantStore::CreateUser(const User& u) {
  return Run(kInsertUser, {u.id, u.tenant_id, u.email, u.display_name, RoleName(u.role), u.created_at})
      .status();
}

absl::StatusOr<User> PgTenantStore::GetUserById(const std::string& tenant_id, const std::string& id) {
  if (!IsUuid(id)) return absl::NotFoundError("user not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kUserById, {tenant_id, id}));
  return pg::ReadOne<User>(r, ReadUser, "user");
}

absl::StatusOr<User> PgTenantStore::GetUserByEmail(const std::string& tenant_id,
                                                   const std::string& email) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kUserByEmail, {tenant_id, email}));
  return pg::ReadOne<User>(r, ReadUser, "user");
}

absl::StatusOr<std::vector<User>> PgTenantStore::ListUsers(const std::string& tenant_id,
                                                           const std::string& after_email, int limit) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListUsers, {tenant_id, after_email, limit}));
  return pg::ReadAll<User>(r, ReadUser);
}

absl::Status PgTenantStore::SetUserDisabled(const std::string& tenant_id, const std::string& user_id,
                                            bool disabled) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kSetUserDisabled, {tenant_id, user_id, disabled}));
  if (r.affected_rows() == 0) return absl::NotFoundError("user not found");
  return absl::OkStatus();
}

absl::Status PgTenantStore::CreateGroup(const Group& g) {
  return Run(kInsertGroup, {g.id, g.tenant_id, g.name}).status();
}

absl::StatusOr<Group> PgTenantStore::GetGroupById(const std::string& tenant_id, const std::string& id) {
  if (!IsUuid(id)) return absl::NotFoundError("group not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGroupById, {tenant_id, id}));
  return pg::ReadOne<Group>(r, ReadGroup, "group");
}

absl::StatusOr<Group> PgTenantStore::GetGroupByName(const std::string& tenant_id,
                                                    const std::string& name) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kGroupByName, {tenant_id, name}));
  return pg::ReadOne<Group>(r, ReadGroup, "group");
}

absl::StatusOr<std::vector<Group>> PgTenantStore::ListGroups(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListGroups, {tenant_id}));
  return pg::ReadAll<Group>(r, ReadGroup);
}

absl::Status PgTenantStore::AddGroupMember(const std::string& tenant_id, const std::string& group_id,
                                           const std::string& user_id) {
  return Run(kAddMember, {tenant_id, group_id, user_id}).status();
}

absl::Status PgTenantStore::RemoveGroupMember(const std::string& tenant_id,
                                              const std::string& group_id,
                                              const std::string& user_id) {
  return Run(kRemoveMember, {tenant_id, group_id, user_id}).status();
}

absl::Status PgTenantStore::CreateToken(const ClientToken& t, const std::string& token_hash) {
  pg::Param expires = t.expires_at.has_value() ? pg::Param(*t.expires_at) : pg::Param(std::nullopt);
  return Run(kInsertToken, {t.id, t.tenant_id, t.user_id, t.name, ClientTypeDbName(t.client_type),
                            token_hash, t.hint, t.created_at, expires})
      .status();
}

absl::StatusOr<TokenLookup> PgTenantStore::FindTokenByHash(const std::string& token_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kTokenByHash, {token_hash}));
  return pg::ReadOne<TokenLookup>(r, [](pg::RowReader& in) {
    TokenLookup l;
    l.token = ReadToken(in);
    l.token_hash = in.Str();
    l.user = ReadUser(in);
    l.tenant = ReadTenant(in);
    return l;
  }, "client token");
}

absl::StatusOr<std::vector<ClientToken>> PgTenantStore::ListTokens(const std::string& tenant_id,
                                                                   const std::string& user_id) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListTokens, {tenant_id, user_id}));
  return pg::ReadAll<ClientToken>(r, ReadToken);
}

absl::StatusOr<ClientToken> PgTenantStore::RevokeToken(const std::string& tenant_id,
                                                       const std::string& token_id, absl::Time now) {
  if (!IsUuid(token_id)) return absl::NotFoundError("client token not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kRevokeToken, {tenant_id, token_id, now}));
  return pg::ReadOne<ClientToken>(r, ReadToken, "client token");
}

absl::Status PgTenantStore::TouchTokens(const absl::flat_hash_map<std::string, absl::Time>& last_used) {
  std::vector<std::string> ids, times;
  for (const auto& [id, at] : last_used) {
    ids.push_back(id);
    times.push_back(absl::FormatTime(absl::RFC3339_full, at, absl::UTCTimeZone()));
  }
  const std::string id_array = "{" + absl::StrJoin(ids, ",") + "}";
  const std::string time_array = "{\"" + absl::StrJoin(times, "\",\"") + "\"}";
  return Run(kTouchTokens, {id_array, time_array}).status();
}

absl::Status PgTenantStore::EndSession(const std::string& session_hash, absl::Time expires_at,
                                       absl::Time now) {
  RETURN_IF_ERROR(Run(kDropExpiredSessions, {now}).status());
  return Run(kEndSession, {session_hash, now, expires_at}).status();
}

absl::StatusOr<std::vector<EndedSession>> PgTenantStore::ListEndedSessions(int64_t after_seq, int limit,
                                                                           absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListEndedSessions, {after_seq, now, limit}));
  return pg::ReadAll<EndedSession>(r, [](pg::RowReader& in) {
    EndedSession e;
    e.seq = in.Int();
    e.session_hash = in.Str();
    e.expires_at = in.Time();
    return e;
  });
}

absl::Status PgTenantStore::AddRevocation(const Revocation& r, absl::Time now) {
  RETURN_IF_ERROR(Run(kDropExpiredRevocations, {now}).status());
  return Run(kAddRevocation, {r.kind == Revocation::Kind::kUser ? "user" : "grant", r.tenant_id, r.id,
                              now, r.expires_at})
      .status();
}

absl::StatusOr<std::vector<Revocation>> PgTenantStore::ListRevocations(int64_t after_seq, int limit,
                                                                       absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListRevocations, {after_seq, now, limit}));
  return pg::ReadAll<Revocation>(r, [](pg::RowReader& in) {
    Revocation v;
    v.seq = in.Int();
    v.kind = in.Str() == "user" ? Revocation::Kind::kUser : Revocation::Kind::kGrant;
    v.tenant_id = in.Str();
    v.id = in.Str();
    v.expires_at = in.Time();
    v.revoked_at = in.Time();
    return v;
  });
}

}  // namespace bastion::tenant
