#include "services/tenant/tenant_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"

namespace bastion::tenant {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

bool IsAdminOrOperator(const Caller& c) {
  return c.kind == Caller::Kind::kOperator || c.kind == Caller::Kind::kTenantAdmin;
}

absl::Status RequireOperator(const Caller& c) {
  if (c.kind == Caller::Kind::kOperator) return absl::OkStatus();
  if (c.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  return absl::PermissionDeniedError("only the operator may do this");
}

// A service-only RPC: the named services (and the operator, who may do anything) pass; any
// other service, or a tenant user, is refused.
absl::Status RequireService(const Caller& c, std::initializer_list<absl::string_view> services) {
  if (c.kind == Caller::Kind::kOperator) return absl::OkStatus();
  if (c.kind == Caller::Kind::kService &&
      std::find(services.begin(), services.end(), c.service) != services.end()) {
    return absl::OkStatus();
  }
  if (c.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a service identity is required");
  return absl::PermissionDeniedError(
      absl::StrCat("only the ", absl::StrJoin(services, ", "), " service may call this"));
}

// Read RPCs that serve admins and, for their own work, some services: a service outside
// `services` is refused before anything is read.
absl::Status ServiceMayRead(const Caller& c, std::initializer_list<absl::string_view> services) {
  if (c.kind != Caller::Kind::kService) return absl::OkStatus();
  return RequireService(c, services);
}

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::StatusOr<std::string> DecodePageToken(const std::string& token) {
  if (token.empty()) return std::string();
  auto decoded = crypto::Base64UrlDecode(token);
  if (!decoded.ok()) return absl::InvalidArgumentError("page_token is not one this service issued");
  return *decoded;
}

std::string TokenHashOf(const std::string& token) {
  return crypto::HexEncode(crypto::Sha256(token));
}

const char* ClientTypeName(ClientType t) {
  switch (t) {
    case ClientType::kPersonal: return "personal";
    case ClientType::kShared: return "shared";
    case ClientType::kService: return "service";
  }
  return "unknown";
}

}  // namespace

absl::Status ValidateSlug(const std::string& slug) {
  if (slug.empty()) return absl::InvalidArgumentError("tenant slug must not be empty");
  if (slug.size() < 2 || slug.size() > 63) {
    return absl::InvalidArgumentError("tenant slug must be 2 to 63 characters long");
  }
  bool ok = absl::ascii_islower(slug[0]) || absl::ascii_isdigit(slug[0]);
  for (char ch : slug) ok = ok && (absl::ascii_islower(ch) || absl::ascii_isdigit(ch) || ch == '-');
  if (!ok || slug.back() == '-') {
    return absl::InvalidArgumentError(
        "tenant slug may hold only lowercase letters, digits and inner hyphens (e.g. acme-eu)");
  }
  return absl::OkStatus();
}

absl::Status ValidateEmail(const std::string& email) {
  const size_t at = email.find('@');
  const bool ok = !email.empty() && email.size() <= 254 && at != std::string::npos && at > 0 &&
                  email.find('@', at + 1) == std::string::npos &&
                  email.find('.', at + 2) != std::string::npos && email.back() != '.' &&
                  std::none_of(email.begin(), email.end(), [](char c) {
                    return absl::ascii_isspace(c) || absl::ascii_iscntrl(c);
                  });
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("'", email, "' is not a valid email address"));
  return absl::OkStatus();
}

absl::StatusOr<Tenant> TenantService::ResolveTenant(const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("tenant must name a tenant id or slug");
  auto by_slug = store_.GetTenantBySlug(ref);
  if (by_slug.ok() || by_slug.status().code() != absl::StatusCode::kNotFound) return by_slug;
  auto by_id = store_.GetTenantById(ref);
  if (by_id.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
  }
  return by_id;
}

absl::StatusOr<Tenant> TenantService::TenantForAdmin(const Caller& caller, const std::string& ref) {
  if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  if (caller.kind == Caller::Kind::kTenantMember) {
    return absl::PermissionDeniedError("this needs a tenant admin or the operator");
  }
  if (caller.kind == Caller::Kind::kService) {
    // A service identity is not an admin of any tenant: only the service-only RPCs serve it.
    return absl::PermissionDeniedError("services may not call admin APIs");
  }
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(ref));
  if (caller.kind == Caller::Kind::kTenantAdmin && caller.tenant_id != t.id) {
    // Same words as an unknown tenant: another tenant's existence is not revealed.
    return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
  }
  return t;
}

absl::StatusOr<User> TenantService::ResolveUser(const std::string& tenant_id, const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("user must name a user id or email");
  auto user = absl::StrContains(ref, "@") ? store_.GetUserByEmail(tenant_id, absl::AsciiStrToLower(ref))
                                          : store_.GetUserById(tenant_id, ref);
  if (user.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("user '", ref, "' not found in this tenant"));
  }
  return user;
}

absl::StatusOr<Group> TenantService::ResolveGroup(const std::string& tenant_id, const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("group must name a group id or name");
  auto group = store_.GetGroupByName(tenant_id, ref);
  if (group.status().code() == absl::StatusCode::kNotFound) group = store_.GetGroupById(tenant_id, ref);
  if (group.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("group '", ref, "' not found in this tenant"));
  }
  return group;
}

absl::StatusOr<Tenant> TenantService::CreateTenant(const Caller& caller, const std::string& slug,
                                                   const std::string& display_name) {
  RETURN_IF_ERROR(RequireOperator(caller));
  RETURN_IF_ERROR(ValidateSlug(slug));
  Tenant t;
  t.id = crypto::NewUuid();
  t.slug = slug;
  t.display_name = display_name.empty() ? slug : display_name;
  t.created_at = t.updated_at = clock_.Now();
  absl::Status s = store_.CreateTenant(t);
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("a tenant with slug '", slug, "' already exists"));
  }
  RETURN_IF_ERROR(s);
  return store_.GetTenantById(t.id);
}

absl::StatusOr<Tenant> TenantService::GetTenant(const Caller& caller, const std::string& tenant) {
  RETURN_IF_ERROR(ServiceMayRead(caller, {"vault", "governance"}));
  if (caller.kind == Caller::Kind::kService) return ResolveTenant(tenant);
  return TenantForAdmin(caller, tenant);
}

absl::StatusOr<TenantPage> TenantService::ListTenants(const Caller& caller, int page_size,
                                                      const std::string& page_token) {
  if (caller.kind == Caller::Kind::kTenantAdmin) {
    // An admin sees exactly their own tenant.
    ASSIGN_OR_RETURN(Tenant own, store_.GetTenantById(caller.tenant_id));
    return TenantPage{{own}, ""};
  }
  RETURN_IF_ERROR(RequireOperator(caller));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(page_token));
  const int limit = PageSize(page_size);
  ASSIGN_OR_RETURN(auto tenants, store_.ListTenants(after, limit + 1));
  TenantPage page;
  if (static_cast<int>(tenants.size()) > limit) {
    tenants.resize(limit);
    page.next_page_token = crypto::Base64UrlEncode(tenants.back().slug);
  }
  page.tenants = std::move(tenants);
  return page;
}

absl::StatusOr<Tenant> TenantService::UpdateTenantSettings(const Caller& caller,
                                                           const std::string& tenant,
                                                           const Settings& settings,
                                                           const std::string& display_name) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  if (settings.allowed_client_types.empty()) {
    return absl::InvalidArgumentError(
        "allowed_client_types must list at least one client type (personal, shared, service)");
  }
  t.settings = settings;
  if (!display_name.empty()) t.display_name = display_name;
  return store_.UpdateTenant(t, clock_.Now());
}

absl::StatusOr<Tenant> TenantService::SetAiAccess(const Caller& caller, const std::string& tenant,
                                                  bool active) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  if (t.active == active) return t;
  t.active = active;
  return store_.UpdateTenant(t, clock_.Now());
}

absl::StatusOr<Tenant> TenantService::SetKillSwitch(const Caller& caller, const std::string& tenant,
                                                    bool on) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  if (t.kill_switch == on) return t;
  t.kill_switch = on;
  return store_.UpdateTenant(t, clock_.Now());
}

absl::StatusOr<Tenant> TenantService::DeleteTenant(const Caller& caller, const std::string& tenant) {
  RETURN_IF_ERROR(RequireOperator(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(tenant));
  if (t.active) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tenant ", t.slug, " still has AI access active: deactivate it before deleting it"));
  }
  absl::Status s = store_.DeleteTenant(t.id);
  if (s.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("tenant '", tenant, "' not found"));
  }
  RETURN_IF_ERROR(s);
  return t;
}

absl::StatusOr<AccessCheck> TenantService::CheckAccess(const Caller& caller, const std::string& tenant) {
  RETURN_IF_ERROR(RequireService(caller, {"edge"}));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(tenant));
  AccessCheck check{false, "", t.id, t.active, t.kill_switch, t.version};
  if (!t.active) {
    check.message = kActivationRequiredMessage;
  } else if (t.kill_switch) {
    check.message = kKillSwitchMessage;
  } else {
    check.allowed = true;
  }
  return check;
}

absl::StatusOr<std::vector<CatalogEntry>> TenantService::ListCatalog(const Caller& caller,
                                                                     const std::string& tenant) {
  RETURN_IF_ERROR(ServiceMayRead(caller, {"governance"}));
  if (tenant.empty()) {
    if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
    return store_.ListCatalog("");
  }
  Tenant t;
  if (caller.kind == Caller::Kind::kService) {
    ASSIGN_OR_RETURN(t, ResolveTenant(tenant));
  } else {
    ASSIGN_OR_RETURN(t, TenantForAdmin(caller, tenant));
  }
  return store_.ListCatalog(t.id);
}

absl::StatusOr<CatalogEntry> TenantService::SetCatalogEntry(const Caller& caller,
                                                            const std::string& tenant,
                                                            const std::string& key, bool enabled) {
  RETURN_IF_ERROR(RequireOperator(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(tenant));
  if (key.empty()) return absl::InvalidArgumentError("catalog key must not be empty (e.g. pagerduty)");
  absl::Status s = store_.SetCatalogEnabled(t.id, key, enabled);
  if (s.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("catalog entry '", key, "' does not exist"));
  }
  RETURN_IF_ERROR(s);
  ASSIGN_OR_RETURN(auto entries, store_.ListCatalog(t.id));
  for (auto& e : entries) {
    if (e.key == key) return e;
  }
  return absl::InternalError("catalog entry vanished while being changed");
}

absl::StatusOr<User> TenantService::CreateUser(const Caller& caller, const std::string& tenant,
                                               const std::string& email,
                                               const std::string& display_name, Role role) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  RETURN_IF_ERROR(ValidateEmail(email));
  User u;
  u.id = crypto::NewUuid();
  u.tenant_id = t.id;
  u.email = absl::AsciiStrToLower(email);
  u.display_name = display_name.empty() ? u.email : display_name;
  u.role = role;
  u.created_at = clock_.Now();
  absl::Status s = store_.CreateUser(u);
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("user '", u.email, "' already exists in this tenant"));
  }
  RETURN_IF_ERROR(s);
  return u;
}

absl::StatusOr<User> TenantService::GetUser(const Caller& caller, const std::string& tenant,
                                            const std::string& user) {
  // The edge reads the current groups and status of users who signed in with an access token.
  RETURN_IF_ERROR(ServiceMayRead(caller, {"vault", "governance", "edge"}));
  Tenant t;
  if (caller.kind == Caller::Kind::kService) {
    ASSIGN_OR_RETURN(t, ResolveTenant(tenant));
  } else {
    ASSIGN_OR_RETURN(t, TenantForAdmin(caller, tenant));
  }
  return ResolveUser(t.id, user);
}

absl::StatusOr<UserPage> TenantService::ListUsers(const Caller& caller, const std::string& tenant,
                                                  int page_size, const std::string& page_token) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(page_token));
  const int limit = PageSize(page_size);
  ASSIGN_OR_RETURN(auto users, store_.ListUsers(t.id, after, limit + 1));
  UserPage page;
  if (static_cast<int>(users.size()) > limit) {
    users.resize(limit);
    page.next_page_token = crypto::Base64UrlEncode(users.back().email);
  }
  page.users = std::move(users);
  return page;
}

absl::StatusOr<User> TenantService::DisableUser(const Caller& caller, const std::string& tenant,
                                                const std::string& user) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(User u, ResolveUser(t.id, user));
  RETURN_IF_ERROR(store_.SetUserDisabled(t.id, u.id, true));
  // Every edge refuses the user's OAuth access tokens within a poll (docs/signin.md).
  const absl::Time now = clock_.Now();
  RETURN_IF_ERROR(store_.AddRevocation({0, Revocation::Kind::kUser, t.id, u.id, now + kRevocationLifetime}, now));
  u.disabled = true;
  return u;
}

absl::StatusOr<Group> TenantService::CreateGroup(const Caller& caller, const std::string& tenant,
                                                 const std::string& name) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  if (name.empty() || name.size() > 100 || absl::StrContains(name, "@")) {
    return absl::InvalidArgumentError("group name must be 1 to 100 characters and hold no '@'");
  }
  Group g{crypto::NewUuid(), t.id, name, {}};
  absl::Status s = store_.CreateGroup(g);
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("group '", name, "' already exists in this tenant"));
  }
  RETURN_IF_ERROR(s);
  return g;
}

absl::StatusOr<Group> TenantService::SetGroupMember(const Caller& caller, const std::string& tenant,
                                                    const std::string& group,
                                                    const std::string& user, bool member) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(Group g, ResolveGroup(t.id, group));
  ASSIGN_OR_RETURN(User u, ResolveUser(t.id, user));
  RETURN_IF_ERROR(member ? store_.AddGroupMember(t.id, g.id, u.id)
                         : store_.RemoveGroupMember(t.id, g.id, u.id));
  return store_.GetGroupById(t.id, g.id);
}

absl::StatusOr<std::vector<Group>> TenantService::ListGroups(const Caller& caller,
                                                             const std::string& tenant) {
  RETURN_IF_ERROR(ServiceMayRead(caller, {"governance"}));
  Tenant t;
  if (caller.kind == Caller::Kind::kService) {
    ASSIGN_OR_RETURN(t, ResolveTenant(tenant));
  } else {
    ASSIGN_OR_RETURN(t, TenantForAdmin(caller, tenant));
  }
  return store_.ListGroups(t.id);
}

absl::StatusOr<IssuedToken> TenantService::IssueClientToken(const Caller& caller,
                                                            const std::string& tenant,
                                                            const std::string& user,
                                                            ClientType type, const std::string& name,
                                                            std::optional<absl::Time> expires_at) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  ASSIGN_OR_RETURN(User u, ResolveUser(t.id, user));
  if (u.disabled) return absl::FailedPreconditionError("user is disabled; enable them before issuing a token");
  const absl::Time now = clock_.Now();
  if (expires_at.has_value() && *expires_at <= now) {
    return absl::InvalidArgumentError("expires_at must be in the future");
  }
  IssuedToken issued;
  issued.secret = crypto::RandomToken(kClientTokenPrefix);
  ClientToken& tok = issued.token;
  tok.id = crypto::NewUuid();
  tok.tenant_id = t.id;
  tok.user_id = u.id;
  tok.name = name.empty() ? absl::StrCat(ClientTypeName(type), " token") : name;
  tok.client_type = type;
  tok.hint = issued.secret.substr(0, 8);
  tok.created_at = now;
  tok.expires_at = expires_at;
  RETURN_IF_ERROR(store_.CreateToken(tok, TokenHashOf(issued.secret)));
  return issued;
}

absl::StatusOr<std::vector<ClientToken>> TenantService::ListClientTokens(const Caller& caller,
                                                                         const std::string& tenant,
                                                                         const std::string& user) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  std::string user_id;
  if (!user.empty()) {
    ASSIGN_OR_RETURN(User u, ResolveUser(t.id, user));
    user_id = u.id;
  }
  return store_.ListTokens(t.id, user_id);
}

absl::StatusOr<ClientToken> TenantService::RevokeClientToken(const Caller& caller,
                                                             const std::string& tenant,
                                                             const std::string& token_id) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  if (token_id.empty()) return absl::InvalidArgumentError("token_id must not be empty");
  auto revoked = store_.RevokeToken(t.id, token_id, clock_.Now());
  if (revoked.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("client token '", token_id, "' not found in this tenant"));
  }
  return revoked;
}

absl::StatusOr<Identity> TenantService::Lookup(const std::string& token, bool record_use) {
  if (!absl::StartsWith(token, kClientTokenPrefix) || token.size() > 256) {
    return absl::UnauthenticatedError("not a Bastion client token");
  }
  const std::string hash = TokenHashOf(token);
  auto found = store_.FindTokenByHash(hash);
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError("unknown client token");
  }
  RETURN_IF_ERROR(found.status());
  if (!crypto::ConstantTimeEquals(found->token_hash, hash)) {
    return absl::UnauthenticatedError("unknown client token");
  }
  const ClientToken& tok = found->token;
  const absl::Time now = clock_.Now();
  if (tok.revoked_at.has_value()) return absl::UnauthenticatedError("client token was revoked");
  if (tok.expires_at.has_value() && *tok.expires_at <= now) {
    return absl::UnauthenticatedError("client token has expired");
  }
  if (found->user.disabled) return absl::UnauthenticatedError("user is disabled");
  const auto& allowed = found->tenant.settings.allowed_client_types;
  if (std::find(allowed.begin(), allowed.end(), tok.client_type) == allowed.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        ClientTypeName(tok.client_type), " clients are not allowed to connect to this tenant"));
  }
  if (record_use) {
    absl::MutexLock lock(&touch_mu_);
    pending_touches_[tok.id] = now;
  }
  Identity id;
  id.tenant_id = found->tenant.id;
  id.tenant_slug = found->tenant.slug;
  id.user_id = found->user.id;
  id.email = found->user.email;
  id.role = found->user.role;
  id.group_ids = found->user.group_ids;
  id.client_type = tok.client_type;
  id.token_id = tok.id;
  return id;
}

absl::StatusOr<Identity> TenantService::Authenticate(const Caller& caller, const std::string& token) {
  // Each service resolves the bearer tokens of the admins who call it; the edge, its AI clients'.
  RETURN_IF_ERROR(RequireService(caller, {"edge", "vault", "governance"}));
  return Lookup(token, /*record_use=*/true);
}

absl::StatusOr<Caller> TenantService::CallerForToken(const std::string& token) {
  ASSIGN_OR_RETURN(Identity id, Lookup(token, /*record_use=*/true));
  Caller c;
  c.kind = id.role == Role::kAdmin ? Caller::Kind::kTenantAdmin : Caller::Kind::kTenantMember;
  c.tenant_id = id.tenant_id;
  c.user_id = id.user_id;
  return c;
}

absl::Status TenantService::EndSession(const Caller& caller, const std::string& session_hash,
                                       absl::Time expires_at) {
  if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a service identity is required");
  if (caller.kind != Caller::Kind::kService || caller.service != "edge") {
    return absl::PermissionDeniedError("only the edge may end MCP sessions");
  }
  if (session_hash.size() != 64 || !std::all_of(session_hash.begin(), session_hash.end(), [](char c) {
        return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
      })) {
    return absl::InvalidArgumentError("session_hash must be 64 lowercase hex characters (SHA-256)");
  }
  const absl::Time now = clock_.Now();
  if (expires_at <= now) return absl::OkStatus();  // already dead everywhere
  return store_.EndSession(session_hash, expires_at, now);
}

absl::StatusOr<std::vector<EndedSession>> TenantService::ListEndedSessions(const Caller& caller,
                                                                           int64_t after_seq, int limit) {
  if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a service identity is required");
  if (caller.kind != Caller::Kind::kService || caller.service != "edge") {
    return absl::PermissionDeniedError("only the edge may read ended MCP sessions");
  }
  return store_.ListEndedSessions(after_seq, limit <= 0 ? 1000 : std::min(limit, 10000), clock_.Now());
}

absl::Status TenantService::FlushLastUsed() {
  absl::flat_hash_map<std::string, absl::Time> batch;
  {
    absl::MutexLock lock(&touch_mu_);
    batch.swap(pending_touches_);
  }
  if (batch.empty()) return absl::OkStatus();
  absl::Status s = store_.TouchTokens(batch);
  if (!s.ok()) {
    // Keep them for the next flush, unless newer uses replaced them meanwhile.
    absl::MutexLock lock(&touch_mu_);
    for (auto& [id, t] : batch) pending_touches_.try_emplace(id, t);
  }
  return s;
}

}  // namespace bastion::tenant
