// bastionctl's commands for the tenant service: tenants, catalog, users, groups, client tokens.
#include <algorithm>
#include <map>
#include <optional>

#include <google/protobuf/util/time_util.h>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status/status_macros.h"
#include "proto/bastion/governance/v1/governance.grpc.pb.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/ctl/commands.h"
#include "services/ctl/output.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::tenant::v1;
using Stub = pb::TenantService::Stub;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr Service kTenant = Service::kTenant;
// Listings follow page tokens to the end; pages of this size keep each reply small.
constexpr int kPageSize = 100;
// A server that keeps handing out page tokens must not keep the CLI looping forever.
constexpr int kMaxPages = 10000;

// ---- Names as people type and read them ----------------------------------------------------

std::string Name(pb::ClientType t) {
  switch (t) {
    case pb::CLIENT_TYPE_PERSONAL: return "personal";
    case pb::CLIENT_TYPE_SHARED: return "shared";
    case pb::CLIENT_TYPE_SERVICE: return "service";
    default: return "unspecified";
  }
}

std::string Name(pb::Role r) {
  switch (r) {
    case pb::ROLE_ADMIN: return "admin";
    case pb::ROLE_MEMBER: return "member";
    default: return "unspecified";
  }
}

std::string Name(pb::ToolState s) {
  switch (s) {
    case pb::TOOL_STATE_PENDING_REVIEW: return "pending_review";
    case pb::TOOL_STATE_APPROVED: return "approved";
    default: return "unspecified";
  }
}

absl::StatusOr<pb::ClientType> ParseClientType(const std::string& flag, const std::string& s) {
  for (auto t : {pb::CLIENT_TYPE_PERSONAL, pb::CLIENT_TYPE_SHARED, pb::CLIENT_TYPE_SERVICE}) {
    if (s == Name(t)) return t;
  }
  return UsageError(absl::StrCat("--", flag, " must be personal, shared or service, not '", s, "'"));
}

absl::StatusOr<bool> ParseBool(const std::string& flag, const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return UsageError(absl::StrCat("--", flag, " must be true or false, not '", s, "'"));
}

// "30d", "12h", "90m", "1h30m": how long an issued token lives.
absl::StatusOr<absl::Duration> ParseLifetime(const std::string& s) {
  absl::Duration d;
  bool ok;
  if (!s.empty() && s.back() == 'd') {  // absl::ParseDuration stops at hours
    int64_t days = 0;
    ok = absl::SimpleAtoi(s.substr(0, s.size() - 1), &days);
    d = absl::Hours(24) * days;
  } else {
    ok = absl::ParseDuration(s, &d);
  }
  if (!ok || d <= absl::ZeroDuration()) {
    return UsageError(
        absl::StrCat("--expires-in must be a positive duration like 30d, 12h or 90m, not '", s, "'"));
  }
  return d;
}

std::string OnOff(bool on) { return on ? "on" : "off"; }
std::string Active(bool active) { return active ? "active" : "inactive"; }
std::string Or(const std::string& s, const std::string& fallback) { return s.empty() ? fallback : s; }

std::string ClientTypes(const pb::TenantSettings& s) {
  std::vector<std::string> names;
  for (int t : s.allowed_client_types()) names.push_back(Name(static_cast<pb::ClientType>(t)));
  return absl::StrJoin(names, ",");
}

std::string TokenStatus(const pb::ClientToken& t) {
  if (t.has_revoked_at()) return "revoked";
  if (t.has_expires_at() &&
      google::protobuf::util::TimeUtil::TimestampToSeconds(t.expires_at()) <= absl::ToUnixSeconds(absl::Now())) {
    return "expired";
  }
  return "active";
}

// ---- Listings that follow page tokens -----------------------------------------------------

absl::StatusOr<std::vector<pb::Tenant>> AllTenants(Context& ctx) {
  std::vector<pb::Tenant> all;
  pb::ListTenantsRequest req;
  req.set_page_size(kPageSize);
  for (int page = 0; page < kMaxPages; ++page) {
    pb::ListTenantsResponse resp;
    RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::ListTenants, req, &resp));
    for (auto& t : *resp.mutable_tenants()) all.push_back(std::move(t));
    if (resp.next_page_token().empty() || resp.next_page_token() == req.page_token()) break;
    req.set_page_token(resp.next_page_token());
  }
  return all;
}

absl::StatusOr<std::vector<pb::User>> AllUsers(Context& ctx, const std::string& tenant) {
  std::vector<pb::User> all;
  pb::ListUsersRequest req;
  req.set_tenant(tenant);
  req.set_page_size(kPageSize);
  for (int page = 0; page < kMaxPages; ++page) {
    pb::ListUsersResponse resp;
    RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::ListUsers, req, &resp));
    for (auto& u : *resp.mutable_users()) all.push_back(std::move(u));
    if (resp.next_page_token().empty() || resp.next_page_token() == req.page_token()) break;
    req.set_page_token(resp.next_page_token());
  }
  return all;
}

// Tables show emails and group names where the API returns ids.
absl::StatusOr<std::map<std::string, std::string>> EmailsById(Context& ctx, const std::string& tenant) {
  ASSIGN_OR_RETURN(auto users, AllUsers(ctx, tenant));
  std::map<std::string, std::string> emails;
  for (const pb::User& u : users) emails[u.id()] = u.email();
  return emails;
}

absl::StatusOr<std::vector<pb::Group>> AllGroups(Context& ctx, const std::string& tenant) {
  pb::ListGroupsRequest req;
  req.set_tenant(tenant);
  pb::ListGroupsResponse resp;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::ListGroups, req, &resp));
  return std::vector<pb::Group>(resp.groups().begin(), resp.groups().end());
}

absl::StatusOr<std::map<std::string, std::string>> GroupNamesById(Context& ctx, const std::string& tenant) {
  ASSIGN_OR_RETURN(auto groups, AllGroups(ctx, tenant));
  std::map<std::string, std::string> names;
  for (const pb::Group& g : groups) names[g.id()] = g.name();
  return names;
}

template <typename Ids>
std::string Lookup(const Ids& ids, const std::map<std::string, std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    auto it = names.find(id);
    out.push_back(it != names.end() ? it->second : id);
  }
  return Or(absl::StrJoin(out, ","), "-");
}

// ---- tenant ---------------------------------------------------------------------------

Fields TenantFields(const pb::Tenant& t) {
  return {
      {"slug", t.slug()},
      {"display name", Or(t.display_name(), "-")},
      {"id", t.id()},
      {"ai access", Active(t.ai_access_active())},
      {"kill switch", OnOff(t.kill_switch())},
      {"default tool state", Name(t.settings().default_tool_state())},
      {"auto-approve read-only", t.settings().auto_approve_read_only() ? "true" : "false"},
      {"client types", ClientTypes(t.settings())},
      {"created", FormatTime(t.created_at())},
      {"updated", FormatTime(t.updated_at())},
      {"version", absl::StrCat(t.version())},
  };
}

absl::StatusOr<pb::Tenant> GetTenant(Context& ctx, const std::string& tenant) {
  pb::GetTenantRequest req;
  req.set_tenant(tenant);
  pb::Tenant t;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::GetTenant, req, &t));
  return t;
}

absl::Status TenantCreate(Context& ctx) {
  pb::CreateTenantRequest req;
  req.set_slug(ctx.arg(0));
  req.set_display_name(ctx.flag("display-name").value_or(""));
  pb::Tenant t;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::CreateTenant, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  ctx.out() << "Created tenant " << t.slug() << " (id " << t.id() << "). AI access is inactive until "
            << "'bastionctl tenant activate " << t.slug() << "'.\n";
  return absl::OkStatus();
}

absl::Status TenantGet(Context& ctx) {
  ASSIGN_OR_RETURN(pb::Tenant t, GetTenant(ctx, ctx.arg(0)));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  PrintFields(ctx.out(), TenantFields(t));
  return absl::OkStatus();
}

absl::Status TenantList(Context& ctx) {
  ASSIGN_OR_RETURN(auto tenants, AllTenants(ctx));
  if (ctx.json()) return PrintJsonList(ctx.out(), tenants);
  Table table({"SLUG", "NAME", "AI ACCESS", "KILL SWITCH", "CREATED", "ID"});
  for (const pb::Tenant& t : tenants) {
    table.AddRow({t.slug(), Or(t.display_name(), "-"), Active(t.ai_access_active()), OnOff(t.kill_switch()),
                  FormatTime(t.created_at()), t.id()});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status TenantSetAccess(Context& ctx, bool active) {
  pb::TenantRef req;
  req.set_tenant(ctx.arg(0));
  pb::Tenant t;
  RETURN_IF_ERROR(ctx.Call(kTenant, active ? &Stub::ActivateAiAccess : &Stub::DeactivateAiAccess, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  ctx.out() << "AI access for tenant " << t.slug() << " is now " << Active(t.ai_access_active()) << ".\n";
  return absl::OkStatus();
}

// Removes a tenant for good, in an order that is safe to re-run after a failure part way: the
// vault destroys its data key and credentials (crypto-shredding them), governance drops its
// policy and keeps its audit log for the retention period, and the tenant service deletes the
// tenant last, with its users, groups and tokens. Until that last step the tenant still exists,
// so running the command again finishes the job.
absl::Status TenantDelete(Context& ctx) {
  const std::string& slug = ctx.arg(0);
  pb::GetTenantRequest get;
  get.set_tenant(slug);
  pb::Tenant t;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::GetTenant, get, &t));
  if (t.ai_access_active()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tenant ", t.slug(), " still has AI access active; run `bastionctl tenant deactivate ", t.slug(),
        "` first (and export its audit log with `bastionctl audit export` if you need a copy)"));
  }
  if (!ctx.has_flag("yes") &&
      !ctx.Confirm(absl::StrCat("This destroys tenant ", t.slug(), "'s credentials, grants, users and tokens "
                                "for good. Type the tenant's slug to go on: "),
                   t.slug())) {
    return UsageError(absl::StrCat("not deleted: confirm by typing '", t.slug(),
                                   "' at the prompt, or pass --yes when not at a terminal"));
  }
  ::bastion::vault::v1::DeleteTenantSecretsRequest secrets;
  secrets.set_tenant(t.id());
  ::bastion::vault::v1::DeleteTenantSecretsResponse shredded;
  RETURN_IF_ERROR(ctx.Call(Service::kVault, &::bastion::vault::v1::VaultService::Stub::DeleteTenantSecrets, secrets,
                           &shredded));
  ::bastion::governance::v1::DeleteTenantPolicyRequest policy;
  policy.set_tenant(t.id());
  ::bastion::governance::v1::DeleteTenantPolicyResponse dropped;
  RETURN_IF_ERROR(ctx.Call(Service::kGovernance, &::bastion::governance::v1::GovernanceService::Stub::DeleteTenantPolicy,
                           policy, &dropped));
  pb::TenantRef ref;
  ref.set_tenant(t.id());
  pb::Tenant deleted;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::DeleteTenant, ref, &deleted));
  if (ctx.json()) return PrintJson(ctx.out(), deleted);
  ctx.out() << "Deleted tenant " << t.slug() << " (id " << t.id() << "): " << shredded.credentials_deleted()
            << " credential(s) and its data key destroyed; its users, groups and tokens are gone. Its audit "
            << "log stays under the old id until " << FormatTime(dropped.audit_kept_until()) << ".\n";
  return absl::OkStatus();
}

absl::Status TenantKillSwitch(Context& ctx) {
  const std::string& state = ctx.arg(1);
  if (state != "on" && state != "off") {
    return UsageError(absl::StrCat("the kill switch is on or off, not '", state, "'"));
  }
  pb::SetKillSwitchRequest req;
  req.set_tenant(ctx.arg(0));
  req.set_on(state == "on");
  pb::Tenant t;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::SetKillSwitch, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  ctx.out() << "Kill switch for tenant " << t.slug() << " is " << OnOff(t.kill_switch())
            << (t.kill_switch() ? ": all MCP traffic for the tenant is stopped.\n"
                                : ": MCP traffic flows again if AI access is active.\n");
  return absl::OkStatus();
}

// UpdateTenantSettings replaces all settings, so the flags given are merged into the current
// ones; with no flags this just shows them.
absl::Status TenantSettings(Context& ctx) {
  std::optional<pb::ToolState> state;
  if (auto s = ctx.flag("default-tool-state"); s.has_value()) {
    if (*s == "pending_review") {
      state = pb::TOOL_STATE_PENDING_REVIEW;
    } else if (*s == "approved") {
      state = pb::TOOL_STATE_APPROVED;
    } else {
      return UsageError(absl::StrCat("--default-tool-state must be pending_review or approved, not '", *s, "'"));
    }
  }
  std::optional<bool> auto_approve;
  if (auto s = ctx.flag("auto-approve-read-only"); s.has_value()) {
    ASSIGN_OR_RETURN(auto_approve, ParseBool("auto-approve-read-only", *s));
  }
  std::optional<std::vector<pb::ClientType>> types;
  if (auto s = ctx.flag("client-types"); s.has_value()) {
    types.emplace();
    for (absl::string_view part : absl::StrSplit(*s, ',', absl::SkipWhitespace())) {
      ASSIGN_OR_RETURN(pb::ClientType t,
                       ParseClientType("client-types", std::string(absl::StripAsciiWhitespace(part))));
      if (std::find(types->begin(), types->end(), t) == types->end()) types->push_back(t);
    }
    if (types->empty()) {
      return UsageError("--client-types must list at least one of personal, shared, service");
    }
  }

  ASSIGN_OR_RETURN(pb::Tenant t, GetTenant(ctx, ctx.arg(0)));
  if (state || auto_approve || types) {
    pb::UpdateTenantSettingsRequest req;
    req.set_tenant(ctx.arg(0));
    *req.mutable_settings() = t.settings();
    if (state) req.mutable_settings()->set_default_tool_state(*state);
    if (auto_approve) req.mutable_settings()->set_auto_approve_read_only(*auto_approve);
    if (types) {
      req.mutable_settings()->clear_allowed_client_types();
      for (pb::ClientType c : *types) req.mutable_settings()->add_allowed_client_types(c);
    }
    RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::UpdateTenantSettings, req, &t));
  }
  if (ctx.json()) return PrintJson(ctx.out(), t);
  PrintFields(ctx.out(), {
                             {"tenant", t.slug()},
                             {"default tool state", Name(t.settings().default_tool_state())},
                             {"auto-approve read-only", t.settings().auto_approve_read_only() ? "true" : "false"},
                             {"client types", ClientTypes(t.settings())},
                         });
  return absl::OkStatus();
}

// ---- catalog -------------------------------------------------------------------------

absl::Status CatalogList(Context& ctx) {
  pb::ListCatalogRequest req;
  req.set_tenant(ctx.tenant());
  pb::ListCatalogResponse resp;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::ListCatalog, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.entries());
  bool per_tenant = !ctx.tenant().empty();
  Table table(per_tenant ? std::vector<std::string>{"KEY", "NAME", "ENABLED", "DESCRIPTION"}
                         : std::vector<std::string>{"KEY", "NAME", "DESCRIPTION"});
  for (const pb::CatalogEntry& e : resp.entries()) {
    if (per_tenant) {
      table.AddRow({e.key(), e.display_name(), e.enabled() ? "yes" : "no", e.description()});
    } else {
      table.AddRow({e.key(), e.display_name(), e.description()});
    }
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status CatalogSet(Context& ctx, bool enabled) {
  pb::CatalogEntryRequest req;
  req.set_tenant(ctx.tenant());
  req.set_key(ctx.arg(0));
  pb::CatalogEntry e;
  RETURN_IF_ERROR(
      ctx.Call(kTenant, enabled ? &Stub::EnableCatalogEntry : &Stub::DisableCatalogEntry, req, &e));
  if (ctx.json()) return PrintJson(ctx.out(), e);
  ctx.out() << (e.enabled() ? "Enabled " : "Disabled ") << e.key() << " for tenant " << ctx.tenant() << ".\n";
  return absl::OkStatus();
}

// ---- user ----------------------------------------------------------------------------

absl::Status UserCreate(Context& ctx) {
  pb::CreateUserRequest req;
  req.set_tenant(ctx.tenant());
  req.set_email(ctx.arg(0));
  req.set_display_name(ctx.flag("display-name").value_or(""));
  std::string role = ctx.flag("role").value_or("member");
  if (role == "admin") {
    req.set_role(pb::ROLE_ADMIN);
  } else if (role == "member") {
    req.set_role(pb::ROLE_MEMBER);
  } else {
    return UsageError(absl::StrCat("--role must be admin or member, not '", role, "'"));
  }
  pb::User u;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::CreateUser, req, &u));
  if (ctx.json()) return PrintJson(ctx.out(), u);
  ctx.out() << "Created " << Name(u.role()) << " " << u.email() << " in tenant " << ctx.tenant() << " (id "
            << u.id() << ").\n";
  return absl::OkStatus();
}

absl::Status UserGet(Context& ctx) {
  pb::GetUserRequest req;
  req.set_tenant(ctx.tenant());
  req.set_user(ctx.arg(0));
  pb::User u;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::GetUser, req, &u));
  if (ctx.json()) return PrintJson(ctx.out(), u);
  ASSIGN_OR_RETURN(auto groups, GroupNamesById(ctx, ctx.tenant()));
  PrintFields(ctx.out(), {
                             {"email", u.email()},
                             {"display name", Or(u.display_name(), "-")},
                             {"id", u.id()},
                             {"role", Name(u.role())},
                             {"status", u.disabled() ? "disabled" : "active"},
                             {"groups", Lookup(u.group_ids(), groups)},
                             {"created", FormatTime(u.created_at())},
                         });
  return absl::OkStatus();
}

absl::Status UserList(Context& ctx) {
  ASSIGN_OR_RETURN(auto users, AllUsers(ctx, ctx.tenant()));
  if (ctx.json()) return PrintJsonList(ctx.out(), users);
  ASSIGN_OR_RETURN(auto groups, GroupNamesById(ctx, ctx.tenant()));
  Table table({"EMAIL", "NAME", "ROLE", "STATUS", "GROUPS", "CREATED", "ID"});
  for (const pb::User& u : users) {
    table.AddRow({u.email(), Or(u.display_name(), "-"), Name(u.role()), u.disabled() ? "disabled" : "active",
                  Lookup(u.group_ids(), groups), FormatTime(u.created_at()), u.id()});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status UserDisable(Context& ctx) {
  pb::GetUserRequest req;
  req.set_tenant(ctx.tenant());
  req.set_user(ctx.arg(0));
  pb::User u;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::DisableUser, req, &u));
  if (ctx.json()) return PrintJson(ctx.out(), u);
  ctx.out() << "Disabled " << u.email() << " in tenant " << ctx.tenant()
            << "; their client tokens are rejected from now on.\n";
  return absl::OkStatus();
}

// ---- group ---------------------------------------------------------------------------

absl::Status GroupCreate(Context& ctx) {
  pb::CreateGroupRequest req;
  req.set_tenant(ctx.tenant());
  req.set_name(ctx.arg(0));
  pb::Group g;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::CreateGroup, req, &g));
  if (ctx.json()) return PrintJson(ctx.out(), g);
  ctx.out() << "Created group " << g.name() << " in tenant " << ctx.tenant() << " (id " << g.id() << ").\n";
  return absl::OkStatus();
}

absl::Status GroupMember(Context& ctx, bool add) {
  pb::GroupMemberRequest req;
  req.set_tenant(ctx.tenant());
  req.set_group(ctx.arg(0));
  req.set_user(ctx.arg(1));
  pb::Group g;
  RETURN_IF_ERROR(ctx.Call(kTenant, add ? &Stub::AddGroupMember : &Stub::RemoveGroupMember, req, &g));
  if (ctx.json()) return PrintJson(ctx.out(), g);
  ctx.out() << (add ? "Added " : "Removed ") << ctx.arg(1) << (add ? " to" : " from") << " group " << g.name()
            << " (" << g.member_user_ids_size() << (g.member_user_ids_size() == 1 ? " member).\n" : " members).\n");
  return absl::OkStatus();
}

absl::Status GroupList(Context& ctx) {
  ASSIGN_OR_RETURN(auto groups, AllGroups(ctx, ctx.tenant()));
  if (ctx.json()) return PrintJsonList(ctx.out(), groups);
  ASSIGN_OR_RETURN(auto emails, EmailsById(ctx, ctx.tenant()));
  Table table({"NAME", "MEMBERS", "ID"});
  for (const pb::Group& g : groups) table.AddRow({g.name(), Lookup(g.member_user_ids(), emails), g.id()});
  table.Print(ctx.out());
  return absl::OkStatus();
}

// ---- token ---------------------------------------------------------------------------

absl::Status TokenIssue(Context& ctx) {
  pb::IssueClientTokenRequest req;
  req.set_tenant(ctx.tenant());
  req.set_user(ctx.arg(0));
  req.set_name(ctx.flag("name").value_or(""));
  ASSIGN_OR_RETURN(pb::ClientType type,
                   ParseClientType("client-type", ctx.flag("client-type").value_or("personal")));
  req.set_client_type(type);
  if (auto e = ctx.flag("expires-in"); e.has_value()) {
    ASSIGN_OR_RETURN(absl::Duration lifetime, ParseLifetime(*e));
    *req.mutable_expires_at() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now() + lifetime));
  }
  pb::IssueClientTokenResponse resp;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::IssueClientToken, req, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  // The secret alone on stdout, so `TOKEN=$(bastionctl token issue ...)` works; the note on stderr.
  ctx.out() << resp.secret() << "\n";
  const pb::ClientToken& t = resp.token();
  ctx.err() << "Token " << t.id() << " (" << Name(t.client_type()) << ", expires "
            << (t.has_expires_at() ? FormatTime(t.expires_at()) : "never")
            << ") is shown once: Bastion keeps only its hash.\n";
  return absl::OkStatus();
}

absl::Status TokenList(Context& ctx) {
  pb::ListClientTokensRequest req;
  req.set_tenant(ctx.tenant());
  req.set_user(ctx.flag("user").value_or(""));
  pb::ListClientTokensResponse resp;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::ListClientTokens, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.tokens());
  ASSIGN_OR_RETURN(auto emails, EmailsById(ctx, ctx.tenant()));
  Table table({"ID", "NAME", "USER", "TYPE", "HINT", "STATUS", "CREATED", "EXPIRES", "LAST USED"});
  for (const pb::ClientToken& t : resp.tokens()) {
    auto email = emails.find(t.user_id());
    table.AddRow({t.id(), Or(t.name(), "-"), email != emails.end() ? email->second : t.user_id(),
                  Name(t.client_type()), t.hint(), TokenStatus(t), FormatTime(t.created_at()),
                  t.has_expires_at() ? FormatTime(t.expires_at()) : "never",
                  t.has_last_used_at() ? FormatTime(t.last_used_at()) : "-"});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status TokenRevoke(Context& ctx) {
  pb::RevokeClientTokenRequest req;
  req.set_tenant(ctx.tenant());
  req.set_token_id(ctx.arg(0));
  pb::ClientToken t;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::RevokeClientToken, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  ctx.out() << "Revoked token " << t.id() << "; clients presenting it are rejected from now on.\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> TenantCommands() {
  const FlagSpec tenant = TenantFlag();
  const FlagSpec display_name{"display-name", "N"};
  return {
      {"tenant", "create", {"<slug>"}, {display_name}, "Create a tenant; AI access starts inactive.",
       TenantCreate},
      {"tenant", "get", {"<slug>"}, {}, "Show a tenant, its activation and settings.", TenantGet},
      {"tenant", "list", {}, {}, "List tenants.", TenantList},
      {"tenant", "activate", {"<slug>"}, {}, "Switch AI access on for a tenant.",
       [](Context& c) { return TenantSetAccess(c, true); }},
      {"tenant", "deactivate", {"<slug>"}, {}, "Switch AI access off for a tenant.",
       [](Context& c) { return TenantSetAccess(c, false); }},
      {"tenant", "kill-switch", {"<slug>", "on|off"}, {}, "Stop (on) or allow (off) all MCP traffic of a tenant.",
       TenantKillSwitch},
      {"tenant", "delete", {"<slug>"}, {{"yes", ""}},
       "Delete a deactivated tenant for good: secrets destroyed, audit log kept for its retention.",
       TenantDelete},
      {"tenant",
       "settings",
       {"<slug>"},
       {{"default-tool-state", "pending_review|approved"},
        {"auto-approve-read-only", "true|false"},
        {"client-types", "personal,shared,service"}},
       "Show a tenant's settings, or change the ones given.",
       TenantSettings},
      {"catalog", "list", {}, {{"tenant", "T"}}, "List the server catalog; with --tenant, what it has enabled.",
       CatalogList},
      {"catalog", "enable", {"<key>"}, {tenant}, "Enable a catalog entry (e.g. pagerduty) for a tenant.",
       [](Context& c) { return CatalogSet(c, true); }},
      {"catalog", "disable", {"<key>"}, {tenant}, "Disable a catalog entry for a tenant.",
       [](Context& c) { return CatalogSet(c, false); }},
      {"user", "create", {"<email>"}, {tenant, {"role", "admin|member"}, display_name},
       "Create a user (role member unless --role admin).", UserCreate},
      {"user", "get", {"<email>"}, {tenant}, "Show a user and their groups.", UserGet},
      {"user", "list", {}, {tenant}, "List a tenant's users.", UserList},
      {"user", "disable", {"<email>"}, {tenant}, "Disable a user; their client tokens stop working.", UserDisable},
      {"group", "create", {"<name>"}, {tenant}, "Create a group.", GroupCreate},
      {"group", "add", {"<group>", "<email>"}, {tenant}, "Add a user to a group.",
       [](Context& c) { return GroupMember(c, true); }},
      {"group", "remove", {"<group>", "<email>"}, {tenant}, "Remove a user from a group.",
       [](Context& c) { return GroupMember(c, false); }},
      {"group", "list", {}, {tenant}, "List a tenant's groups and their members.", GroupList},
      {"token",
       "issue",
       {"<email>"},
       {tenant, {"client-type", "personal|shared|service"}, {"name", "N"}, {"expires-in", "30d|12h"}},
       "Issue a client token for a user; the token is printed once.",
       TokenIssue},
      {"token", "list", {}, {tenant, {"user", "email"}}, "List client tokens (never the tokens themselves).",
       TokenList},
      {"token", "revoke", {"<token-id>"}, {tenant}, "Revoke a client token.", TokenRevoke},
  };
}

}  // namespace bastion::ctl
