#include "services/vault/pg_vault_store.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/pg/row_reader.h"
#include "common/status/status_macros.h"

namespace bastion::vault {
namespace {

// Column lists are macros so the statements below stay compile-time string constants.
#define DATA_KEY_COLUMNS "tenant_id::text, kek_version, wrapped_key, created_at, rewrapped_at"
#define CREDENTIAL_COLUMNS                                                                    \
  "c.id::text, c.tenant_id::text, c.server, c.mode, c.region, c.actor_email, c.access, "       \
  "c.client_id, c.scopes, c.flavor, c.secret_sealed, c.secret_hint, c.version, c.created_at, " \
  "c.rotated_at"
#define GRANT_COLUMNS                                                                          \
  "g.id::text, g.tenant_id::text, g.credential_id::text, c.server, g.user_id::text, "          \
  "g.user_email, g.status, g.access_token_sealed, g.refresh_token_sealed, g.expires_at, "      \
  "g.scopes, g.version, g.created_at, g.updated_at"
#define STATE_COLUMNS                                                                          \
  "state_hash, tenant_id::text, credential_id::text, user_id::text, user_email, "              \
  "code_verifier_sealed, redirect_uri, created_at, expires_at"

constexpr pg::Statement kGetDataKey{
    "vault_data_key_get", "SELECT " DATA_KEY_COLUMNS " FROM vault.data_keys WHERE tenant_id = $1"};
constexpr pg::Statement kLockDataKey{
    "vault_data_key_lock",
    "SELECT " DATA_KEY_COLUMNS " FROM vault.data_keys WHERE tenant_id = $1 FOR UPDATE"};
constexpr pg::Statement kInsertDataKey{
    "vault_data_key_insert",
    "INSERT INTO vault.data_keys (tenant_id, kek_version, wrapped_key, created_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO NOTHING"};
constexpr pg::Statement kListDataKeys{
    "vault_data_key_list", "SELECT " DATA_KEY_COLUMNS " FROM vault.data_keys ORDER BY tenant_id"};
constexpr pg::Statement kRewrapDataKey{
    "vault_data_key_rewrap",
    "UPDATE vault.data_keys SET kek_version = $2, wrapped_key = $3, rewrapped_at = $4 "
    "WHERE tenant_id = $1"};

constexpr pg::Statement kInsertCredential{
    "vault_credential_insert",
    "INSERT INTO vault.credentials (id, tenant_id, server, mode, region, actor_email, access, "
    "client_id, scopes, flavor, secret_sealed, secret_hint, version, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"};
constexpr pg::Statement kGetCredential{
    "vault_credential_get",
    "SELECT " CREDENTIAL_COLUMNS " FROM vault.credentials c WHERE c.tenant_id = $1 AND c.server = $2"};
constexpr pg::Statement kGetCredentialById{
    "vault_credential_by_id",
    "SELECT " CREDENTIAL_COLUMNS " FROM vault.credentials c WHERE c.tenant_id = $1 AND c.id = $2"};
constexpr pg::Statement kUpdateCredential{
    "vault_credential_update",
    "UPDATE vault.credentials c SET mode = $3, region = $4, actor_email = $5, access = $6, "
    "client_id = $7, scopes = $8, flavor = $9, secret_sealed = $10, secret_hint = $11, "
    "rotated_at = $12, version = c.version + 1 "
    "WHERE c.tenant_id = $1 AND c.id = $2 AND c.version = $13 RETURNING " CREDENTIAL_COLUMNS};
constexpr pg::Statement kCredentialExists{
    "vault_credential_exists",
    "SELECT 1 FROM vault.credentials WHERE tenant_id = $1 AND id = $2"};
constexpr pg::Statement kDeleteCredentialGrants{
    "vault_credential_delete_grants",
    "WITH gone AS (DELETE FROM vault.user_grants WHERE tenant_id = $1 AND credential_id = $2 "
    "RETURNING 1) SELECT count(*) FROM gone"};
constexpr pg::Statement kDeleteCredentialStates{
    "vault_credential_delete_states",
    "DELETE FROM vault.authorization_states WHERE tenant_id = $1 AND credential_id = $2"};
constexpr pg::Statement kDeleteCredential{
    "vault_credential_delete", "DELETE FROM vault.credentials WHERE tenant_id = $1 AND id = $2"};

constexpr pg::Statement kDeleteTenantStates{
    "vault_tenant_delete_states", "DELETE FROM vault.authorization_states WHERE tenant_id = $1"};
constexpr pg::Statement kDeleteTenantGrants{
    "vault_tenant_delete_grants", "DELETE FROM vault.user_grants WHERE tenant_id = $1"};
constexpr pg::Statement kDeleteTenantCredentials{
    "vault_tenant_delete_credentials", "DELETE FROM vault.credentials WHERE tenant_id = $1"};
// Sign-in (migration 0002): the tenant's IdP client (its pending sign-ins cascade) and its
// token-signing keys. Sealed under the data key deleted with them, so already unreadable.
constexpr pg::Statement kDeleteTenantIdpClient{
    "vault_tenant_delete_idp_client", "DELETE FROM vault.idp_clients WHERE tenant_id = $1"};
constexpr pg::Statement kDeleteTenantTokenKeys{
    "vault_tenant_delete_token_keys", "DELETE FROM vault.token_keys WHERE tenant_id = $1"};
constexpr pg::Statement kDeleteTenantDataKey{
    "vault_tenant_delete_data_key", "DELETE FROM vault.data_keys WHERE tenant_id = $1"};

constexpr pg::Statement kUpsertGrant{
    "vault_grant_upsert",
    "INSERT INTO vault.user_grants AS g (id, tenant_id, credential_id, user_id, user_email, "
    "status, access_token_sealed, refresh_token_sealed, expires_at, scopes, version, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) "
    "ON CONFLICT (credential_id, user_id) DO UPDATE SET id = EXCLUDED.id, "
    "user_email = EXCLUDED.user_email, status = EXCLUDED.status, "
    "access_token_sealed = EXCLUDED.access_token_sealed, "
    "refresh_token_sealed = EXCLUDED.refresh_token_sealed, expires_at = EXCLUDED.expires_at, "
    "scopes = EXCLUDED.scopes, version = g.version + 1, updated_at = EXCLUDED.updated_at"};
constexpr pg::Statement kGetGrant{
    "vault_grant_get",
    "SELECT " GRANT_COLUMNS " FROM vault.user_grants g JOIN vault.credentials c "
    "ON c.id = g.credential_id WHERE g.tenant_id = $1 AND g.credential_id = $2 "
    "AND (g.user_id::text = $3 OR g.user_email = lower($3))"};
constexpr pg::Statement kListGrants{
    "vault_grant_list",
    "SELECT " GRANT_COLUMNS " FROM vault.user_grants g JOIN vault.credentials c "
    "ON c.id = g.credential_id WHERE g.tenant_id = $1 "
    "AND ($2 = '' OR g.credential_id::text = $2) AND ($3 = '' OR g.user_id::text = $3) "
    "ORDER BY c.server, g.user_email"};
constexpr pg::Statement kDeleteGrant{
    "vault_grant_delete",
    "DELETE FROM vault.user_grants g USING vault.credentials c WHERE c.id = g.credential_id "
    "AND g.tenant_id = $1 AND g.credential_id = $2 AND g.user_id::text = $3 "
    "RETURNING " GRANT_COLUMNS};
constexpr pg::Statement kLockGrant{
    "vault_grant_lock",
    "SELECT " GRANT_COLUMNS " FROM vault.user_grants g JOIN vault.credentials c "
    "ON c.id = g.credential_id WHERE g.tenant_id = $1 AND g.id = $2 FOR UPDATE OF g"};
constexpr pg::Statement kUpdateGrant{
    "vault_grant_update",
    "UPDATE vault.user_grants g SET user_email = $3, status = $4, access_token_sealed = $5, "
    "refresh_token_sealed = $6, expires_at = $7, scopes = $8, updated_at = $9, "
    "version = g.version + 1 FROM vault.credentials c "
    "WHERE c.id = g.credential_id AND g.tenant_id = $1 AND g.id = $2 RETURNING " GRANT_COLUMNS};

constexpr pg::Statement kInsertState{
    "vault_state_insert",
    "INSERT INTO vault.authorization_states (state_hash, tenant_id, credential_id, user_id, "
    "user_email, code_verifier_sealed, redirect_uri, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"};
constexpr pg::Statement kTakeState{
    "vault_state_take",
    "DELETE FROM vault.authorization_states WHERE state_hash = $1 RETURNING " STATE_COLUMNS};
constexpr pg::Statement kDeleteExpiredStates{
    "vault_state_delete_expired", "DELETE FROM vault.authorization_states WHERE expires_at < $1"};

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(s[i])) return false;
  }
  return true;
}

WrappedDataKey ReadDataKey(pg::RowReader& in) {
  WrappedDataKey k;
  k.tenant_id = in.Str();
  k.kek_version = static_cast<int>(in.Int());
  k.wrapped = in.Bytes();
  k.created_at = in.Time();
  k.rewrapped_at = in.OptTime();
  return k;
}

Credential ReadCredential(pg::RowReader& in) {
  Credential c;
  c.id = in.Str();
  c.tenant_id = in.Str();
  c.server = in.Str();
  c.mode = in.Str() == "oauth" ? AuthMode::kOAuth : AuthMode::kApiKey;
  c.region = in.Str() == "eu" ? Region::kEu : Region::kUs;
  c.actor_email = in.Str();
  c.access = in.Str() == "read_only" ? Access::kReadOnly : Access::kFull;
  c.client_id = in.Str();
  c.scopes = in.List(' ');
  c.flavor = in.Str() == "classic" ? OAuthFlavor::kClassic : OAuthFlavor::kScoped;
  c.secret_sealed = in.Bytes();
  c.secret_hint = in.Str();
  c.version = in.Int();
  c.created_at = in.Time();
  c.rotated_at = in.OptTime();
  return c;
}

UserGrant ReadGrant(pg::RowReader& in) {
  UserGrant g;
  g.id = in.Str();
  g.tenant_id = in.Str();
  g.credential_id = in.Str();
  g.server = in.Str();
  g.user_id = in.Str();
  g.user_email = in.Str();
  g.status = in.Str() == "needs_reauthorization" ? GrantStatus::kNeedsReauthorization
                                                 : GrantStatus::kActive;
  g.access_token_sealed = in.Bytes();
  g.refresh_token_sealed = in.Bytes();
  g.expires_at = in.Time();
  g.scopes = in.List(' ');
  g.version = in.Int();
  g.created_at = in.Time();
  g.updated_at = in.Time();
  return g;
}

AuthorizationState ReadState(pg::RowReader& in) {
  AuthorizationState s;
  s.state_hash = in.Str();
  s.tenant_id = in.Str();
  s.credential_id = in.Str();
  s.user_id = in.Str();
  s.user_email = in.Str();
  s.code_verifier_sealed = in.Bytes();
  s.redirect_uri = in.Str();
  s.created_at = in.Time();
  s.expires_at = in.Time();
  return s;
}

pg::Param OptBytea(const std::string& bytes) {
  return bytes.empty() ? pg::Param(std::nullopt) : pg::Bytea(bytes);
}

}  // namespace

const char* AuthModeName(AuthMode m) { return m == AuthMode::kOAuth ? "oauth" : "api_key"; }
const char* AccessName(Access a) { return a == Access::kReadOnly ? "read_only" : "full"; }
const char* FlavorName(OAuthFlavor f) { return f == OAuthFlavor::kClassic ? "classic" : "scoped"; }
const char* RegionName(Region r) { return r == Region::kEu ? "eu" : "us"; }
const char* GrantStatusName(GrantStatus s) {
  return s == GrantStatus::kNeedsReauthorization ? "needs_reauthorization" : "active";
}

absl::StatusOr<pg::Result> PgVaultStore::Run(const pg::Statement& stmt, const pg::Params& params) {
  return pool_.Execute(stmt, params, timeout_);
}

absl::StatusOr<WrappedDataKey> PgVaultStore::GetDataKey(const std::string& tenant_id) {
  if (!IsUuid(tenant_id)) return absl::NotFoundError("data key not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetDataKey, {tenant_id}));
  return pg::ReadOne<WrappedDataKey>(r, ReadDataKey, "data key");
}

absl::Status PgVaultStore::InsertDataKeyIfAbsent(const WrappedDataKey& k) {
  if (!IsUuid(k.tenant_id)) return absl::InvalidArgumentError("tenant id is not a UUID");
  return Run(kInsertDataKey, {k.tenant_id, k.kek_version, pg::Bytea(k.wrapped), k.created_at})
      .status();
}

absl::StatusOr<std::vector<WrappedDataKey>> PgVaultStore::ListDataKeys() {
  ASSIGN_OR_RETURN(pg::Result r, Run(kListDataKeys, {}));
  return pg::ReadAll<WrappedDataKey>(r, ReadDataKey);
}

absl::StatusOr<bool> PgVaultStore::RewrapDataKey(const std::string& tenant_id, const Rewrap& rewrap) {
  if (!IsUuid(tenant_id)) return absl::NotFoundError("data key not found");
  bool replaced = false;
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(pg::Result r, tx.Execute(kLockDataKey, {tenant_id}));
    ASSIGN_OR_RETURN(WrappedDataKey current, pg::ReadOne<WrappedDataKey>(r, ReadDataKey, "data key"));
    ASSIGN_OR_RETURN(std::optional<WrappedDataKey> next, rewrap(current));
    if (!next.has_value()) return absl::OkStatus();
    const absl::Time at = next->rewrapped_at.value_or(absl::Now());
    RETURN_IF_ERROR(
        tx.Execute(kRewrapDataKey, {tenant_id, next->kek_version, pg::Bytea(next->wrapped), at})
            .status());
    replaced = true;
    return absl::OkStatus();
  }));
  return replaced;
}

absl::Status PgVaultStore::InsertCredential(const Credential& c) {
  return Run(kInsertCredential,
             {c.id, c.tenant_id, c.server, AuthModeName(c.mode), RegionName(c.region),
              c.actor_email, AccessName(c.access), c.client_id, absl::StrJoin(c.scopes, " "),
              FlavorName(c.flavor), pg::Bytea(c.secret_sealed), c.secret_hint,
              static_cast<long long>(c.version), c.created_at})
      .status();
}

absl::StatusOr<Credential> PgVaultStore::GetCredential(const std::string& tenant_id,
                                                       const std::string& server) {
  if (!IsUuid(tenant_id)) return absl::NotFoundError("credential not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetCredential, {tenant_id, server}));
  return pg::ReadOne<Credential>(r, ReadCredential, "credential");
}

absl::StatusOr<Credential> PgVaultStore::GetCredentialById(const std::string& tenant_id,
                                                           const std::string& id) {
  if (!IsUuid(tenant_id) || !IsUuid(id)) return absl::NotFoundError("credential not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetCredentialById, {tenant_id, id}));
  return pg::ReadOne<Credential>(r, ReadCredential, "credential");
}

absl::StatusOr<Credential> PgVaultStore::UpdateCredential(const Credential& c,
                                                          int64_t expected_version,
                                                          bool drop_grants) {
  if (!IsUuid(c.tenant_id) || !IsUuid(c.id)) return absl::NotFoundError("credential not found");
  Credential out;
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(
        pg::Result r,
        tx.Execute(kUpdateCredential,
                   {c.tenant_id, c.id, AuthModeName(c.mode), RegionName(c.region), c.actor_email,
                    AccessName(c.access), c.client_id, absl::StrJoin(c.scopes, " "),
                    FlavorName(c.flavor), pg::Bytea(c.secret_sealed), c.secret_hint,
                    pg::OptTime(c.rotated_at), static_cast<long long>(expected_version)}));
    if (r.rows() == 0) {
      ASSIGN_OR_RETURN(pg::Result exists, tx.Execute(kCredentialExists, {c.tenant_id, c.id}));
      if (exists.rows() == 0) return absl::NotFoundError("credential not found");
      return absl::AbortedError("the credential changed while this request ran; retry");
    }
    ASSIGN_OR_RETURN(out, pg::ReadOne<Credential>(r, ReadCredential, "credential"));
    if (drop_grants) {
      RETURN_IF_ERROR(tx.Execute(kDeleteCredentialGrants, {c.tenant_id, c.id}).status());
      RETURN_IF_ERROR(tx.Execute(kDeleteCredentialStates, {c.tenant_id, c.id}).status());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::pair<int, bool>> PgVaultStore::DeleteTenantSecrets(const std::string& tenant_id) {
  if (!IsUuid(tenant_id)) return std::make_pair(0, false);
  std::pair<int, bool> out{0, false};
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Execute(kDeleteTenantStates, {tenant_id}).status());
    RETURN_IF_ERROR(tx.Execute(kDeleteTenantGrants, {tenant_id}).status());
    ASSIGN_OR_RETURN(pg::Result credentials, tx.Execute(kDeleteTenantCredentials, {tenant_id}));
    RETURN_IF_ERROR(tx.Execute(kDeleteTenantIdpClient, {tenant_id}).status());
    RETURN_IF_ERROR(tx.Execute(kDeleteTenantTokenKeys, {tenant_id}).status());
    ASSIGN_OR_RETURN(pg::Result key, tx.Execute(kDeleteTenantDataKey, {tenant_id}));
    out = {static_cast<int>(credentials.affected_rows()), key.affected_rows() > 0};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int> PgVaultStore::DeleteCredential(const std::string& tenant_id,
                                                   const std::string& credential_id) {
  if (!IsUuid(tenant_id) || !IsUuid(credential_id)) {
    return absl::NotFoundError("credential not found");
  }
  int grants = 0;
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(pg::Result g, tx.Execute(kDeleteCredentialGrants, {tenant_id, credential_id}));
    grants = static_cast<int>(g.GetInt64(0, 0).value_or(0));
    ASSIGN_OR_RETURN(pg::Result d, tx.Execute(kDeleteCredential, {tenant_id, credential_id}));
    if (d.affected_rows() == 0) return absl::NotFoundError("credential not found");
    return absl::OkStatus();
  }));
  return grants;
}

absl::Status PgVaultStore::UpsertGrant(const UserGrant& g) {
  return Run(kUpsertGrant, {g.id, g.tenant_id, g.credential_id, g.user_id, g.user_email,
                            GrantStatusName(g.status), pg::Bytea(g.access_token_sealed),
                            OptBytea(g.refresh_token_sealed), g.expires_at,
                            absl::StrJoin(g.scopes, " "), g.updated_at})
      .status();
}

absl::StatusOr<UserGrant> PgVaultStore::GetGrant(const std::string& tenant_id,
                                                 const std::string& credential_id,
                                                 const std::string& user) {
  if (!IsUuid(tenant_id) || !IsUuid(credential_id)) return absl::NotFoundError("grant not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kGetGrant, {tenant_id, credential_id, user}));
  return pg::ReadOne<UserGrant>(r, ReadGrant, "grant");
}

absl::StatusOr<std::vector<UserGrant>> PgVaultStore::ListGrants(const std::string& tenant_id,
                                                                const std::string& credential_id,
                                                                const std::string& user_id) {
  if (!IsUuid(tenant_id)) return std::vector<UserGrant>{};
  ASSIGN_OR_RETURN(pg::Result r, Run(kListGrants, {tenant_id, credential_id, user_id}));
  return pg::ReadAll<UserGrant>(r, ReadGrant);
}

absl::StatusOr<UserGrant> PgVaultStore::DeleteGrant(const std::string& tenant_id,
                                                    const std::string& credential_id,
                                                    const std::string& user_id) {
  if (!IsUuid(tenant_id) || !IsUuid(credential_id)) return absl::NotFoundError("grant not found");
  ASSIGN_OR_RETURN(pg::Result r, Run(kDeleteGrant, {tenant_id, credential_id, user_id}));
  return pg::ReadOne<UserGrant>(r, ReadGrant, "grant");
}

absl::StatusOr<UserGrant> PgVaultStore::UpdateGrantLocked(const std::string& tenant_id,
                                                          const std::string& grant_id,
                                                          const GrantUpdate& update) {
  if (!IsUuid(tenant_id) || !IsUuid(grant_id)) return absl::NotFoundError("grant not found");
  UserGrant out;
  RETURN_IF_ERROR(pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(pg::Result r, tx.Execute(kLockGrant, {tenant_id, grant_id}));
    ASSIGN_OR_RETURN(UserGrant current, pg::ReadOne<UserGrant>(r, ReadGrant, "grant"));
    ASSIGN_OR_RETURN(std::optional<UserGrant> next, update(current));
    if (!next.has_value()) {
      out = std::move(current);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(
        pg::Result w,
        tx.Execute(kUpdateGrant, {tenant_id, grant_id, next->user_email, GrantStatusName(next->status),
                                  pg::Bytea(next->access_token_sealed),
                                  OptBytea(next->refresh_token_sealed), next->expires_at,
                                  absl::StrJoin(next->scopes, " "), next->updated_at}));
    ASSIGN_OR_RETURN(out, pg::ReadOne<UserGrant>(w, ReadGrant, "grant"));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgVaultStore::InsertAuthorizationState(const AuthorizationState& s) {
  return Run(kInsertState, {s.state_hash, s.tenant_id, s.credential_id, s.user_id, s.user_email,
                            pg::Bytea(s.code_verifier_sealed), s.redirect_uri, s.created_at,
                            s.expires_at})
      .status();
}

absl::StatusOr<AuthorizationState> PgVaultStore::TakeAuthorizationState(const std::string& state_hash) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kTakeState, {state_hash}));
  return pg::ReadOne<AuthorizationState>(r, ReadState, "authorization state");
}

absl::StatusOr<int> PgVaultStore::DeleteExpiredAuthorizationStates(absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r, Run(kDeleteExpiredStates, {now}));
  return static_cast<int>(r.affected_rows());
}

}  // namespace bastion::vault
