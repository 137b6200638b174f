#include "services/tenant/pg_signin_store.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "common/pg/row_reader.h"
#include "common/status/status_macros.h"

namespace bastion::tenant {
namespace {

constexpr pg::Statement kGetPolicy{
    "signin_policy_get",
    "SELECT tenant_id::text, issuer, allowed_domains, groups_claim, jit_users, updated_at "
    "FROM tenant.signin_policies WHERE tenant_id = $1"};
constexpr pg::Statement kPutPolicy{
    "signin_policy_put",
    "INSERT INTO tenant.signin_policies (tenant_id, issuer, allowed_domains, groups_claim, jit_users, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id) DO UPDATE SET issuer = $2, allowed_domains = $3, "
    "groups_claim = $4, jit_users = $5, updated_at = $6"};

#define CLIENT_COLUMNS \
  "client_id, tenant_id::text, client_name, redirect_uris, kind, client_uri, logo_uri, created_at, expires_at"
#define CLIENT_INSERT_COLUMNS \
  "client_id, tenant_id, client_name, redirect_uris, kind, client_uri, logo_uri, created_at, expires_at"
constexpr pg::Statement kDropExpiredClients{
    "signin_client_drop_expired", "DELETE FROM tenant.oauth_clients WHERE tenant_id = $1 AND expires_at < $2"};
constexpr pg::Statement kInsertClient{
    "signin_client_insert",
    "INSERT INTO tenant.oauth_clients (" CLIENT_INSERT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"};
constexpr pg::Statement kPutClient{
    "signin_client_put",
    "INSERT INTO tenant.oauth_clients (" CLIENT_INSERT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
    "ON CONFLICT (tenant_id, client_id) DO UPDATE SET client_name = $3, redirect_uris = $4, kind = $5, "
    "client_uri = $6, logo_uri = $7, expires_at = $9"};
constexpr pg::Statement kGetClient{
    "signin_client_get",
    "SELECT " CLIENT_COLUMNS " FROM tenant.oauth_clients WHERE tenant_id = $1 AND client_id = $2 "
    "AND expires_at > $3"};
constexpr pg::Statement kExtendClient{
    "signin_client_extend",
    "UPDATE tenant.oauth_clients SET expires_at = GREATEST(expires_at, $3) "
    "WHERE tenant_id = $1 AND client_id = $2 AND kind = 'registration'"};
constexpr pg::Statement kCountLiveRegistrations{
    "signin_client_count_live",
    "SELECT count(*) FROM tenant.oauth_clients WHERE tenant_id = $1 AND kind = 'registration' AND expires_at > $2"};
constexpr pg::Statement kCountRegistrationsSince{
    "signin_client_count_since",
    "SELECT count(*) FROM tenant.oauth_clients WHERE tenant_id = $1 AND kind = 'registration' AND created_at > $2"};

#define PENDING_COLUMNS                                                                              \
  "id, tenant_id::text, client_id, redirect_uri, code_challenge, state, resource, server, scope, " \
  "browser_binding, created_at, expires_at, COALESCE(user_id::text, ''), COALESCE(consent_token_hash, '')"
constexpr pg::Statement kDropExpiredPending{
    "signin_pending_drop_expired", "DELETE FROM tenant.oauth_pending WHERE expires_at < $1"};
constexpr pg::Statement kDropExpiredCodes{
    "signin_code_drop_expired", "DELETE FROM tenant.oauth_codes WHERE expires_at < $1"};
constexpr pg::Statement kInsertPending{
    "signin_pending_insert",
    "INSERT INTO tenant.oauth_pending (id, tenant_id, client_id, redirect_uri, code_challenge, state, resource, "
    "server, scope, browser_binding, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"};
constexpr pg::Statement kGetPending{
    "signin_pending_get", "SELECT " PENDING_COLUMNS " FROM tenant.oauth_pending WHERE id = $1"};
constexpr pg::Statement kSetPendingUser{
    "signin_pending_set_user",
    "UPDATE tenant.oauth_pending SET user_id = $2, consent_token_hash = $3 WHERE id = $1 AND user_id IS NULL"};
constexpr pg::Statement kConsumePending{
    "signin_pending_consume",
    "DELETE FROM tenant.oauth_pending WHERE id = $1 AND consent_token_hash = $2"};

#define CODE_COLUMNS                                                                                   \
  "code_hash, tenant_id::text, client_id, redirect_uri, code_challenge, resource, scope, user_id::text, " \
  "grant_id::text, created_at, expires_at, redemptions"
constexpr pg::Statement kInsertCode{
    "signin_code_insert",
    "INSERT INTO tenant.oauth_codes (code_hash, tenant_id, client_id, redirect_uri, code_challenge, resource, scope, "
    "user_id, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"};
constexpr pg::Statement kGetCode{
    "signin_code_get", "SELECT " CODE_COLUMNS " FROM tenant.oauth_codes WHERE code_hash = $1"};
constexpr pg::Statement kRedeemCode{
    "signin_code_redeem",
    "UPDATE tenant.oauth_codes SET redemptions = redemptions + 1 WHERE code_hash = $1 RETURNING redemptions"};

#define GRANT_COLUMNS                                                                                \
  "g.id::text, g.tenant_id::text, g.user_id::text, COALESCE(u.email, ''), g.client_id, g.client_name, " \
  "g.resource, g.scope, g.created_at, g.last_used_at, g.revoked_at, g.revoked_reason"
#define GRANT_FROM " FROM tenant.oauth_grants g LEFT JOIN tenant.users u ON u.id = g.user_id "
constexpr pg::Statement kInsertGrant{
    "signin_grant_insert",
    "INSERT INTO tenant.oauth_grants (id, tenant_id, user_id, client_id, client_name, resource, scope, created_at, "
    "last_used_at, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"};
constexpr pg::Statement kGetGrant{
    "signin_grant_get", "SELECT " GRANT_COLUMNS GRANT_FROM "WHERE g.tenant_id = $1 AND g.id = $2"};
constexpr pg::Statement kListGrants{
    "signin_grant_list",
    "SELECT " GRANT_COLUMNS GRANT_FROM "WHERE g.tenant_id = $1 AND ($2 = '' OR g.user_id::text = $2) "
    "AND ($3 OR g.revoked_at IS NULL) ORDER BY g.created_at DESC, g.id LIMIT 1000"};
constexpr pg::Statement kRevokeGrant{
    "signin_grant_revoke",
    "UPDATE tenant.oauth_grants SET revoked_at = $3, revoked_reason = $4 "
    "WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL"};
constexpr pg::Statement kTouchGrant{
    "signin_grant_touch", "UPDATE tenant.oauth_grants SET last_used_at = $2 WHERE id = $1"};

constexpr pg::Statement kDropExpiredRefresh{
    "signin_refresh_drop_expired",
    "DELETE FROM tenant.oauth_refresh_tokens WHERE grant_id = $1 AND expires_at < $2"};
constexpr pg::Statement kInsertRefresh{
    "signin_refresh_insert",
    "INSERT INTO tenant.oauth_refresh_tokens (token_hash, grant_id, tenant_id, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5)"};
constexpr pg::Statement kGetRefresh{
    "signin_refresh_get",
    "SELECT token_hash, grant_id::text, tenant_id::text, created_at, expires_at, retired_at "
    "FROM tenant.oauth_refresh_tokens WHERE token_hash = $1"};
constexpr pg::Statement kRetireRefresh{
    "signin_refresh_retire",
    "UPDATE tenant.oauth_refresh_tokens SET retired_at = $2 WHERE token_hash = $1 AND retired_at IS NULL"};

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(s[i])) return false;
  }
  return true;
}

const char* KindName(OAuthClientKind k) {
  return k == OAuthClientKind::kMetadataDocument ? "metadata_document" : "registration";
}

OAuthClient ReadClient(pg::RowReader& in) {
  OAuthClient c;
  c.client_id = in.Str();
  c.tenant_id = in.Str();
  c.client_name = in.Str();
  c.redirect_uris = in.List('\n');
  c.kind = in.Str() == "metadata_document" ? OAuthClientKind::kMetadataDocument : OAuthClientKind::kRegistration;
  c.client_uri = in.Str();
  c.logo_uri = in.Str();
  c.created_at = in.Time();
  c.expires_at = in.Time();
  return c;
}

pg::Params ClientParams(const OAuthClient& c) {
  return {c.client_id, c.tenant_id, c.client_name, absl::StrJoin(c.redirect_uris, "\n"), KindName(c.kind),
          c.client_uri, c.logo_uri, c.created_at, c.expires_at};
}

OAuthGrant ReadGrant(pg::RowReader& in) {
  OAuthGrant g;
  g.id = in.Str();
  g.tenant_id = in.Str();
  g.user_id = in.Str();
  g.user_email = in.Str();
  g.client_id = in.Str();
  g.client_name = in.Str();
  g.resource = in.Str();
  g.scope = in.Str();
  g.created_at = in.Time();
  g.last_used_at = in.OptTime();
  g.revoked_at = in.OptTime();
  g.revoked_reason = in.Str();
  return g;
}

}  // namespace

absl::StatusOr<pg::Result> PgSignInStore::Run(const pg::Statement& stmt, const pg::Params& params) {
  return pool_.Execute(stmt, params, timeout_);
}

absl::StatusOr<SignInPolicy> PgSignInStore::GetPolicy(const std::string& tenant_id) {
  if (!IsUuid(tenant_id)) return absl::NotFoundError("sign-in policy not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetPolicy, {tenant_id}));
  return pg::ReadOne<SignInPolicy>(r, [](pg::RowReader& in) {
    SignInPolicy p;
    p.tenant_id = in.Str();
    p.issuer = in.Str();
    p.allowed_domains = in.List(',');
    p.groups_claim = in.Str();
    p.jit_users = in.Bool();
    p.updated_at = in.Time();
    return p;
  }, "sign-in policy");
}

absl::Status PgSignInStore::PutPolicy(const SignInPolicy& p) {
  return Run(kPutPolicy, {p.tenant_id, p.issuer, absl::StrJoin(p.allowed_domains, ","), p.groups_claim, p.jit_users,
                          p.updated_at})
      .status();
}

absl::Status PgSignInStore::CreateClient(const OAuthClient& c, absl::Time now) {
  RETURN_IF_ERROR(Run(kDropExpiredClients, {c.tenant_id, now}).status());
  return Run(kInsertClient, ClientParams(c)).status();
}

absl::Status PgSignInStore::PutClient(const OAuthClient& c) { return Run(kPutClient, ClientParams(c)).status(); }

absl::StatusOr<OAuthClient> PgSignInStore::GetClient(const std::string& tenant_id, const std::string& client_id,
                                                     absl::Time now) {
  if (!IsUuid(tenant_id)) return absl::NotFoundError("client not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetClient, {tenant_id, client_id, now}));
  return pg::ReadOne<OAuthClient>(r, ReadClient, "client");
}

absl::Status PgSignInStore::ExtendClient(const std::string& tenant_id, const std::string& client_id,
                                         absl::Time expires_at) {
  return Run(kExtendClient, {tenant_id, client_id, expires_at}).status();
}

absl::StatusOr<int> PgSignInStore::CountLiveRegistrations(const std::string& tenant_id, absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kCountLiveRegistrations, {tenant_id, now}));
  return static_cast<int>(r.GetInt64(0, 0).value_or(0));
}

absl::StatusOr<int> PgSignInStore::CountRegistrationsSince(const std::string& tenant_id, absl::Time since) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kCountRegistrationsSince, {tenant_id, since}));
  return static_cast<int>(r.GetInt64(0, 0).value_or(0));
}

absl::Status PgSignInStore::CreatePending(const PendingAuthorization& p, absl::Time now) {
  RETURN_IF_ERROR(Run(kDropExpiredPending, {now}).status());
  RETURN_IF_ERROR(Run(kDropExpiredCodes, {now}).status());
  return Run(kInsertPending, {p.id, p.tenant_id, p.client_id, p.redirect_uri, p.code_challenge, p.state, p.resource,
                              p.server, p.scope, p.browser_binding, p.created_at, p.expires_at})
      .status();
}

absl::StatusOr<PendingAuthorization> PgSignInStore::GetPending(const std::string& id) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetPending, {id}));
  return pg::ReadOne<PendingAuthorization>(r, [](pg::RowReader& in) {
    PendingAuthorization p;
    p.id = in.Str();
    p.tenant_id = in.Str();
    p.client_id = in.Str();
    p.redirect_uri = in.Str();
    p.code_challenge = in.Str();
    p.state = in.Str();
    p.resource = in.Str();
    p.server = in.Str();
    p.scope = in.Str();
    p.browser_binding = in.Str();
    p.created_at = in.Time();
    p.expires_at = in.Time();
    p.user_id = in.Str();
    p.consent_token_hash = in.Str();
    return p;
  }, "pending authorization");
}

absl::Status PgSignInStore::SetPendingUser(const std::string& id, const std::string& user_id,
                                           const std::string& consent_token_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kSetPendingUser, {id, user_id, consent_token_hash}));
  if (r.affected_rows() == 0) return absl::FailedPreconditionError("the authorization already has a user");
  return absl::OkStatus();
}

absl::Status PgSignInStore::ConsumePending(const std::string& id, const std::string& consent_token_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kConsumePending, {id, consent_token_hash}));
  if (r.affected_rows() == 0) return absl::NotFoundError("pending authorization not found");
  return absl::OkStatus();
}

absl::Status PgSignInStore::CreateCode(const AuthorizationCode& c) {
  return Run(kInsertCode, {c.code_hash, c.tenant_id, c.client_id, c.redirect_uri, c.code_challenge, c.resource,
                           c.scope, c.user_id, c.grant_id, c.created_at, c.expires_at})
      .status();
}

absl::StatusOr<AuthorizationCode> PgSignInStore::GetCode(const std::string& code_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetCode, {code_hash}));
  return pg::ReadOne<AuthorizationCode>(r, [](pg::RowReader& in) {
    AuthorizationCode c;
    c.code_hash = in.Str();
    c.tenant_id = in.Str();
    c.client_id = in.Str();
    c.redirect_uri = in.Str();
    c.code_challenge = in.Str();
    c.resource = in.Str();
    c.scope = in.Str();
    c.user_id = in.Str();
    c.grant_id = in.Str();
    c.created_at = in.Time();
    c.expires_at = in.Time();
    c.redemptions = static_cast<int>(in.Int());
    return c;
  }, "authorization code");
}

absl::StatusOr<int> PgSignInStore::RedeemCode(const std::string& code_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kRedeemCode, {code_hash}));
  if (r.rows() == 0) return absl::NotFoundError("authorization code not found");
  return static_cast<int>(r.GetInt64(0, 0).value_or(0));
}

absl::Status PgSignInStore::CreateGrant(const OAuthGrant& g) {
  return Run(kInsertGrant, {g.id, g.tenant_id, g.user_id, g.client_id, g.client_name, g.resource, g.scope,
                            g.created_at, pg::OptTime(g.last_used_at), pg::OptTime(g.revoked_at), g.revoked_reason})
      .status();
}

absl::StatusOr<OAuthGrant> PgSignInStore::GetGrant(const std::string& tenant_id, const std::string& id) {
  if (!IsUuid(tenant_id) || !IsUuid(id)) return absl::NotFoundError("grant not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetGrant, {tenant_id, id}));
  return pg::ReadOne<OAuthGrant>(r, ReadGrant, "grant");
}

absl::StatusOr<std::vector<OAuthGrant>> PgSignInStore::ListGrants(const std::string& tenant_id,
                                                                  const std::string& user_id, bool include_revoked) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListGrants, {tenant_id, user_id, include_revoked}));
  return pg::ReadAll<OAuthGrant>(r, ReadGrant);
}

absl::StatusOr<OAuthGrant> PgSignInStore::RevokeGrant(const std::string& tenant_id, const std::string& id,
                                                      const std::string& reason, absl::Time now) {
  if (!IsUuid(tenant_id) || !IsUuid(id)) return absl::NotFoundError("grant not found");
  RETURN_IF_ERROR(Run(kRevokeGrant, {tenant_id, id, now, reason}).status());
  return GetGrant(tenant_id, id);
}

absl::Status PgSignInStore::TouchGrant(const std::string& id, absl::Time now) {
  return Run(kTouchGrant, {id, now}).status();
}

absl::Status PgSignInStore::CreateRefreshToken(const RefreshToken& t) {
  RETURN_IF_ERROR(Run(kDropExpiredRefresh, {t.grant_id, t.created_at}).status());
  return Run(kInsertRefresh, {t.token_hash, t.grant_id, t.tenant_id, t.created_at, t.expires_at}).status();
}

absl::StatusOr<RefreshToken> PgSignInStore::GetRefreshToken(const std::string& token_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetRefresh, {token_hash}));
  return pg::ReadOne<RefreshToken>(r, [](pg::RowReader& in) {
    RefreshToken t;
    t.token_hash = in.Str();
    t.grant_id = in.Str();
    t.tenant_id = in.Str();
    t.created_at = in.Time();
    t.expires_at = in.Time();
    t.retired_at = in.OptTime();
    return t;
  }, "refresh token");
}

absl::StatusOr<bool> PgSignInStore::RetireRefreshToken(const std::string& token_hash, absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kRetireRefresh, {token_hash, now}));
  return r.affected_rows() == 1;
}

}  // namespace bastion::tenant
