// The tenant service's domain: tenants, catalog entries, users, groups, client tokens and the
// identity a token resolves to. Plain structs; the gRPC adapter maps them to and from protos.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace bastion::tenant {

enum class ToolState { kPendingReview, kApproved };
enum class ClientType { kPersonal, kShared, kService };
enum class Role { kAdmin, kMember };

inline constexpr char kActivationRequiredMessage[] =
    "Activation required. AI access management must be enabled for your tenant before you can "
    "use it.";
inline constexpr char kKillSwitchMessage[] =
    "AI access for this tenant is switched off by its administrators (kill switch). Contact "
    "your administrator.";

struct Settings {
  ToolState default_tool_state = ToolState::kPendingReview;
  bool auto_approve_read_only = false;
  std::vector<ClientType> allowed_client_types = {ClientType::kPersonal, ClientType::kShared,
                                                  ClientType::kService};
};

struct Tenant {
  std::string id;
  std::string slug;
  std::string display_name;
  bool active = false;
  bool kill_switch = false;
  Settings settings;
  absl::Time created_at;
  absl::Time updated_at;
  int64_t version = 1;
};

struct CatalogEntry {
  std::string key;
  std::string display_name;
  std::string description;
  bool enabled = false;  // for the tenant a listing was asked for
};

struct User {
  std::string id;
  std::string tenant_id;
  std::string email;
  std::string display_name;
  Role role = Role::kMember;
  bool disabled = false;
  absl::Time created_at;
  std::vector<std::string> group_ids;
};

struct Group {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::vector<std::string> member_user_ids;
};

struct ClientToken {
  std::string id;
  std::string tenant_id;
  std::string user_id;
  std::string name;
  ClientType client_type = ClientType::kPersonal;
  std::string hint;
  absl::Time created_at;
  std::optional<absl::Time> expires_at;
  std::optional<absl::Time> revoked_at;
  std::optional<absl::Time> last_used_at;
};

// What a token lookup returns: the token with its user and tenant, in one read.
struct TokenLookup {
  ClientToken token;
  std::string token_hash;
  User user;
  Tenant tenant;
};

struct Identity {
  std::string tenant_id;
  std::string tenant_slug;
  std::string user_id;
  std::string email;
  Role role = Role::kMember;
  std::vector<std::string> group_ids;
  ClientType client_type = ClientType::kPersonal;
  std::string token_id;
};

struct AccessCheck {
  bool allowed = false;
  std::string message;
  std::string tenant_id;
  bool active = false;
  bool kill_switch = false;
  int64_t tenant_version = 0;
};

struct EndedSession {
  int64_t seq = 0;
  std::string session_hash;
  absl::Time expires_at;
};

// An entry of the revocation feed every edge polls: OAuth access tokens of this grant, or of
// this user, are refused at once. Kept for kRevocationLifetime, longer than any access token.
struct Revocation {
  enum class Kind { kGrant, kUser };
  int64_t seq = 0;
  Kind kind = Kind::kGrant;
  std::string tenant_id;
  std::string id;  // the grant id or the user id
  absl::Time expires_at;
  // Access tokens issued at or before this are refused (a user enabled again signs in afresh).
  absl::Time revoked_at;
};
inline constexpr absl::Duration kRevocationLifetime = absl::Minutes(15);

// Who is calling an RPC, resolved by the adapter from request metadata.
struct Caller {
  enum class Kind { kNone, kOperator, kTenantAdmin, kTenantMember, kService };
  Kind kind = Kind::kNone;
  std::string tenant_id;  // for tenant users
  std::string user_id;
  std::string service;  // for services

  static Caller Operator() { return {Kind::kOperator, "", "", ""}; }
  static Caller Service(std::string name) { return {Kind::kService, "", "", std::move(name)}; }
};

}  // namespace bastion::tenant
