// What governance knows about a server's upstream credential (metadata only, from the vault)
// and whether that credential can serve a given tool: the risk flag reviewers see in ListTools
// and the reason Authorize denies a call that would only fail upstream.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/governance/governance_types.h"

namespace bastion::governance {

struct CredentialInfo {
  bool present = false;  // false: no credential stored for the server yet
  AuthMode mode = AuthMode::kApiKey;
  bool read_only = false;  // API keys: PagerDuty's read-only keys
  // OAuth apps: scoped apps list scopes such as "incidents.read"; classic apps "read"/"write".
  bool classic_oauth = false;
  std::vector<std::string> scopes;
};

class CredentialInfoSource {
 public:
  virtual ~CredentialInfoSource() = default;
  // The credential of server `server_name` in the tenant; present=false when none is stored.
  // An error means the vault could not be asked.
  virtual absl::StatusOr<CredentialInfo> GetCredentialInfo(const std::string& tenant_id,
                                                           const std::string& server_name) = 0;
};

struct CredentialFit {
  bool known = false;  // false when the vault could not be asked; then nothing is flagged
  bool can_serve = true;
  std::string problem;
};

CredentialFit FitCredential(const absl::StatusOr<CredentialInfo>& info, const Server& server,
                            const Tool& tool);

}  // namespace bastion::governance
