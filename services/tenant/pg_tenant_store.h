// TenantStore on Postgres (schema `tenant`). Every statement is a named constant.
#pragma once

#include "common/pg/pool.h"
#include "services/tenant/tenant_store.h"

namespace bastion::tenant {

class PgTenantStore : public TenantStore {
 public:
  explicit PgTenantStore(pg::Pool& pool, absl::Duration timeout = absl::Seconds(5))
      : pool_(pool), timeout_(timeout) {}

  absl::Status CreateTenant(const Tenant& tenant) override;
  absl::StatusOr<Tenant> GetTenantById(const std::string& id) override;
  absl::StatusOr<Tenant> GetTenantBySlug(const std::string& slug) override;
  absl::StatusOr<std::vector<Tenant>> ListTenants(const std::string& after_slug, int limit) override;
  absl::Status DeleteTenant(const std::string& id) override;
  absl::StatusOr<Tenant> UpdateTenant(const Tenant& tenant, absl::Time now) override;

  absl::StatusOr<std::vector<CatalogEntry>> ListCatalog(const std::string& tenant_id) override;
  absl::Status SetCatalogEnabled(const std::string& tenant_id, const std::string& key,
                                 bool enabled) override;

  absl::Status CreateUser(const User& user) override;
  absl::StatusOr<User> GetUserById(const std::string& tenant_id, const std::string& id) override;
  absl::StatusOr<User> GetUserByEmail(const std::string& tenant_id, const std::string& email) override;
  absl::StatusOr<std::vector<User>> ListUsers(const std::string& tenant_id,
                                              const std::string& after_email, int limit) override;
  absl::Status SetUserDisabled(const std::string& tenant_id, const std::string& user_id,
                               bool disabled) override;

  absl::Status CreateGroup(const Group& group) override;
  absl::StatusOr<Group> GetGroupById(const std::string& tenant_id, const std::string& id) override;
  absl::StatusOr<Group> GetGroupByName(const std::string& tenant_id, const std::string& name) override;
  absl::StatusOr<std::vector<Group>> ListGroups(const std::string& tenant_id) override;
  absl::Status AddGroupMember(const std::string& tenant_id, const std::string& group_id,
                              const std::string& user_id) override;
  absl::Status RemoveGroupMember(const std::string& tenant_id, const std::string& group_id,
                                 const std::string& user_id) override;

  absl::Status CreateToken(const ClientToken& token, const std::string& token_hash) override;
  absl::StatusOr<TokenLookup> FindTokenByHash(const std::string& token_hash) override;
  absl::StatusOr<std::vector<ClientToken>> ListTokens(const std::string& tenant_id,
                                                      const std::string& user_id) override;
  absl::StatusOr<ClientToken> RevokeToken(const std::string& tenant_id, const std::string& token_id,
                                          absl::Time now) override;
  absl::Status TouchTokens(const absl::flat_hash_map<std::string, absl::Time>& last_used) override;
  absl::Status EndSession(const std::string& session_hash, absl::Time expires_at, absl::Time now) override;
  absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(int64_t after_seq, int limit,
                                                              absl::Time now) override;
  absl::Status AddRevocation(const Revocation& revocation, absl::Time now) override;
  absl::StatusOr<std::vector<Revocation>> ListRevocations(int64_t after_seq, int limit,
                                                          absl::Time now) override;

 private:
  absl::StatusOr<pg::Result> Run(const pg::Statement& stmt, const pg::Params& params);

  pg::Pool& pool_;
  absl::Duration timeout_;
};

// Database names of the enums, shared with tests.
const char* ToolStateName(ToolState s);
const char* ClientTypeDbName(ClientType t);
const char* RoleName(Role r);

}  // namespace bastion::tenant
