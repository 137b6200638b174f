#include "services/tenant/signin_service.h"

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "boost/json.hpp"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "services/tenant/tenant_service.h"

namespace bastion::tenant {
namespace {

constexpr size_t kMaxClientNameChars = 200;
constexpr size_t kMaxRedirectUris = 10;
constexpr size_t kMaxUriChars = 2000;
constexpr size_t kMaxStateChars = 2000;

// OAuth errors: the code is the message prefix; one absl code per OAuth code (signin.proto).
absl::Status InvalidRequest(absl::string_view m) {
  return absl::InvalidArgumentError(absl::StrCat("invalid_request: ", m));
}
absl::Status InvalidScope(absl::string_view m) {
  return absl::InvalidArgumentError(absl::StrCat("invalid_scope: ", m));
}
absl::Status InvalidTarget(absl::string_view m) {
  return absl::InvalidArgumentError(absl::StrCat("invalid_target: ", m));
}
absl::Status InvalidRedirectUri(absl::string_view m) {
  return absl::InvalidArgumentError(absl::StrCat("invalid_redirect_uri: ", m));
}
absl::Status InvalidClientMetadata(absl::string_view m) {
  return absl::InvalidArgumentError(absl::StrCat("invalid_client_metadata: ", m));
}
absl::Status InvalidClient(absl::string_view m) {
  return absl::UnauthenticatedError(absl::StrCat("invalid_client: ", m));
}
absl::Status InvalidGrant(absl::string_view m) {
  return absl::FailedPreconditionError(absl::StrCat("invalid_grant: ", m));
}
absl::Status AccessDenied(absl::string_view m) {
  return absl::PermissionDeniedError(absl::StrCat("access_denied: ", m));
}

absl::Status RequireEdge(const Caller& c) {
  if (c.kind == Caller::Kind::kService && c.service == "edge") return absl::OkStatus();
  if (c.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a service identity is required");
  return absl::PermissionDeniedError("only the edge may call this");
}

std::string HashOf(absl::string_view secret) { return crypto::HexEncode(crypto::Sha256(secret)); }

bool IsLowerHex64(absl::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); });
}

bool IsBase64UrlChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

bool HasControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return absl::ascii_iscntrl(c); });
}

// The parts of an absolute URI this code cares about.
struct UriParts {
  std::string scheme;  // lower-cased
  bool has_authority = false;
  std::string host;  // lower-cased; "[::1]" keeps its brackets
  std::string port;
  std::string rest;  // path, query (and fragment, which callers refuse)
};

std::optional<UriParts> SplitUri(absl::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == absl::string_view::npos || colon == 0) return std::nullopt;
  UriParts p;
  p.scheme = absl::AsciiStrToLower(uri.substr(0, colon));
  if (!absl::ascii_isalpha(p.scheme[0])) return std::nullopt;
  for (char c : p.scheme) {
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  absl::string_view after = uri.substr(colon + 1);
  if (!absl::StartsWith(after, "//")) {
    p.rest = std::string(after);
    return p;
  }
  p.has_authority = true;
  after.remove_prefix(2);
  const size_t end = after.find_first_of("/?#");
  absl::string_view authority = after.substr(0, end);
  p.rest = end == absl::string_view::npos ? "" : std::string(after.substr(end));
  if (absl::StrContains(authority, '@')) return std::nullopt;  // no user info
  absl::string_view host = authority;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    absl::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return std::nullopt;
      p.port = std::string(tail.substr(1));
    }
  } else if (const size_t c = authority.find(':'); c != absl::string_view::npos) {
    host = authority.substr(0, c);
    p.port = std::string(authority.substr(c + 1));
  }
  if (!std::all_of(p.port.begin(), p.port.end(), [](char c) { return absl::ascii_isdigit(c); }) ||
      p.port.size() > 5) {
    return std::nullopt;
  }
  p.host = absl::AsciiStrToLower(host);
  return p;
}

bool IsLoopbackHost(absl::string_view host) {
  return host == "127.0.0.1" || host == "[::1]" || host == "localhost";
}

// https with a host, or http on a loopback host (local runs).
absl::Status CheckWebUrl(absl::string_view what, absl::string_view url) {
  auto parts = SplitUri(url);
  const bool ok = parts.has_value() && parts->has_authority && !parts->host.empty() &&
                  (parts->scheme == "https" || (parts->scheme == "http" && IsLoopbackHost(parts->host)));
  if (!ok || url.size() > kMaxUriChars || HasControl(url) || absl::StrContains(url, ' ')) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be an https URL (http only on 127.0.0.1, [::1] or localhost), e.g. https://login.example.com"));
  }
  if (absl::StrContains(url, '#')) return absl::InvalidArgumentError(absl::StrCat(what, " must not hold a fragment (#)"));
  return absl::OkStatus();
}

absl::Status ValidateDomain(const std::string& d) {
  const bool ok = !d.empty() && d.size() <= 253 && absl::StrContains(d, '.') && d.front() != '.' &&
                  d.back() != '.' && d.front() != '-' &&
                  std::all_of(d.begin(), d.end(), [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '-';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "allowed domain '", d, "' must be a lower-case domain name without '@' (e.g. acme.com)"));
  }
  return absl::OkStatus();
}

// The scope a request asked for, normalized: "mcp" is the only one Bastion knows.
absl::StatusOr<std::string> NormalizeScope(const std::string& scope) {
  std::set<std::string> asked;
  for (absl::string_view s : absl::StrSplit(scope, ' ', absl::SkipEmpty())) asked.insert(std::string(s));
  for (const std::string& s : asked) {
    if (s != kDefaultScope) {
      return InvalidScope(absl::StrCat("unknown scope '", s.substr(0, 100), "'; Bastion offers only \"mcp\""));
    }
  }
  return std::string(kDefaultScope);
}

// The groups the IdP lists under `claim`: an array of strings, or one string. nullopt when the
// token does not carry the claim (then memberships are left alone).
absl::StatusOr<std::optional<std::set<std::string>>> GroupsFromClaims(const std::string& claims_json,
                                                                      const std::string& claim) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(claims_json.empty() ? "{}" : claims_json, ec);
  if (ec || !v.is_object()) return InvalidRequest("claims_json must be the ID token's claims as a JSON object");
  const boost::json::value* groups = v.as_object().if_contains(claim);
  if (groups == nullptr) return std::optional<std::set<std::string>>();
  std::set<std::string> names;
  if (groups->is_string()) {
    names.insert(std::string(groups->as_string()));
  } else if (groups->is_array()) {
    for (const boost::json::value& g : groups->as_array()) {
      if (g.is_string()) names.insert(std::string(g.as_string()));
    }
  } else {
    return AccessDenied(absl::StrCat("the identity provider's '", claim,
                                     "' claim is not a list of group names; ask your administrator to check the "
                                     "groups claim setting"));
  }
  return std::optional<std::set<std::string>>(std::move(names));
}

}  // namespace

absl::Status ValidateSignInPolicy(const SignInPolicy& p) {
  if (!p.issuer.empty()) {
    RETURN_IF_ERROR(CheckWebUrl("issuer", p.issuer));
    if (absl::StrContains(p.issuer, '?')) return absl::InvalidArgumentError("issuer must not hold a query (?)");
  }
  for (const std::string& d : p.allowed_domains) RETURN_IF_ERROR(ValidateDomain(d));
  if (p.groups_claim.size() > 100 || HasControl(p.groups_claim) || absl::StrContains(p.groups_claim, ' ')) {
    return absl::InvalidArgumentError("groups claim must be a claim name of at most 100 characters, e.g. groups");
  }
  return absl::OkStatus();
}

absl::Status ValidateRedirectUri(const std::string& uri) {
  if (uri.empty() || uri.size() > kMaxUriChars || HasControl(uri) || absl::StrContains(uri, ' ')) {
    return InvalidRedirectUri("each redirect URI must be 1 to 2000 characters without spaces");
  }
  if (absl::StrContains(uri, '#')) {
    return InvalidRedirectUri(absl::StrCat("redirect URI '", uri, "' must not hold a fragment (#)"));
  }
  auto p = SplitUri(uri);
  if (!p.has_value()) return InvalidRedirectUri(absl::StrCat("redirect URI '", uri, "' is not an absolute URI"));
  if (p->scheme == "https" && p->has_authority && !p->host.empty()) return absl::OkStatus();
  if (p->scheme == "http" && p->has_authority && IsLoopbackHost(p->host)) return absl::OkStatus();
  // RFC 8252 7.1: native apps use a private-use scheme in reverse domain-name form.
  if (p->scheme != "http" && p->scheme != "https" && absl::StrContains(p->scheme, '.')) return absl::OkStatus();
  return InvalidRedirectUri(absl::StrCat(
      "redirect URI '", uri,
      "' must be https, http on 127.0.0.1, [::1] or localhost, or a private-use scheme such as "
      "com.example.app:/callback"));
}

bool RedirectUriMatches(const std::string& registered, const std::string& presented) {
  if (registered == presented) return true;
  auto r = SplitUri(registered);
  auto p = SplitUri(presented);
  if (!r.has_value() || !p.has_value()) return false;
  // RFC 8252 7.3: the port of a loopback redirect is chosen at run time.
  return r->scheme == "http" && p->scheme == "http" && r->has_authority && p->has_authority &&
         IsLoopbackHost(r->host) && r->host == p->host && r->rest == p->rest;
}

absl::StatusOr<Tenant> SignInService::ResolveTenant(const std::string& ref) {
  if (ref.empty()) return InvalidRequest("tenant must name a tenant id or slug");
  auto by_slug = tenants_.GetTenantBySlug(ref);
  if (by_slug.ok() || by_slug.status().code() != absl::StatusCode::kNotFound) return by_slug;
  auto by_id = tenants_.GetTenantById(ref);
  if (by_id.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
  }
  return by_id;
}

absl::StatusOr<Tenant> SignInService::TenantForAdmin(const Caller& caller, const std::string& ref) {
  switch (caller.kind) {
    case Caller::Kind::kNone:
      return absl::UnauthenticatedError("a bearer token is required");
    case Caller::Kind::kService:
      // A service identity is not a person: it never administers a tenant.
      return absl::PermissionDeniedError("this needs a tenant admin or the operator, not a service identity");
    case Caller::Kind::kTenantMember:
      return absl::PermissionDeniedError("this needs a tenant admin or the operator");
    case Caller::Kind::kOperator:
    case Caller::Kind::kTenantAdmin:
      break;
  }
  if (ref.empty()) return absl::InvalidArgumentError("tenant must name a tenant id or slug");
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(ref));
  if (caller.kind == Caller::Kind::kTenantAdmin && caller.tenant_id != t.id) {
    return absl::NotFoundError(absl::StrCat("tenant '", ref, "' not found"));
  }
  return t;
}

absl::StatusOr<SignInPolicy> SignInService::GetPolicy(const Caller& caller, const std::string& tenant) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  auto policy = store_.GetPolicy(t.id);
  if (policy.status().code() == absl::StatusCode::kNotFound) {
    SignInPolicy none;
    none.tenant_id = t.id;
    return none;
  }
  return policy;
}

absl::StatusOr<SignInPolicy> SignInService::SetPolicy(const Caller& caller, const std::string& tenant,
                                                      SignInPolicy policy) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  RETURN_IF_ERROR(ValidateSignInPolicy(policy));
  std::sort(policy.allowed_domains.begin(), policy.allowed_domains.end());
  policy.allowed_domains.erase(std::unique(policy.allowed_domains.begin(), policy.allowed_domains.end()),
                               policy.allowed_domains.end());
  policy.tenant_id = t.id;
  policy.updated_at = clock_.Now();
  RETURN_IF_ERROR(store_.PutPolicy(policy));
  return policy;
}

absl::StatusOr<std::vector<OAuthGrant>> SignInService::ListGrants(const Caller& caller, const std::string& tenant,
                                                                  const std::string& user, bool include_revoked) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  std::string user_id;
  if (!user.empty()) {
    auto u = absl::StrContains(user, "@") ? tenants_.GetUserByEmail(t.id, absl::AsciiStrToLower(user))
                                          : tenants_.GetUserById(t.id, user);
    if (u.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("user '", user, "' not found in this tenant"));
    }
    RETURN_IF_ERROR(u.status());
    user_id = u->id;
  }
  return store_.ListGrants(t.id, user_id, include_revoked);
}

absl::Status SignInService::RevokeAndAnnounce(const std::string& tenant_id, const std::string& grant_id,
                                              const std::string& reason) {
  const absl::Time now = clock_.Now();
  RETURN_IF_ERROR(store_.RevokeGrant(tenant_id, grant_id, reason, now).status());
  return tenants_.AddRevocation({0, Revocation::Kind::kGrant, tenant_id, grant_id, now + kRevocationLifetime},
                                now);
}

absl::StatusOr<OAuthGrant> SignInService::RevokeGrant(const Caller& caller, const std::string& tenant,
                                                      const std::string& grant_id) {
  ASSIGN_OR_RETURN(Tenant t, TenantForAdmin(caller, tenant));
  if (grant_id.empty()) return absl::InvalidArgumentError("grant id must not be empty");
  auto found = store_.GetGrant(t.id, grant_id);
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("grant '", grant_id, "' not found in this tenant"));
  }
  RETURN_IF_ERROR(found.status());
  RETURN_IF_ERROR(RevokeAndAnnounce(t.id, grant_id, "admin"));
  return store_.GetGrant(t.id, grant_id);
}

absl::StatusOr<OAuthClient> SignInService::RegisterClient(const Caller& caller, const RegisterClientRequest& req) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(req.tenant));
  if (req.client_name.size() > kMaxClientNameChars || HasControl(req.client_name)) {
    return InvalidClientMetadata("client_name must be at most 200 characters without control characters");
  }
  if (req.redirect_uris.empty() || req.redirect_uris.size() > kMaxRedirectUris) {
    return InvalidRedirectUri("register 1 to 10 redirect_uris");
  }
  for (const std::string& uri : req.redirect_uris) RETURN_IF_ERROR(ValidateRedirectUri(uri));
  for (const std::string* uri : {&req.client_uri, &req.logo_uri}) {
    if (!uri->empty() && !CheckWebUrl("client_uri and logo_uri", *uri).ok()) {
      return InvalidClientMetadata("client_uri and logo_uri must be https URLs");
    }
  }
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(int since_hour, store_.CountRegistrationsSince(t.id, now - absl::Hours(1)));
  if (since_hour >= options_.max_registrations_per_hour) {
    return absl::ResourceExhaustedError(
        "too many client registrations for this tenant in the last hour; try again later");
  }
  ASSIGN_OR_RETURN(int live, store_.CountLiveRegistrations(t.id, now));
  if (live >= options_.max_live_registrations) {
    return absl::ResourceExhaustedError(
        "this tenant has too many unused client registrations; try again once some expire");
  }
  OAuthClient c;
  c.client_id = crypto::NewUuid();
  c.tenant_id = t.id;
  c.client_name = req.client_name;
  c.redirect_uris = req.redirect_uris;
  c.kind = OAuthClientKind::kRegistration;
  c.client_uri = req.client_uri;
  c.logo_uri = req.logo_uri;
  c.created_at = now;
  c.expires_at = now + options_.registration_ttl;
  RETURN_IF_ERROR(store_.CreateClient(c, now));
  return c;
}

absl::StatusOr<OAuthClient> SignInService::PutMetadataDocumentClient(const Caller& caller, const std::string& tenant,
                                                                     OAuthClient c) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(tenant));
  auto id = SplitUri(c.client_id);
  if (!id.has_value() || id->scheme != "https" || !CheckWebUrl("client_id", c.client_id).ok()) {
    return InvalidClientMetadata("a metadata document's client_id must be its https URL");
  }
  if (c.client_name.size() > kMaxClientNameChars || HasControl(c.client_name)) {
    return InvalidClientMetadata("client_name must be at most 200 characters without control characters");
  }
  if (c.redirect_uris.empty() || c.redirect_uris.size() > kMaxRedirectUris) {
    return InvalidRedirectUri("a client metadata document must list 1 to 10 redirect_uris");
  }
  for (const std::string& uri : c.redirect_uris) RETURN_IF_ERROR(ValidateRedirectUri(uri));
  const absl::Time now = clock_.Now();
  if (c.expires_at <= now) return InvalidRequest("expires_at must be in the future");
  c.tenant_id = t.id;
  c.kind = OAuthClientKind::kMetadataDocument;
  c.created_at = now;
  RETURN_IF_ERROR(store_.PutClient(c));
  return c;
}

absl::StatusOr<OAuthClient> SignInService::LiveClient(const std::string& tenant_id, const std::string& client_id) {
  if (client_id.empty()) return InvalidRequest("client_id is required");
  auto c = store_.GetClient(tenant_id, client_id, clock_.Now());
  if (c.status().code() == absl::StatusCode::kNotFound) {
    return InvalidClient("unknown or expired client_id; register the client again");
  }
  return c;
}

absl::StatusOr<OAuthClient> SignInService::GetClient(const Caller& caller, const std::string& tenant,
                                                     const std::string& client_id) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(tenant));
  return LiveClient(t.id, client_id);
}

absl::StatusOr<PendingAuthorization> SignInService::BeginAuthorization(const Caller& caller,
                                                                       const BeginAuthorizationRequest& req) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(req.tenant));
  ASSIGN_OR_RETURN(OAuthClient client, LiveClient(t.id, req.client_id));
  if (std::none_of(client.redirect_uris.begin(), client.redirect_uris.end(),
                   [&](const std::string& r) { return RedirectUriMatches(r, req.redirect_uri); })) {
    return InvalidRequest("redirect_uri is not one this client registered");
  }
  if (req.code_challenge_method != "S256") {
    return InvalidRequest("PKCE is required with code_challenge_method=S256");
  }
  if (req.code_challenge.size() != 43 ||
      !std::all_of(req.code_challenge.begin(), req.code_challenge.end(), IsBase64UrlChar)) {
    return InvalidRequest("code_challenge must be the 43-character base64url SHA-256 of the code verifier");
  }
  if (req.resource.empty()) return InvalidTarget("resource is required: the MCP server URL the token is for");
  if (req.server.empty()) return InvalidTarget("server is required");
  if (!CheckWebUrl("resource", req.resource).ok() ||
      !absl::EndsWith(req.resource, absl::StrCat("/mcp/", t.slug, "/", req.server))) {
    return InvalidTarget("resource must be this tenant's MCP URL for the server, e.g. https://<bastion>/mcp/<tenant>/<server>");
  }
  ASSIGN_OR_RETURN(std::string scope, NormalizeScope(req.scope));
  if (req.state.size() > kMaxStateChars) return InvalidRequest("state must be at most 2000 characters");
  if (!IsLowerHex64(req.browser_binding)) {
    return InvalidRequest("browser_binding must be 64 lowercase hex characters (SHA-256)");
  }
  if (!t.active) return AccessDenied(kActivationRequiredMessage);
  const absl::Time now = clock_.Now();
  PendingAuthorization p;
  p.id = crypto::RandomToken("", 32);
  p.tenant_id = t.id;
  p.client_id = client.client_id;
  p.redirect_uri = req.redirect_uri;
  p.code_challenge = req.code_challenge;
  p.state = req.state;
  p.resource = req.resource;
  p.server = req.server;
  p.scope = scope;
  p.browser_binding = req.browser_binding;
  p.created_at = now;
  p.expires_at = now + options_.pending_ttl;
  RETURN_IF_ERROR(store_.CreatePending(p, now));
  return p;
}

absl::Status SignInService::SyncGroups(const Tenant& t, const SignInPolicy& policy, const User& user,
                                       const std::string& claims_json) {
  if (policy.groups_claim.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto names, GroupsFromClaims(claims_json, policy.groups_claim));
  if (!names.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<Group> groups, tenants_.ListGroups(t.id));
  for (const Group& g : groups) {
    const bool wanted = names->count(g.name) > 0;
    const bool member =
        std::find(g.member_user_ids.begin(), g.member_user_ids.end(), user.id) != g.member_user_ids.end();
    if (wanted && !member) RETURN_IF_ERROR(tenants_.AddGroupMember(t.id, g.id, user.id));
    if (!wanted && member) RETURN_IF_ERROR(tenants_.RemoveGroupMember(t.id, g.id, user.id));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConsentPrompt> SignInService::CompleteSignIn(const Caller& caller, const VerifiedSignIn& in) {
  RETURN_IF_ERROR(RequireEdge(caller));
  const absl::Time now = clock_.Now();
  auto pending = store_.GetPending(in.authorization_id);
  if (pending.status().code() == absl::StatusCode::kNotFound || (pending.ok() && pending->expires_at <= now)) {
    return InvalidRequest("this sign-in has expired or is unknown; start again from your AI client");
  }
  RETURN_IF_ERROR(pending.status());
  if (!crypto::ConstantTimeEquals(pending->browser_binding, in.browser_binding)) {
    return InvalidRequest("finish the sign-in in the same browser that started it");
  }
  if (!pending->user_id.empty()) return InvalidRequest("this sign-in was already completed; start again from your AI client");
  ASSIGN_OR_RETURN(Tenant t, tenants_.GetTenantById(pending->tenant_id));
  auto policy = store_.GetPolicy(t.id);
  if (policy.status().code() == absl::StatusCode::kNotFound || (policy.ok() && policy->issuer.empty())) {
    return AccessDenied("sign-in with an identity provider is not set up for this tenant; ask your administrator");
  }
  RETURN_IF_ERROR(policy.status());
  if (in.issuer != policy->issuer) {
    return AccessDenied("the identity provider that signed you in is not the one this tenant uses; ask your administrator");
  }
  if (!in.email_verified) {
    return AccessDenied("your identity provider has not verified your email address, so Bastion cannot tell who you are");
  }
  const std::string email = absl::AsciiStrToLower(in.email);
  if (!ValidateEmail(email).ok()) return AccessDenied("your identity provider sent no usable email address");
  const std::string domain = email.substr(email.find('@') + 1);
  const auto& allowed = policy->allowed_domains;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), domain) == allowed.end()) {
    return AccessDenied(absl::StrCat("people with ", domain, " addresses may not sign in to this tenant"));
  }
  auto user = tenants_.GetUserByEmail(t.id, email);
  if (user.status().code() == absl::StatusCode::kNotFound) {
    if (!policy->jit_users) {
      return AccessDenied(absl::StrCat("there is no Bastion user ", email,
                                       " in this tenant; ask your administrator to add you"));
    }
    User u;
    u.id = crypto::NewUuid();
    u.tenant_id = t.id;
    u.email = email;
    u.display_name = in.name.empty() || in.name.size() > 200 || HasControl(in.name) ? email : in.name;
    u.role = Role::kMember;
    u.created_at = now;
    absl::Status created = tenants_.CreateUser(u);
    if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) return created;
    user = tenants_.GetUserByEmail(t.id, email);  // a concurrent first sign-in may have made it
  }
  RETURN_IF_ERROR(user.status());
  if (user->disabled) return AccessDenied("your Bastion user is disabled; ask your administrator");
  RETURN_IF_ERROR(SyncGroups(t, *policy, *user, in.claims_json));
  ASSIGN_OR_RETURN(OAuthClient client, LiveClient(t.id, pending->client_id));

  ConsentPrompt prompt;
  prompt.authorization_id = pending->id;
  prompt.consent_token = crypto::RandomToken("", 32);
  absl::Status set = store_.SetPendingUser(pending->id, user->id, HashOf(prompt.consent_token));
  if (set.code() == absl::StatusCode::kFailedPrecondition || set.code() == absl::StatusCode::kNotFound) {
    return InvalidRequest("this sign-in was already completed; start again from your AI client");
  }
  RETURN_IF_ERROR(set);
  ASSIGN_OR_RETURN(prompt.user, tenants_.GetUserById(t.id, user->id));
  prompt.client = std::move(client);
  prompt.redirect_uri = pending->redirect_uri;
  prompt.tenant_slug = t.slug;
  prompt.server = pending->server;
  return prompt;
}

absl::StatusOr<ConsentDecision> SignInService::DecideConsent(const Caller& caller, const std::string& authorization_id,
                                                             const std::string& consent_token,
                                                             const std::string& browser_binding, bool approve) {
  RETURN_IF_ERROR(RequireEdge(caller));
  const absl::Time now = clock_.Now();
  auto pending = store_.GetPending(authorization_id);
  if (pending.status().code() == absl::StatusCode::kNotFound || (pending.ok() && pending->expires_at <= now)) {
    return InvalidRequest("this sign-in has expired or was already decided; start again from your AI client");
  }
  RETURN_IF_ERROR(pending.status());
  if (!crypto::ConstantTimeEquals(pending->browser_binding, browser_binding)) {
    return InvalidRequest("finish the sign-in in the same browser that started it");
  }
  if (pending->user_id.empty() || consent_token.empty() ||
      !crypto::ConstantTimeEquals(pending->consent_token_hash, HashOf(consent_token))) {
    return InvalidRequest("this consent form is not the one Bastion showed; start again from your AI client");
  }
  absl::Status consumed = store_.ConsumePending(pending->id, pending->consent_token_hash);
  if (consumed.code() == absl::StatusCode::kNotFound) {
    return InvalidRequest("this sign-in was already decided; start again from your AI client");
  }
  RETURN_IF_ERROR(consumed);
  ConsentDecision d;
  d.redirect_uri = pending->redirect_uri;
  d.state = pending->state;
  if (!approve) {
    d.error = "access_denied";
    return d;
  }
  const std::string code = crypto::RandomToken("", 32);
  AuthorizationCode c;
  c.code_hash = HashOf(code);
  c.tenant_id = pending->tenant_id;
  c.client_id = pending->client_id;
  c.redirect_uri = pending->redirect_uri;
  c.code_challenge = pending->code_challenge;
  c.resource = pending->resource;
  c.scope = pending->scope;
  c.user_id = pending->user_id;
  c.grant_id = crypto::NewUuid();
  c.created_at = now;
  c.expires_at = now + options_.code_ttl;
  RETURN_IF_ERROR(store_.CreateCode(c));
  d.code = code;
  return d;
}

absl::StatusOr<TokenGrant> SignInService::IssueRefreshToken(const Tenant& t, const User& user, const OAuthGrant& grant) {
  const absl::Time now = clock_.Now();
  TokenGrant out;
  out.refresh_token = crypto::RandomToken(kRefreshTokenPrefix, 32);
  out.refresh_expires_at = now + options_.refresh_ttl;
  RETURN_IF_ERROR(store_.CreateRefreshToken({HashOf(out.refresh_token), grant.id, t.id, now, out.refresh_expires_at, {}}));
  RETURN_IF_ERROR(store_.ExtendClient(t.id, grant.client_id, out.refresh_expires_at));
  out.grant_id = grant.id;
  out.client_id = grant.client_id;
  out.resource = grant.resource;
  out.scope = grant.scope;
  Identity& id = out.identity;
  id.tenant_id = t.id;
  id.tenant_slug = t.slug;
  id.user_id = user.id;
  id.email = user.email;
  id.role = user.role;
  id.group_ids = user.group_ids;
  id.client_type = ClientType::kPersonal;
  id.token_id = grant.id;
  return out;
}

absl::Status SignInService::RevokeCodeGrant(const AuthorizationCode& code) {
  const absl::Time now = clock_.Now();
  auto revoked = store_.RevokeGrant(code.tenant_id, code.grant_id, "code_reuse", now);
  if (revoked.status().code() == absl::StatusCode::kNotFound) {
    // The first redemption has not created its grant (yet): a revoked one in its place stops it.
    OAuthGrant tombstone;
    tombstone.id = code.grant_id;
    tombstone.tenant_id = code.tenant_id;
    tombstone.user_id = code.user_id;
    tombstone.client_id = code.client_id;
    tombstone.resource = code.resource;
    tombstone.scope = code.scope;
    tombstone.created_at = now;
    tombstone.revoked_at = now;
    tombstone.revoked_reason = "code_reuse";
    absl::Status created = store_.CreateGrant(tombstone);
    if (created.code() == absl::StatusCode::kAlreadyExists) {
      revoked = store_.RevokeGrant(code.tenant_id, code.grant_id, "code_reuse", now);
    } else {
      revoked = created.ok() ? absl::StatusOr<OAuthGrant>(tombstone) : absl::StatusOr<OAuthGrant>(created);
    }
  }
  RETURN_IF_ERROR(revoked.status());
  return tenants_.AddRevocation(
      {0, Revocation::Kind::kGrant, code.tenant_id, code.grant_id, now + kRevocationLifetime}, now);
}

absl::StatusOr<TokenGrant> SignInService::RedeemCode(const Caller& caller, const RedeemCodeRequest& req) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(req.tenant));
  if (req.code.empty() || req.code.size() > 256) return InvalidRequest("code is required");
  const std::string hash = HashOf(req.code);
  auto code = store_.GetCode(hash);
  if (code.status().code() == absl::StatusCode::kNotFound || (code.ok() && code->tenant_id != t.id)) {
    return InvalidGrant("unknown authorization code");
  }
  RETURN_IF_ERROR(code.status());
  const absl::Time now = clock_.Now();
  if (code->redemptions > 0) {
    // RFC 6749 4.1.2: a code used twice revokes what it was exchanged for.
    RETURN_IF_ERROR(RevokeCodeGrant(*code));
    return InvalidGrant("this authorization code was already used; the sign-in it started is revoked");
  }
  if (code->expires_at <= now) return InvalidGrant("the authorization code has expired; sign in again");
  if (req.client_id != code->client_id) return InvalidGrant("the authorization code was issued to another client");
  if (req.redirect_uri != code->redirect_uri) {
    return InvalidGrant("redirect_uri differs from the one in the authorization request");
  }
  if (req.resource.empty()) return InvalidTarget("resource is required: the MCP server URL the token is for");
  if (req.resource != code->resource) return InvalidTarget("resource differs from the one the user authorized");
  if (req.code_verifier.size() < 43 || req.code_verifier.size() > 128 ||
      !std::all_of(req.code_verifier.begin(), req.code_verifier.end(),
                   [](char c) { return IsBase64UrlChar(c) || c == '.' || c == '~'; })) {
    return InvalidGrant("code_verifier must be 43 to 128 unreserved characters (RFC 7636)");
  }
  if (!crypto::ConstantTimeEquals(crypto::Base64UrlEncode(crypto::Sha256(req.code_verifier)), code->code_challenge)) {
    return InvalidGrant("code_verifier does not match the code_challenge (PKCE)");
  }
  ASSIGN_OR_RETURN(int redemptions, store_.RedeemCode(hash));
  if (redemptions > 1) {
    RETURN_IF_ERROR(RevokeCodeGrant(*code));
    return InvalidGrant("this authorization code was already used; the sign-in it started is revoked");
  }
  if (!t.active) return InvalidGrant("AI access is not active for this tenant");
  auto user = tenants_.GetUserById(t.id, code->user_id);
  if (user.status().code() == absl::StatusCode::kNotFound || (user.ok() && user->disabled)) {
    return InvalidGrant("the user is disabled or gone");
  }
  RETURN_IF_ERROR(user.status());
  // The client was live at /authorize a minute ago; a metadata document's cache may have lapsed
  // since, which must not fail the exchange.
  auto client = store_.GetClient(t.id, code->client_id, now);
  if (!client.ok() && client.status().code() != absl::StatusCode::kNotFound) return client.status();
  OAuthGrant g;
  g.id = code->grant_id;
  g.tenant_id = t.id;
  g.user_id = user->id;
  g.client_id = code->client_id;
  g.client_name = client.ok() ? client->client_name : code->client_id;
  g.resource = code->resource;
  g.scope = code->scope;
  g.created_at = now;
  g.last_used_at = now;
  absl::Status created = store_.CreateGrant(g);
  if (created.code() == absl::StatusCode::kAlreadyExists) {
    return InvalidGrant("this authorization code was already used; the sign-in it started is revoked");
  }
  RETURN_IF_ERROR(created);
  return IssueRefreshToken(t, *user, g);
}

absl::StatusOr<TokenGrant> SignInService::RefreshGrant(const Caller& caller, const RefreshGrantRequest& req) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(req.tenant));
  if (!absl::StartsWith(req.refresh_token, kRefreshTokenPrefix) || req.refresh_token.size() > 256) {
    return InvalidGrant("not a Bastion refresh token");
  }
  const std::string hash = HashOf(req.refresh_token);
  auto token = store_.GetRefreshToken(hash);
  if (token.status().code() == absl::StatusCode::kNotFound || (token.ok() && token->tenant_id != t.id)) {
    return InvalidGrant("unknown refresh token");
  }
  RETURN_IF_ERROR(token.status());
  ASSIGN_OR_RETURN(OAuthGrant grant, store_.GetGrant(t.id, token->grant_id));
  if (req.client_id != grant.client_id) return InvalidGrant("the refresh token was issued to another client");
  if (grant.revoked_at.has_value()) return InvalidGrant("this sign-in was revoked; sign in again");
  const absl::Time now = clock_.Now();
  if (token->retired_at.has_value()) {
    // A retired token came back: someone holds a copy. End the whole family.
    RETURN_IF_ERROR(RevokeAndAnnounce(t.id, grant.id, "refresh_token_reuse"));
    return InvalidGrant("this refresh token was already used; the sign-in is revoked, sign in again");
  }
  if (token->expires_at <= now) return InvalidGrant("the refresh token has expired; sign in again");
  if (!req.resource.empty() && req.resource != grant.resource) {
    return InvalidTarget("resource differs from the one the user authorized");
  }
  if (!t.active) return InvalidGrant("AI access is not active for this tenant");
  auto user = tenants_.GetUserById(t.id, grant.user_id);
  if (user.status().code() == absl::StatusCode::kNotFound || (user.ok() && user->disabled)) {
    return InvalidGrant("the user is disabled or gone");
  }
  RETURN_IF_ERROR(user.status());
  ASSIGN_OR_RETURN(bool retired, store_.RetireRefreshToken(hash, now));
  if (!retired) {
    RETURN_IF_ERROR(RevokeAndAnnounce(t.id, grant.id, "refresh_token_reuse"));
    return InvalidGrant("this refresh token was already used; the sign-in is revoked, sign in again");
  }
  RETURN_IF_ERROR(store_.TouchGrant(grant.id, now));
  return IssueRefreshToken(t, *user, grant);
}

absl::Status SignInService::RevokeToken(const Caller& caller, const RevokeTokenRequest& req) {
  RETURN_IF_ERROR(RequireEdge(caller));
  ASSIGN_OR_RETURN(Tenant t, ResolveTenant(req.tenant));
  std::string grant_id = req.grant_id;
  if (!req.refresh_token.empty()) {
    auto token = store_.GetRefreshToken(HashOf(req.refresh_token));
    // RFC 7009 2.2: an unknown token is not an error.
    if (token.status().code() == absl::StatusCode::kNotFound || (token.ok() && token->tenant_id != t.id)) {
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(token.status());
    grant_id = token->grant_id;
  } else if (grant_id.empty()) {
    return InvalidRequest("name the token to revoke");
  }
  auto grant = store_.GetGrant(t.id, grant_id);
  if (grant.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  RETURN_IF_ERROR(grant.status());
  // Another client's token is left alone, and the caller learns nothing about it.
  if (grant->client_id != req.client_id || grant->revoked_at.has_value()) return absl::OkStatus();
  return RevokeAndAnnounce(t.id, grant->id, "user");
}

absl::StatusOr<std::vector<Revocation>> SignInService::ListRevocations(const Caller& caller, int64_t after_seq,
                                                                       int limit) {
  RETURN_IF_ERROR(RequireEdge(caller));
  return tenants_.ListRevocations(after_seq, limit <= 0 ? 1000 : std::min(limit, 10000), clock_.Now());
}

}  // namespace bastion::tenant
