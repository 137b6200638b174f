// An immutable, indexed view of one tenant's policy at one version, joined with the tenant's
// state and each server's credential fit: Authorize and ListAllowedTools are answered from it
// with hash lookups only. PolicyCache builds one per tenant and replaces it on every change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/governance/credential_info.h"
#include "services/governance/governance_types.h"

namespace bastion::governance {

struct DecisionResult {
  bool allowed = false;
  DenyReason reason = DenyReason::kNone;
  std::string message;
  int64_t policy_version = 0;
  std::string tenant_id;
  std::string server_id;
  Access access = Access::kRead;
};

struct AllowedTool {
  std::string name;
  std::string title;
  Access access = Access::kRead;
  std::string definition_json;
};

struct AllowedTools {
  std::vector<AllowedTool> tools;
  int64_t policy_version = 0;
  // Set when nothing is allowed for a reason that is not per tool.
  DenyReason reason = DenyReason::kNone;
  std::string message;
  // The list holds until then: the earliest expiry among the grants it rests on (each listed
  // tool counts with its latest-ending grant). Infinite when none of them expires.
  absl::Time valid_until = absl::InfiniteFuture();
};

// Credential metadata per server id, as the vault answered (or failed to).
using CredentialsByServer = absl::flat_hash_map<std::string, absl::StatusOr<CredentialInfo>>;

class PolicySnapshot {
 public:
  PolicySnapshot(const PolicyData& data, const TenantFacts& facts,
                 const CredentialsByServer& credentials);

  // Checks, in order: tenant active, tenant kill switch, server exists and is enabled, tool
  // known, tool kill switch, tool state, grant (expired grants give their own reason), and
  // whether the credential can serve the tool. The first failing check is the reason.
  DecisionResult Decide(absl::string_view user_id, const std::vector<std::string>& group_ids,
                        absl::string_view server, absl::string_view tool, absl::Time now) const;
  AllowedTools Allowed(absl::string_view user_id, const std::vector<std::string>& group_ids,
                       absl::string_view server, absl::Time now) const;

  int64_t version() const { return version_; }
  const TenantFacts& facts() const { return facts_; }
  bool store_arguments() const { return store_arguments_; }

 private:
  struct ToolEntry {
    std::string name;
    std::string title;
    std::string definition_json;
    Access access = Access::kRead;
    ToolState state = ToolState::kPendingReview;
    bool kill_switch = false;
    CredentialFit fit;
    // Member id -> latest expiry among the profiles granting this tool to it.
    absl::flat_hash_map<std::string, absl::Time> user_grants;
    absl::flat_hash_map<std::string, absl::Time> group_grants;
  };
  struct ServerEntry {
    std::string id;
    std::string name;
    bool enabled = true;
    std::vector<ToolEntry> tools;  // sorted by name
    absl::flat_hash_map<std::string, size_t> by_name;
  };
  enum class Grant { kNone, kExpired, kActive };

  // Tenant- and server-level checks; nullptr with `result` filled when they deny.
  const ServerEntry* Gate(absl::string_view server, DecisionResult& result) const;
  // Tool-level checks after the gate: the reason only, then with the words for a person.
  // `grant_until`, when given, receives when the grant that allows the tool ends.
  static DenyReason Check(const ToolEntry& tool, absl::string_view user_id,
                          const std::vector<std::string>& group_ids, absl::Time now,
                          absl::Time* grant_until = nullptr);
  void DecideTool(const ToolEntry& tool, absl::string_view user_id,
                  const std::vector<std::string>& group_ids, absl::Time now,
                  DecisionResult& result) const;
  static Grant GrantFor(const ToolEntry& tool, absl::string_view user_id,
                        const std::vector<std::string>& group_ids, absl::Time now,
                        absl::Time* until = nullptr);

  int64_t version_ = 0;
  TenantFacts facts_;
  bool store_arguments_ = false;
  std::vector<ServerEntry> servers_;
  absl::flat_hash_map<std::string, size_t> server_by_key_;  // by name and by id
};

}  // namespace bastion::governance
