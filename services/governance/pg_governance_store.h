// GovernanceStore on Postgres (schema `governance`). Every statement is a named constant.
// ApplyChange also bumps the tenant's row in governance.policy_versions and sends
// NOTIFY governance_policy '<tenant id>:<version>' in the same transaction, which is how other
// replicas learn that their snapshot is out of date (see pg_policy_listener.h).
#pragma once

#include "common/pg/pool.h"
#include "services/governance/governance_store.h"

namespace bastion::governance {

inline constexpr char kPolicyChannel[] = "governance_policy";

class PgGovernanceStore : public GovernanceStore {
 public:
  explicit PgGovernanceStore(pg::Pool& pool, absl::Duration timeout = absl::Seconds(5))
      : pool_(pool), timeout_(timeout) {}

  absl::StatusOr<PolicyData> LoadPolicy(const std::string& tenant_id) override;
  absl::StatusOr<int64_t> PolicyVersion(const std::string& tenant_id) override;
  absl::StatusOr<int64_t> ApplyChange(const PolicyChange& change) override;
  absl::StatusOr<AppendResult> AppendAudit(const std::string& tenant_id,
                                           const std::vector<AuditEvent>& events) override;
  absl::StatusOr<std::vector<AuditEvent>> QueryAudit(const std::string& tenant_id,
                                                     const AuditFilter& filter, AuditOrder order,
                                                     int64_t after_seq, int limit) override;
  absl::StatusOr<std::vector<AuditEvent>> ReadAuditChain(const std::string& tenant_id,
                                                         int64_t after_seq, int limit) override;
  absl::StatusOr<AuditHead> GetAuditHead(const std::string& tenant_id) override;

 private:
  pg::Pool& pool_;
  absl::Duration timeout_;
};

// A Postgres text[] literal for `values` (each element quoted and escaped): arrays go to the
// server as one parameter, never as SQL text.
std::string TextArray(const std::vector<std::string>& values);

}  // namespace bastion::governance
