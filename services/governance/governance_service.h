// The governance service's logic: servers and discovery, tool review, toolsets, access
// profiles, decisions from per-tenant policy snapshots, policy watches, and the audit log.
// Storage, time, the tenant service, the tool catalog and the vault come in as interfaces; the
// gRPC adapter (governance_grpc.h) maps protos and statuses.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/caller.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/governance/audit_chain.h"
#include "services/governance/credential_info.h"
#include "services/governance/governance_store.h"
#include "services/governance/governance_types.h"
#include "services/governance/policy_cache.h"
#include "services/governance/policy_snapshot.h"
#include "services/governance/tool_source.h"
#include "services/tenant/client/tenant_client.h"

namespace bastion::governance {

struct ServerSpec {
  std::string name;
  ServerType type = ServerType::kPagerDuty;
  Region region = Region::kUs;
  AuthMode auth_mode = AuthMode::kApiKey;
  ToolPolicy tool_policy = ToolPolicy::kTenantDefault;
};

struct ServerUpdate {
  std::optional<Region> region;
  std::optional<AuthMode> auth_mode;
  std::optional<ToolPolicy> tool_policy;
  std::optional<bool> enabled;
};

struct SyncSummary {
  std::vector<std::string> new_names;
  std::vector<std::string> changed_names;
  std::vector<std::string> removed_names;
  int unchanged = 0;
  int64_t policy_version = 0;
};

struct Registration {
  Server server;
  SyncSummary discovery;
};

struct ServerDeletion {
  int tools_deleted = 0;
  std::vector<std::string> toolsets_deleted;
};

struct ToolView {
  Tool tool;
  CredentialFit credential;
};

struct ToolStateChange {
  std::vector<Tool> tools;
  int64_t policy_version = 0;
};

struct ToolsetSpec {
  std::string name;
  std::string description;
  std::string server;
  std::vector<std::string> tools;
};

struct ToolsetUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> tools;
};

struct ToolsetView {
  Toolset toolset;
  std::string server_name;  // empty for built-ins
  bool builtin = false;
};

struct ProfileSpec {
  std::string name;
  std::string description;
  std::vector<std::string> toolsets;  // names or ids
  std::vector<std::string> members;   // "user:<email|id>" or "group:<name|id>"
  std::optional<absl::Time> expires_at;
};

struct ProfileUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> toolsets;
  std::optional<std::vector<std::string>> members;
  // Set: the new expiry (nullopt inside clears it).
  std::optional<std::optional<absl::Time>> expires_at;
};

struct ProfileView {
  AccessProfile profile;
  std::vector<std::string> toolset_names;
  bool expired = false;
};

struct AuthorizeInput {
  std::string tenant;
  std::string user_id;
  std::vector<std::string> group_ids;
  std::string server;
  std::string tool;
};

struct PolicyWatch {
  std::string tenant_id;
  int64_t version = 0;  // the version when the watch started
  int64_t watch_id = 0;
};

// A tool call as the edge reports it; `tenant` is an id or slug.
struct ToolCallRecord {
  std::string tenant;
  AuditEvent event;
};

struct AuditPage {
  std::vector<AuditEvent> events;
  std::string next_page_token;
};

struct GovernanceOptions {
  // How long tenant state and credential metadata are reused by the decision path.
  absl::Duration facts_ttl = absl::Seconds(2);
  // Optional: decision and audit counters are registered here.
  metrics::Registry* registry = nullptr;
  // How long a deleted tenant's audit log is kept (--audit_retention_days).
  absl::Duration audit_retention = absl::Hours(24 * 365);
};

class GovernanceService {
 public:
  GovernanceService(GovernanceStore& store, const Clock& clock, tenant::TenantClient& tenants,
                    ToolSource& tools, CredentialInfoSource& credentials,
                    GovernanceOptions options = {});

  using Caller = auth::Caller;

  absl::StatusOr<Registration> RegisterServer(const Caller& caller, const std::string& tenant,
                                              const ServerSpec& spec);
  absl::StatusOr<Server> GetServer(const Caller& caller, const std::string& tenant,
                                   const std::string& server);
  absl::StatusOr<std::vector<Server>> ListServers(const Caller& caller, const std::string& tenant);
  absl::StatusOr<Server> UpdateServer(const Caller& caller, const std::string& tenant,
                                      const std::string& server, const ServerUpdate& update);
  absl::StatusOr<ServerDeletion> DeleteServer(const Caller& caller, const std::string& tenant,
                                              const std::string& server);
  absl::StatusOr<SyncSummary> SyncTools(const Caller& caller, const std::string& tenant,
                                        const std::string& server);

  // `state` unset: every tool.
  absl::StatusOr<std::vector<ToolView>> ListTools(const Caller& caller, const std::string& tenant,
                                                  const std::string& server,
                                                  std::optional<ToolState> state);
  // All named tools or none: an unknown or removed tool fails the whole request.
  absl::StatusOr<ToolStateChange> SetToolState(const Caller& caller, const std::string& tenant,
                                               const std::string& server,
                                               const std::vector<std::string>& tools,
                                               ToolState state);
  absl::StatusOr<Tool> SetToolKillSwitch(const Caller& caller, const std::string& tenant,
                                         const std::string& server, const std::string& tool,
                                         bool on);

  absl::StatusOr<ToolsetView> CreateToolset(const Caller& caller, const std::string& tenant,
                                            const ToolsetSpec& spec);
  absl::StatusOr<ToolsetView> UpdateToolset(const Caller& caller, const std::string& tenant,
                                            const std::string& toolset,
                                            const ToolsetUpdate& update);
  // Returns the names of the profiles that granted the toolset.
  absl::StatusOr<std::vector<std::string>> DeleteToolset(const Caller& caller,
                                                         const std::string& tenant,
                                                         const std::string& toolset);
  absl::StatusOr<std::vector<ToolsetView>> ListToolsets(const Caller& caller,
                                                        const std::string& tenant);

  absl::StatusOr<ProfileView> CreateAccessProfile(const Caller& caller, const std::string& tenant,
                                                  const ProfileSpec& spec);
  absl::StatusOr<ProfileView> UpdateAccessProfile(const Caller& caller, const std::string& tenant,
                                                  const std::string& profile,
                                                  const ProfileUpdate& update);
  absl::Status DeleteAccessProfile(const Caller& caller, const std::string& tenant,
                                   const std::string& profile);
  absl::StatusOr<std::vector<ProfileView>> ListAccessProfiles(const Caller& caller,
                                                              const std::string& tenant);

  // The decision path: no database round trip while the tenant's snapshot is current.
  absl::StatusOr<DecisionResult> Authorize(const Caller& caller, const AuthorizeInput& in);
  absl::StatusOr<AllowedTools> ListAllowedTools(const Caller& caller, const std::string& tenant,
                                                const std::string& user_id,
                                                const std::vector<std::string>& group_ids,
                                                const std::string& server);

  // Starts watching the tenant's policy version; `on_version` follows PolicyCache::Watcher's
  // rules. End it with Unwatch.
  absl::StatusOr<PolicyWatch> WatchPolicy(const Caller& caller, const std::string& tenant,
                                          PolicyCache::Watcher on_version);
  void Unwatch(int64_t watch_id);
  // A committed policy version heard from Postgres (any replica's change).
  void OnPolicyVersion(const std::string& tenant_id, int64_t version);
  // After notifications may have been missed: re-read the versions of every tenant in use.
  void ResyncPolicyVersions();

  absl::StatusOr<AppendResult> RecordToolCalls(const Caller& caller,
                                               std::vector<ToolCallRecord> records);
  absl::StatusOr<AuditPage> QueryAudit(const Caller& caller, const std::string& tenant,
                                       const AuditFilter& filter, int page_size,
                                       const std::string& page_token);
  // Calls `sink` with chunks of JSON lines, oldest first; stops at the first error it returns.
  absl::Status ExportAudit(const Caller& caller, const std::string& tenant,
                           const AuditFilter& filter,
                           const std::function<absl::Status(std::string jsonl)>& sink);
  absl::StatusOr<ChainCheck> VerifyAuditChain(const Caller& caller, const std::string& tenant);
  absl::StatusOr<std::pair<std::string, AuditSettings>> GetAuditSettings(const Caller& caller,
                                                                         const std::string& tenant);
  absl::StatusOr<std::pair<std::string, AuditSettings>> UpdateAuditSettings(
      const Caller& caller, const std::string& tenant, const AuditSettings& settings);

  struct TenantPolicyDeletion {
    int servers_deleted = 0;
    int profiles_deleted = 0;
    absl::Time audit_kept_until;
  };
  // Operator only, for a deactivated tenant being deleted: drops its servers (with their tools
  // and toolsets) and access profiles in one policy change, recorded as "tenant.delete" in its
  // audit chain with the date until which the chain is kept. Safe to run again.
  absl::StatusOr<TenantPolicyDeletion> DeleteTenantPolicy(const Caller& caller, const std::string& tenant);

  PolicyCache& cache() { return cache_; }

 private:
  // Computes a change from the tenant's current policy; may run more than once.
  using Planner = std::function<absl::Status(const PolicyData& policy, PolicyChange& change)>;

  absl::StatusOr<TenantFacts> FetchFacts(const std::string& ref);
  // The tenant `ref` if the caller may administer it; otherwise the same NotFound an unknown
  // tenant gets.
  absl::StatusOr<TenantFacts> TenantForAdmin(const Caller& caller, const std::string& ref);
  // Loads the policy, plans, applies; retries when another change committed in between.
  absl::StatusOr<int64_t> Mutate(const Caller& caller, const TenantFacts& tenant,
                                 const Planner& plan);
  absl::StatusOr<std::vector<Member>> ResolveMembers(const std::string& tenant_id,
                                                     const std::vector<std::string>& refs);
  ProfileView ViewOf(const PolicyData& policy, const AccessProfile& profile) const;
  void CountDecision(const DecisionResult& d);

  GovernanceStore& store_;
  const Clock& clock_;
  tenant::TenantClient& tenants_;
  ToolSource& tools_;
  CredentialInfoSource& credentials_;
  PolicyCache cache_;

  const absl::Duration audit_retention_;
  // Looked up once: label maps cost more than a decision.
  metrics::Counter* decisions_[10] = {};
  metrics::Counter* audit_recorded_ = nullptr;
  metrics::Counter* audit_duplicates_ = nullptr;
};

// Validation shared with bastionctl: a clear message for each rule.
// Servers, toolsets and profiles: 1-63 lowercase letters, digits, '-' or '_', starting with a
// letter or digit.
absl::Status ValidateName(const char* what, const std::string& name);

// Plans a discovery run: the tool rows to write and the counts. Pure; exposed for tests.
struct SyncPlan {
  std::vector<Tool> upserts;
  SyncSummary summary;
};
absl::StatusOr<SyncPlan> PlanSync(const Server& server, const std::vector<Tool>& existing,
                                  const std::vector<DiscoveredTool>& discovered,
                                  const TenantFacts& tenant, absl::Time now);

}  // namespace bastion::governance
