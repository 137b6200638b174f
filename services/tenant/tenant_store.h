// Storage interface of the tenant service. Every tenant-owned read and write names the tenant.
// Implementations: PgTenantStore (Postgres) and, for logic tests, testing/fake_tenant_store.h.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/tenant/tenant_types.h"

namespace bastion::tenant {

class TenantStore {
 public:
  virtual ~TenantStore() = default;

  // AlreadyExists when the slug is taken.
  virtual absl::Status CreateTenant(const Tenant& tenant) = 0;
  virtual absl::StatusOr<Tenant> GetTenantById(const std::string& id) = 0;
  virtual absl::StatusOr<Tenant> GetTenantBySlug(const std::string& slug) = 0;
  // Tenants ordered by slug, after `after_slug`, at most `limit`.
  virtual absl::StatusOr<std::vector<Tenant>> ListTenants(const std::string& after_slug,
                                                          int limit) = 0;
  // Deletes the tenant with its users, groups, catalog choices and tokens. NotFound when gone.
  virtual absl::Status DeleteTenant(const std::string& id) = 0;
  // Writes display name, settings, active and kill switch; bumps the version. Returns the row.
  virtual absl::StatusOr<Tenant> UpdateTenant(const Tenant& tenant, absl::Time now) = 0;

  virtual absl::StatusOr<std::vector<CatalogEntry>> ListCatalog(const std::string& tenant_id) = 0;
  // NotFound for an unknown key.
  virtual absl::Status SetCatalogEnabled(const std::string& tenant_id, const std::string& key,
                                         bool enabled) = 0;

  // AlreadyExists when the email is taken in the tenant.
  virtual absl::Status CreateUser(const User& user) = 0;
  virtual absl::StatusOr<User> GetUserById(const std::string& tenant_id, const std::string& id) = 0;
  virtual absl::StatusOr<User> GetUserByEmail(const std::string& tenant_id,
                                              const std::string& email) = 0;
  virtual absl::StatusOr<std::vector<User>> ListUsers(const std::string& tenant_id,
                                                      const std::string& after_email, int limit) = 0;
  virtual absl::Status SetUserDisabled(const std::string& tenant_id, const std::string& user_id,
                                       bool disabled) = 0;

  virtual absl::Status CreateGroup(const Group& group) = 0;
  virtual absl::StatusOr<Group> GetGroupById(const std::string& tenant_id, const std::string& id) = 0;
  virtual absl::StatusOr<Group> GetGroupByName(const std::string& tenant_id,
                                               const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<Group>> ListGroups(const std::string& tenant_id) = 0;
  virtual absl::Status AddGroupMember(const std::string& tenant_id, const std::string& group_id,
                                      const std::string& user_id) = 0;
  virtual absl::Status RemoveGroupMember(const std::string& tenant_id, const std::string& group_id,
                                         const std::string& user_id) = 0;

  virtual absl::Status CreateToken(const ClientToken& token, const std::string& token_hash) = 0;
  // The token with its user (and the user's groups) and tenant; NotFound when no token has it.
  virtual absl::StatusOr<TokenLookup> FindTokenByHash(const std::string& token_hash) = 0;
  virtual absl::StatusOr<std::vector<ClientToken>> ListTokens(const std::string& tenant_id,
                                                              const std::string& user_id) = 0;
  virtual absl::StatusOr<ClientToken> RevokeToken(const std::string& tenant_id,
                                                  const std::string& token_id, absl::Time now) = 0;
  // Records last-used times in one batch (token id -> time).
  virtual absl::Status TouchTokens(const absl::flat_hash_map<std::string, absl::Time>& last_used) = 0;

  // Records an ended MCP session (idempotent) and drops records past their expiry.
  virtual absl::Status EndSession(const std::string& session_hash, absl::Time expires_at, absl::Time now) = 0;
  // Unexpired ended sessions with seq > after_seq, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(int64_t after_seq, int limit,
                                                                      absl::Time now) = 0;

  // Adds an entry to the revocation feed (docs/signin.md) and drops entries past their expiry.
  virtual absl::Status AddRevocation(const Revocation& revocation, absl::Time now) = 0;
  // Unexpired revocations with seq > after_seq, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<Revocation>> ListRevocations(int64_t after_seq, int limit,
                                                                  absl::Time now) = 0;
};

}  // namespace bastion::tenant
