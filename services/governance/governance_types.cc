#include "services/governance/governance_types.h"

#include <utility>

namespace bastion::governance {
namespace {

// Each enum's names in declaration order; Name and Parse share the table.
template <typename E, size_t N>
const char* NameIn(const std::pair<E, const char*> (&table)[N], E v) {
  for (const auto& [value, name] : table) {
    if (value == v) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
bool ParseIn(const std::pair<E, const char*> (&table)[N], const std::string& s, E* out) {
  for (const auto& [value, name] : table) {
    if (s == name) {
      *out = value;
      return true;
    }
  }
  return false;
}

const std::pair<ServerType, const char*> kServerTypes[] = {{ServerType::kPagerDuty, "pagerduty"}};
const std::pair<Region, const char*> kRegions[] = {{Region::kUs, "us"}, {Region::kEu, "eu"}};
const std::pair<AuthMode, const char*> kAuthModes[] = {{AuthMode::kOAuth, "oauth"},
                                                       {AuthMode::kApiKey, "api_key"}};
const std::pair<ToolPolicy, const char*> kToolPolicies[] = {
    {ToolPolicy::kTenantDefault, "tenant_default"},
    {ToolPolicy::kRequireReview, "require_review"},
    {ToolPolicy::kApproveAll, "approve_all"},
    {ToolPolicy::kApproveReadOnly, "approve_read_only"}};
const std::pair<ToolState, const char*> kToolStates[] = {
    {ToolState::kPendingReview, "pending_review"},
    {ToolState::kApproved, "approved"},
    {ToolState::kDisabled, "disabled"},
    {ToolState::kRemoved, "removed"}};
const std::pair<Access, const char*> kAccess[] = {{Access::kRead, "read"}, {Access::kWrite, "write"}};
const std::pair<DenyReason, const char*> kReasons[] = {
    {DenyReason::kNone, "none"},
    {DenyReason::kTenantInactive, "tenant_inactive"},
    {DenyReason::kKillSwitch, "kill_switch"},
    {DenyReason::kServerUnavailable, "server_unavailable"},
    {DenyReason::kUnknownTool, "unknown_tool"},
    {DenyReason::kToolPendingReview, "tool_pending_review"},
    {DenyReason::kToolDisabled, "tool_disabled"},
    {DenyReason::kNotGranted, "not_granted"},
    {DenyReason::kGrantExpired, "grant_expired"},
    {DenyReason::kCredentialCannotServe, "credential_cannot_serve"}};
const std::pair<AuditKind, const char*> kKinds[] = {{AuditKind::kToolCall, "tool_call"},
                                                    {AuditKind::kAdminChange, "admin_change"}};
const std::pair<Decision, const char*> kDecisions[] = {{Decision::kAllow, "allow"},
                                                       {Decision::kDeny, "deny"}};
const std::pair<Outcome, const char*> kOutcomes[] = {
    {Outcome::kSuccess, "success"}, {Outcome::kError, "error"}, {Outcome::kDenied, "denied"}};

}  // namespace

const char* Name(ServerType v) { return NameIn(kServerTypes, v); }
const char* Name(Region v) { return NameIn(kRegions, v); }
const char* Name(AuthMode v) { return NameIn(kAuthModes, v); }
const char* Name(ToolPolicy v) { return NameIn(kToolPolicies, v); }
const char* Name(ToolState v) { return NameIn(kToolStates, v); }
const char* Name(Access v) { return NameIn(kAccess, v); }
const char* Name(DenyReason v) { return NameIn(kReasons, v); }
const char* Name(AuditKind v) { return NameIn(kKinds, v); }
const char* Name(Decision v) { return NameIn(kDecisions, v); }
const char* Name(Outcome v) { return NameIn(kOutcomes, v); }

bool Parse(const std::string& s, ServerType* out) { return ParseIn(kServerTypes, s, out); }
bool Parse(const std::string& s, Region* out) { return ParseIn(kRegions, s, out); }
bool Parse(const std::string& s, AuthMode* out) { return ParseIn(kAuthModes, s, out); }
bool Parse(const std::string& s, ToolPolicy* out) { return ParseIn(kToolPolicies, s, out); }
bool Parse(const std::string& s, ToolState* out) { return ParseIn(kToolStates, s, out); }
bool Parse(const std::string& s, Access* out) { return ParseIn(kAccess, s, out); }
bool Parse(const std::string& s, DenyReason* out) { return ParseIn(kReasons, s, out); }
bool Parse(const std::string& s, AuditKind* out) { return ParseIn(kKinds, s, out); }
bool Parse(const std::string& s, Decision* out) { return ParseIn(kDecisions, s, out); }
bool Parse(const std::string& s, Outcome* out) { return ParseIn(kOutcomes, s, out); }

}  // namespace bastion::governance
