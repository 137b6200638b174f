// The governance service's domain: servers, discovered tools and their review states, toolsets,
// access profiles, decisions and audit events. Plain structs; the gRPC adapter maps protos.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace bastion::governance {

enum class ServerType { kPagerDuty };
enum class Region { kUs, kEu };
enum class AuthMode { kOAuth, kApiKey };
enum class ToolPolicy { kTenantDefault, kRequireReview, kApproveAll, kApproveReadOnly };
enum class ToolState { kPendingReview, kApproved, kDisabled, kRemoved };
enum class Access { kRead, kWrite };

// Exactly one per decision; kNone means allowed. Order of the checks: see PolicySnapshot.
enum class DenyReason {
  kNone,
  kTenantInactive,
  kKillSwitch,
  kServerUnavailable,
  kUnknownTool,
  kToolPendingReview,
  kToolDisabled,
  kNotGranted,
  kGrantExpired,
  kCredentialCannotServe,
};

// The names used in the database, audit hashes and JSON exports. Stable: changing one breaks
// the verification of audit chains already written.
const char* Name(ServerType v);
const char* Name(Region v);
const char* Name(AuthMode v);
const char* Name(ToolPolicy v);
const char* Name(ToolState v);
const char* Name(Access v);
const char* Name(DenyReason v);
bool Parse(const std::string& s, ServerType* out);
bool Parse(const std::string& s, Region* out);
bool Parse(const std::string& s, AuthMode* out);
bool Parse(const std::string& s, ToolPolicy* out);
bool Parse(const std::string& s, ToolState* out);
bool Parse(const std::string& s, Access* out);
bool Parse(const std::string& s, DenyReason* out);

// Built-in toolsets: they are not stored, they follow the tool states of every server.
inline constexpr char kAllApprovedToolset[] = "all-approved";
inline constexpr char kApprovedReadOnlyToolset[] = "approved-read-only";

// The actor recorded when discovery (not a person) changes a tool's state.
inline constexpr char kDiscoveryActor[] = "discovery";

struct Server {
  std::string id;
  std::string tenant_id;
  std::string name;
  ServerType type = ServerType::kPagerDuty;
  Region region = Region::kUs;
  AuthMode auth_mode = AuthMode::kApiKey;
  ToolPolicy tool_policy = ToolPolicy::kTenantDefault;
  bool enabled = true;
  absl::Time created_at;
  absl::Time updated_at;
  std::optional<absl::Time> last_synced_at;
};

struct Annotations {
  bool read_only = false;
  bool destructive = true;
  bool idempotent = false;
  bool open_world = true;
};

struct Tool {
  std::string tenant_id;
  std::string server_id;
  std::string name;
  std::string title;
  std::string description;
  Access access = Access::kRead;
  Annotations annotations;
  std::vector<std::string> scopes;  // OAuth scopes the tool's REST calls need
  std::string definition_json;      // canonical JSON: description, inputSchema, annotations
  std::string digest;               // hex SHA-256 of definition_json
  ToolState state = ToolState::kPendingReview;
  bool kill_switch = false;
  absl::Time discovered_at;
  absl::Time state_changed_at;
  std::string state_changed_by;

  // Read-only for policy purposes: both the connector and the annotations say so.
  bool read_only() const { return access == Access::kRead && annotations.read_only; }
};

struct Toolset {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::string description;
  std::string server_id;
  std::vector<std::string> tools;  // sorted, distinct
  absl::Time created_at;
  absl::Time updated_at;
};

struct Member {
  enum class Kind { kUser, kGroup };
  Kind kind = Kind::kUser;
  std::string id;
  std::string label;  // email or group name at the time it was added

  bool operator==(const Member& o) const { return kind == o.kind && id == o.id; }
};

struct AccessProfile {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::string description;
  std::vector<std::string> toolsets;  // toolset ids, or the built-in names
  std::vector<Member> members;
  std::optional<absl::Time> expires_at;
  absl::Time created_at;
  absl::Time updated_at;
};

// Governance's own per-tenant settings (the tenant service owns the rest).
struct AuditSettings {
  bool store_arguments = false;
};

// Everything that decides a tenant's policy, read consistently at one version.
struct PolicyData {
  std::string tenant_id;
  int64_t version = 0;
  AuditSettings audit_settings;
  std::vector<Server> servers;
  std::vector<Tool> tools;  // of every server
  std::vector<Toolset> toolsets;
  std::vector<AccessProfile> profiles;
};

// What governance needs from the tenant service about a tenant.
struct TenantFacts {
  std::string id;
  std::string slug;
  bool active = false;
  bool kill_switch = false;
  int64_t tenant_version = 0;
  bool default_approved = false;  // settings.default_tool_state == approved
  bool auto_approve_read_only = false;
};

enum class AuditKind { kToolCall, kAdminChange };
enum class Decision { kAllow, kDeny };
enum class Outcome { kSuccess, kError, kDenied };
const char* Name(AuditKind v);
const char* Name(Decision v);
const char* Name(Outcome v);
bool Parse(const std::string& s, AuditKind* out);
bool Parse(const std::string& s, Decision* out);
bool Parse(const std::string& s, Outcome* out);

// One audit record: a tool call (from the edge) or an admin change (from this service). Every
// field takes part in the event's hash; see audit_chain.h.
struct AuditEvent {
  std::string event_id;
  std::string tenant_id;
  int64_t seq = 0;  // assigned when appended
  absl::Time time;  // stored with microsecond precision
  AuditKind kind = AuditKind::kToolCall;
  std::string actor;
  std::string user_id;
  std::string user_email;
  std::string client;
  std::string server;
  std::string tool;
  Decision decision = Decision::kAllow;
  DenyReason reason = DenyReason::kNone;
  Outcome outcome = Outcome::kSuccess;
  int upstream_status = 0;
  int64_t latency_ms = 0;
  std::string request_id;
  std::string arguments_digest;
  std::string arguments_json;
  std::string action;
  std::string target;
  std::string details_json;
  std::string prev_hash;  // assigned when appended
  std::string hash;       // assigned when appended
};

struct AuditFilter {
  std::optional<absl::Time> since;
  std::optional<absl::Time> until;
  std::string user;  // id or email
  std::string server;
  std::string tool;
  std::optional<Outcome> outcome;
  std::optional<AuditKind> kind;
};

// The newest link of a tenant's chain.
struct AuditHead {
  int64_t seq = 0;
  std::string hash;
};

struct AppendResult {
  int recorded = 0;
  int duplicates = 0;
};

}  // namespace bastion::governance
