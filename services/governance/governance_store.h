// Storage interface of the governance service. Policy is read whole per tenant and written as
// one change set per admin action, in one transaction that also bumps the tenant's policy
// version and appends the action's audit event. Implementations: PgGovernanceStore and, for
// logic tests, testing/fake_governance_store.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/governance/governance_types.h"

namespace bastion::governance {

// One admin action's writes. Upserts replace whole rows (a toolset's tools, a profile's
// toolsets and members included).
struct PolicyChange {
  std::string tenant_id;
  // The version the change was computed from: Aborted when the tenant's version moved on
  // meanwhile, so a concurrent change is never overwritten. Callers re-read and retry.
  int64_t expected_version = 0;
  std::vector<Server> upsert_servers;
  std::vector<std::string> delete_server_ids;
  std::vector<Tool> upsert_tools;
  std::vector<Toolset> upsert_toolsets;
  std::vector<std::string> delete_toolset_ids;
  std::vector<AccessProfile> upsert_profiles;
  std::vector<std::string> delete_profile_ids;
  std::optional<AuditSettings> audit_settings;
  // Appended to the tenant's audit chain in the same transaction.
  AuditEvent audit;
};

enum class AuditOrder { kNewestFirst, kOldestFirst };

class GovernanceStore {
 public:
  virtual ~GovernanceStore() = default;

  // The tenant's whole policy at one version (version 0 and nothing else for a new tenant).
  virtual absl::StatusOr<PolicyData> LoadPolicy(const std::string& tenant_id) = 0;
  // The tenant's current policy version; 0 when nothing was ever written.
  virtual absl::StatusOr<int64_t> PolicyVersion(const std::string& tenant_id) = 0;
  // Applies `change` and returns the new version. Aborted on a version mismatch;
  // AlreadyExists when a server, toolset or profile name is taken in the tenant.
  virtual absl::StatusOr<int64_t> ApplyChange(const PolicyChange& change) = 0;

  // Appends events (all of `tenant_id`) to the tenant's chain in order, skipping event ids
  // already stored (and repeats within the batch).
  virtual absl::StatusOr<AppendResult> AppendAudit(const std::string& tenant_id,
                                                   const std::vector<AuditEvent>& events) = 0;
  // Events matching `filter`, strictly after `after_seq` in the given order (for newest first,
  // after_seq 0 means from the newest), at most `limit`.
  virtual absl::StatusOr<std::vector<AuditEvent>> QueryAudit(const std::string& tenant_id,
                                                             const AuditFilter& filter,
                                                             AuditOrder order, int64_t after_seq,
                                                             int limit) = 0;
  // Stored events with seq > after_seq in seq order, as stored (for verification).
  virtual absl::StatusOr<std::vector<AuditEvent>> ReadAuditChain(const std::string& tenant_id,
                                                                 int64_t after_seq, int limit) = 0;
  virtual absl::StatusOr<AuditHead> GetAuditHead(const std::string& tenant_id) = 0;
};

}  // namespace bastion::governance
