#include "services/vault/pg_idp_store.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "common/pg/row_reader.h"
#include "common/status/status_macros.h"

namespace bastion::vault {
namespace {

#define IDP_CLIENT_COLUMNS                                                                   \
  "tenant_id::text, issuer, client_id, client_secret_sealed, client_secret_hint, scopes, "    \
  "created_at, updated_at, last_tested_at"
#define SIGN_IN_COLUMNS                                                                      \
  "state_hash, tenant_id::text, issuer, client_id, redirect_uri, context, "                   \
  "code_verifier_sealed, nonce_sealed, created_at, expires_at"
#define TOKEN_KEY_COLUMNS \
  "tenant_id::text, kid, private_key_sealed, public_jwk, created_at, retired_at"

constexpr pg::Statement kUpsertIdpClient{
    "vault_idp_client_upsert",
    "INSERT INTO vault.idp_clients (tenant_id, issuer, client_id, client_secret_sealed, "
    "client_secret_hint, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
    "ON CONFLICT (tenant_id) DO UPDATE SET issuer = EXCLUDED.issuer, "
    "client_id = EXCLUDED.client_id, client_secret_sealed = EXCLUDED.client_secret_sealed, "
    "client_secret_hint = EXCLUDED.client_secret_hint, scopes = EXCLUDED.scopes, "
    "updated_at = EXCLUDED.updated_at, last_tested_at = NULL"};
constexpr pg::Statement kGetIdpClient{
    "vault_idp_client_get", "SELECT " IDP_CLIENT_COLUMNS " FROM vault.idp_clients WHERE tenant_id = $1"};
constexpr pg::Statement kDeleteIdpClient{
    "vault_idp_client_delete",
    "DELETE FROM vault.idp_clients WHERE tenant_id = $1 RETURNING " IDP_CLIENT_COLUMNS};
constexpr pg::Statement kSetIdpClientTested{
    "vault_idp_client_tested", "UPDATE vault.idp_clients SET last_tested_at = $2 WHERE tenant_id = $1"};

constexpr pg::Statement kInsertSignIn{
    "vault_idp_sign_in_insert",
    "INSERT INTO vault.idp_sign_ins (state_hash, tenant_id, issuer, client_id, redirect_uri, "
    "context, code_verifier_sealed, nonce_sealed, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"};
constexpr pg::Statement kTakeSignIn{
    "vault_idp_sign_in_take",
    "DELETE FROM vault.idp_sign_ins WHERE state_hash = $1 RETURNING " SIGN_IN_COLUMNS};
constexpr pg::Statement kDeleteExpiredSignIns{
    "vault_idp_sign_in_delete_expired", "DELETE FROM vault.idp_sign_ins WHERE expires_at < $1"};

constexpr pg::Statement kListTokenKeys{
    "vault_token_key_list",
    "SELECT " TOKEN_KEY_COLUMNS " FROM vault.token_keys WHERE tenant_id = $1 "
    "ORDER BY retired_at IS NOT NULL, created_at DESC, kid"};
constexpr pg::Statement kInsertTokenKeyIfNoCurrent{
    "vault_token_key_insert_first",
    "INSERT INTO vault.token_keys (tenant_id, kid, private_key_sealed, public_jwk, created_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) WHERE retired_at IS NULL DO NOTHING"};
constexpr pg::Statement kLockTenantKeys{
    "vault_token_key_lock",
    "SELECT kid FROM vault.token_keys WHERE tenant_id = $1 FOR UPDATE"};
constexpr pg::Statement kRetireTokenKey{
    "vault_token_key_retire",
    "UPDATE vault.token_keys SET retired_at = $2 WHERE tenant_id = $1 AND retired_at IS NULL"};
constexpr pg::Statement kInsertTokenKey{
    "vault_token_key_insert",
    "INSERT INTO vault.token_keys (tenant_id, kid, private_key_sealed, public_jwk, created_at) "
    "VALUES ($1, $2, $3, $4, $5)"};
constexpr pg::Statement kForgetTokenKeys{
    "vault_token_key_forget",
    "DELETE FROM vault.token_keys WHERE tenant_id = $1 AND retired_at < $2"};

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(s[i])) return false;
  }
  return true;
}

IdpClient ReadIdpClient(pg::RowReader& in) {
  IdpClient c;
  c.tenant_id = in.Str();
  c.issuer = in.Str();
  c.client_id = in.Str();
  c.client_secret_sealed = in.Bytes();
  c.client_secret_hint = in.Str();
  c.scopes = in.List(' ');
  c.created_at = in.Time();
  c.updated_at = in.Time();
  c.last_tested_at = in.OptTime();
  return c;
}

IdpSignIn ReadSignIn(pg::RowReader& in) {
  IdpSignIn s;
  s.state_hash = in.Str();
  s.tenant_id = in.Str();
  s.issuer = in.Str();
  s.client_id = in.Str();
  s.redirect_uri = in.Str();
  s.context = in.Str();
  s.code_verifier_sealed = in.Bytes();
  s.nonce_sealed = in.Bytes();
  s.created_at = in.Time();
  s.expires_at = in.Time();
  return s;
}

TokenKey ReadTokenKey(pg::RowReader& in) {
  TokenKey k;
  k.tenant_id = in.Str();
  k.kid = in.Str();
  k.private_key_sealed = in.Bytes();
  k.public_jwk = in.Str();
  k.created_at = in.Time();
  k.retired_at = in.OptTime();
  return k;
}

absl::Status NotFound() { return absl::NotFoundError("identity provider client not found"); }

}  // namespace

absl::Status PgIdpStore::UpsertIdpClient(const IdpClient& c) {
  if (!IsUuid(c.tenant_id)) return absl::InvalidArgumentError("tenant id is not a UUID");
  pg::Param secret = c.client_secret_sealed.empty() ? pg::Param(std::nullopt)
                                                    : pg::Bytea(c.client_secret_sealed);
  return pool_
      .Execute(kUpsertIdpClient,
               {c.tenant_id, c.issuer, c.client_id, std::move(secret), c.client_secret_hint,
                absl::StrJoin(c.scopes, " "), c.updated_at},
               timeout_)
      .status();
}

absl::StatusOr<IdpClient> PgIdpStore::GetIdpClient(const std::string& tenant_id) {
  if (!IsUuid(tenant_id)) return NotFound();
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kGetIdpClient, {tenant_id}, timeout_));
  return pg::ReadOne<IdpClient>(r, ReadIdpClient, "identity provider client");
}

absl::StatusOr<IdpClient> PgIdpStore::DeleteIdpClient(const std::string& tenant_id) {
  if (!IsUuid(tenant_id)) return NotFound();
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kDeleteIdpClient, {tenant_id}, timeout_));
  return pg::ReadOne<IdpClient>(r, ReadIdpClient, "identity provider client");
}

absl::Status PgIdpStore::SetIdpClientTested(const std::string& tenant_id, absl::Time at) {
  if (!IsUuid(tenant_id)) return NotFound();
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kSetIdpClientTested, {tenant_id, at}, timeout_));
  if (r.affected_rows() == 0) return NotFound();
  return absl::OkStatus();
}

absl::Status PgIdpStore::InsertIdpSignIn(const IdpSignIn& s) {
  if (!IsUuid(s.tenant_id)) return absl::InvalidArgumentError("tenant id is not a UUID");
  return pool_
      .Execute(kInsertSignIn,
               {s.state_hash, s.tenant_id, s.issuer, s.client_id, s.redirect_uri, s.context,
                pg::Bytea(s.code_verifier_sealed), pg::Bytea(s.nonce_sealed), s.created_at,
                s.expires_at},
               timeout_)
      .status();
}

absl::StatusOr<IdpSignIn> PgIdpStore::TakeIdpSignIn(const std::string& state_hash) {
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kTakeSignIn, {state_hash}, timeout_));
  return pg::ReadOne<IdpSignIn>(r, ReadSignIn, "sign-in");
}

absl::StatusOr<int> PgIdpStore::DeleteExpiredIdpSignIns(absl::Time now) {
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kDeleteExpiredSignIns, {now}, timeout_));
  return static_cast<int>(r.affected_rows());
}

absl::StatusOr<std::vector<TokenKey>> PgIdpStore::ListTokenKeys(const std::string& tenant_id) {
  if (!IsUuid(tenant_id)) return std::vector<TokenKey>{};
  ASSIGN_OR_RETURN(pg::Result r, pool_.Execute(kListTokenKeys, {tenant_id}, timeout_));
  return pg::ReadAll<TokenKey>(r, ReadTokenKey);
}

absl::Status PgIdpStore::InsertTokenKeyIfNoCurrent(const TokenKey& k) {
  if (!IsUuid(k.tenant_id)) return absl::InvalidArgumentError("tenant id is not a UUID");
  return pool_
      .Execute(kInsertTokenKeyIfNoCurrent,
               {k.tenant_id, k.kid, pg::Bytea(k.private_key_sealed), k.public_jwk, k.created_at},
               timeout_)
      .status();
}

absl::Status PgIdpStore::RotateTokenKey(const TokenKey& k, absl::Time forget_retired_before) {
  if (!IsUuid(k.tenant_id)) return absl::InvalidArgumentError("tenant id is not a UUID");
  return pool_.InTransaction(timeout_, [&](pg::Tx& tx) -> absl::Status {
    // Concurrent rotations of one tenant take turns, so exactly one key ends up current.
    RETURN_IF_ERROR(tx.Execute(kLockTenantKeys, {k.tenant_id}).status());
    RETURN_IF_ERROR(tx.Execute(kRetireTokenKey, {k.tenant_id, k.created_at}).status());
    RETURN_IF_ERROR(tx.Execute(kInsertTokenKey, {k.tenant_id, k.kid, pg::Bytea(k.private_key_sealed),
                                                 k.public_jwk, k.created_at})
                        .status());
    return tx.Execute(kForgetTokenKeys, {k.tenant_id, forget_retired_before}).status();
  });
}

}  // namespace bastion::vault
