// The tenant service's logic: who may do what, validation, activation, tokens. Storage and
// time come in as interfaces; the gRPC adapter (tenant_grpc.h) maps protos and statuses.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/time/clock.h"
#include "services/tenant/tenant_store.h"
#include "services/tenant/tenant_types.h"

namespace bastion::tenant {

inline constexpr char kClientTokenPrefix[] = "bst_";

struct IssuedToken {
  ClientToken token;
  std::string secret;  // returned once, never stored
};

struct TenantPage {
  std::vector<Tenant> tenants;
  std::string next_page_token;
};

struct UserPage {
  std::vector<User> users;
  std::string next_page_token;
};

class TenantService {
 public:
  TenantService(TenantStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  absl::StatusOr<Tenant> CreateTenant(const Caller& caller, const std::string& slug,
                                      const std::string& display_name);
  absl::StatusOr<Tenant> GetTenant(const Caller& caller, const std::string& tenant);
  absl::StatusOr<TenantPage> ListTenants(const Caller& caller, int page_size,
                                         const std::string& page_token);
  absl::StatusOr<Tenant> UpdateTenantSettings(const Caller& caller, const std::string& tenant,
                                              const Settings& settings,
                                              const std::string& display_name);
  absl::StatusOr<Tenant> SetAiAccess(const Caller& caller, const std::string& tenant, bool active);
  absl::StatusOr<Tenant> SetKillSwitch(const Caller& caller, const std::string& tenant, bool on);
  absl::StatusOr<AccessCheck> CheckAccess(const Caller& caller, const std::string& tenant);
  // Operator only; the tenant's AI access must be deactivated first. Returns it as it was.
  absl::StatusOr<Tenant> DeleteTenant(const Caller& caller, const std::string& tenant);

  absl::StatusOr<std::vector<CatalogEntry>> ListCatalog(const Caller& caller,
                                                        const std::string& tenant);
  absl::StatusOr<CatalogEntry> SetCatalogEntry(const Caller& caller, const std::string& tenant,
                                               const std::string& key, bool enabled);

  absl::StatusOr<User> CreateUser(const Caller& caller, const std::string& tenant,
                                  const std::string& email, const std::string& display_name,
                                  Role role);
  absl::StatusOr<User> GetUser(const Caller& caller, const std::string& tenant,
                               const std::string& user);
  absl::StatusOr<UserPage> ListUsers(const Caller& caller, const std::string& tenant,
                                     int page_size, const std::string& page_token);
  absl::StatusOr<User> DisableUser(const Caller& caller, const std::string& tenant,
                                   const std::string& user);

  absl::StatusOr<Group> CreateGroup(const Caller& caller, const std::string& tenant,
                                    const std::string& name);
  absl::StatusOr<Group> SetGroupMember(const Caller& caller, const std::string& tenant,
                                       const std::string& group, const std::string& user,
                                       bool member);
  absl::StatusOr<std::vector<Group>> ListGroups(const Caller& caller, const std::string& tenant);

  absl::StatusOr<IssuedToken> IssueClientToken(const Caller& caller, const std::string& tenant,
                                               const std::string& user, ClientType type,
                                               const std::string& name,
                                               std::optional<absl::Time> expires_at);
  absl::StatusOr<std::vector<ClientToken>> ListClientTokens(const Caller& caller,
                                                            const std::string& tenant,
                                                            const std::string& user);
  absl::StatusOr<ClientToken> RevokeClientToken(const Caller& caller, const std::string& tenant,
                                                const std::string& token_id);

  // For services (the edge) and for resolving callers: one indexed lookup, no write.
  absl::StatusOr<Identity> Authenticate(const Caller& caller, const std::string& token);
  // Resolves an admin RPC's bearer token to a caller without the service check.
  absl::StatusOr<Caller> CallerForToken(const std::string& token);

  // MCP sessions ended on an edge replica; only the edge may call these.
  absl::Status EndSession(const Caller& caller, const std::string& session_hash, absl::Time expires_at);
  absl::StatusOr<std::vector<EndedSession>> ListEndedSessions(const Caller& caller, int64_t after_seq,
                                                              int limit);

  // Writes the last-used times gathered since the previous flush, in one batch.
  absl::Status FlushLastUsed();

 private:
  // The tenant `ref` (id or slug) if the caller may administer it; otherwise NotFound with the
  // same words whether or not it exists.
  absl::StatusOr<Tenant> TenantForAdmin(const Caller& caller, const std::string& ref);
  absl::StatusOr<Tenant> ResolveTenant(const std::string& ref);
  absl::StatusOr<User> ResolveUser(const std::string& tenant_id, const std::string& ref);
  absl::StatusOr<Group> ResolveGroup(const std::string& tenant_id, const std::string& ref);
  absl::StatusOr<Identity> Lookup(const std::string& token, bool record_use);

  TenantStore& store_;
  const Clock& clock_;
  absl::Mutex touch_mu_;
  absl::flat_hash_map<std::string, absl::Time> pending_touches_ ABSL_GUARDED_BY(touch_mu_);
};

// Validation shared with bastionctl: a clear message for each rule.
absl::Status ValidateSlug(const std::string& slug);
absl::Status ValidateEmail(const std::string& email);

}  // namespace bastion::tenant
