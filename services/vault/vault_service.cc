#include "services/vault/vault_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace bastion::vault {
namespace {

using auth::Caller;

constexpr char kUnknownStateMessage[] =
    "This authorization link is not valid or was already used. Start the authorization again.";
constexpr char kExpiredStateMessage[] =
    "This authorization link expired (links are good for 10 minutes). Start the authorization "
    "again.";
constexpr char kCodeRejectedMessage[] =
    "PagerDuty did not accept the authorization code (it is wrong, expired or already used). "
    "Start the authorization again.";

const char* SecretField(AuthMode mode) {
  return mode == AuthMode::kApiKey ? "api_key" : "client_secret";
}

const char* ModeLabel(AuthMode mode) { return mode == AuthMode::kApiKey ? "api_key" : "oauth"; }

bool HasSpaceOrControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c)) ||
           absl::ascii_iscntrl(static_cast<unsigned char>(c));
  });
}

// Metadata only: what admin replies may carry.
Credential WithoutSecret(Credential c) {
  c.secret_sealed.clear();
  return c;
}

UserGrant WithoutTokens(UserGrant g) {
  g.access_token_sealed.clear();
  g.refresh_token_sealed.clear();
  return g;
}

absl::Status NoServiceOnAdminApi(const Caller& caller) {
  if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  if (caller.kind == Caller::Kind::kService) {
    return absl::PermissionDeniedError("services may not call this API");
  }
  return absl::OkStatus();
}

absl::Status RequireService(const Caller& caller, const char* service, const char* what) {
  if (caller.is_service(service)) return absl::OkStatus();
  if (caller.kind == Caller::Kind::kNone) {
    return absl::UnauthenticatedError("a service identity is required");
  }
  return absl::PermissionDeniedError(absl::StrCat("only the ", service, " service may ", what));
}

}  // namespace

absl::Status ValidateServerName(const std::string& server) {
  if (server.empty()) return absl::InvalidArgumentError("server must name the tenant's server (e.g. pagerduty)");
  bool ok = server.size() <= 63 &&
            (absl::ascii_islower(server[0]) || absl::ascii_isdigit(server[0]));
  for (char c : server) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "server must be 1 to 63 lowercase letters, digits, '-' or '_' (e.g. pagerduty)");
  }
  return absl::OkStatus();
}

absl::Status ValidateSecret(const std::string& secret, const char* what) {
  if (secret.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " must not be empty"));
  if (secret.size() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is longer than 4096 characters"));
  }
  if (HasSpaceOrControl(secret)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must not contain spaces or control characters (was a newline pasted with it?)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEmail(const std::string& email) {
  const size_t at = email.find('@');
  const bool ok = !email.empty() && email.size() <= 254 && at != std::string::npos && at > 0 &&
                  email.find('@', at + 1) == std::string::npos &&
                  email.find('.', at + 2) != std::string::npos && email.back() != '.' &&
                  !HasSpaceOrControl(email);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("'", email, "' is not a valid email address"));
  }
  return absl::OkStatus();
}

absl::Status ValidateScopes(const std::vector<std::string>& scopes, OAuthFlavor flavor) {
  if (scopes.empty()) return absl::InvalidArgumentError("scopes must name at least one OAuth scope");
  for (const std::string& s : scopes) {
    if (s.empty() || s.size() > 128 || HasSpaceOrControl(s)) {
      return absl::InvalidArgumentError(
          "each scope must be one word of at most 128 characters, e.g. incidents.read");
    }
    if (flavor == OAuthFlavor::kClassic && s != "read" && s != "write") {
      return absl::InvalidArgumentError(absl::StrCat(
          "a classic OAuth app's scopes are read and write; '", s,
          "' looks like a scoped app's scope (use flavor scoped)"));
    }
  }
  return absl::OkStatus();
}

std::string SecretHint(const std::string& secret) {
  // Four characters of a short secret would give away too much of it.
  if (secret.size() < 12) return "";
  return secret.substr(secret.size() - 4);
}

VaultService::Stats::Stats(metrics::Registry& registry)
    : upstream(metrics::BuildCounter()
                   .Name("bastion_vault_upstream_credentials_total")
                   .Help("Upstream credentials handed to the edge, by mode and outcome.")
                   .Register(registry)),
      refreshes(metrics::BuildCounter()
                    .Name("bastion_vault_oauth_refreshes_total")
                    .Help("OAuth access-token refreshes, by outcome.")
                    .Register(registry)),
      authorizations(metrics::BuildCounter()
                         .Name("bastion_vault_user_authorizations_total")
                         .Help("Per-user OAuth authorizations, by step and outcome.")
                         .Register(registry)),
      verifications(metrics::BuildCounter()
                        .Name("bastion_vault_verifications_total")
                        .Help("Credential checks against PagerDuty, by result.")
                        .Register(registry)),
      kek_rotations(metrics::BuildCounter()
                        .Name("bastion_vault_kek_rotations_total")
                        .Help("RotateKek runs, by outcome.")
                        .Register(registry)) {}

VaultService::VaultService(VaultStore& store, Envelope& envelope, tenant::TenantClient& tenants,
                           http::HttpClient& http, const Clock& clock, metrics::Registry& registry,
                           VaultOptions options)
    : store_(store),
      envelope_(envelope),
      tenants_(tenants),
      http_(http),
      clock_(clock),
      options_(std::move(options)),
      oauth_(http, options_.token_url, options_.http_timeout),
      stats_(registry),
      directory_(tenants, clock, options_.tenant_cache_ttl) {}

absl::StatusOr<Credential> VaultService::FindCredential(const TenantInfo& t,
                                                        const std::string& server) {
  RETURN_IF_ERROR(ValidateServerName(server));
  auto c = store_.GetCredential(t.id, server);
  if (c.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("no credential is set for server '", server, "' in this tenant"));
  }
  return c;
}

absl::StatusOr<tenant::v1::User> VaultService::ResolveUser(const TenantInfo& t,
                                                           const std::string& user) {
  if (user.empty()) return absl::InvalidArgumentError("user must name a user id or email");
  auto u = tenants_.GetUser(t.id, user);
  if (u.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("user '", user, "' not found in this tenant"));
  }
  if (!u.ok()) {
    log::Warn("cannot resolve a user through the tenant service", {{"error", u.status().message()}});
    return absl::UnavailableError("cannot reach the tenant service right now; retry");
  }
  return u;
}

absl::StatusOr<crypto::SecretString> VaultService::OpenCredentialSecret(const Credential& c) {
  return envelope_.Open(c.tenant_id, CredentialAad(c.tenant_id, c.id, SecretField(c.mode)),
                        c.secret_sealed);
}

absl::StatusOr<Credential> VaultService::Store(const TenantInfo& t, Credential c,
                                               const std::string& secret) {
  const absl::Time now = clock_.Now();
  auto existing = store_.GetCredential(t.id, c.server);
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }
  const bool replace = existing.ok();
  c.tenant_id = t.id;
  c.id = replace ? existing->id : crypto::NewUuid();
  c.created_at = replace ? existing->created_at : now;
  if (replace) c.rotated_at = now;
  c.secret_hint = SecretHint(secret);
  ASSIGN_OR_RETURN(c.secret_sealed,
                   envelope_.Seal(t.id, CredentialAad(t.id, c.id, SecretField(c.mode)), secret));
  if (!replace) {
    c.version = 1;
    absl::Status s = store_.InsertCredential(c);
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AbortedError("another request set this credential at the same time; retry");
    }
    RETURN_IF_ERROR(s);
    return WithoutSecret(std::move(c));
  }
  // Grants were issued to the old OAuth client: they cannot be refreshed with another one.
  const bool drop_grants = existing->mode != c.mode || existing->client_id != c.client_id;
  ASSIGN_OR_RETURN(Credential out, store_.UpdateCredential(c, existing->version, drop_grants));
  return WithoutSecret(std::move(out));
}

absl::StatusOr<Credential> VaultService::PutApiKeyCredential(const Caller& caller,
                                                             const std::string& tenant,
                                                             const std::string& server,
                                                             const std::string& api_key,
                                                             const std::string& actor_email,
                                                             Access access, Region region) {
  ASSIGN_OR_RETURN(TenantInfo t, directory_.AdminTenant(caller, tenant));
  RETURN_IF_ERROR(ValidateServerName(server));
  RETURN_IF_ERROR(ValidateSecret(api_key, "api_key"));
  RETURN_IF_ERROR(ValidateEmail(actor_email));
  Credential c;
  c.server = server;
  c.mode = AuthMode::kApiKey;
  c.region = region;
  c.actor_email = absl::AsciiStrToLower(actor_email);
  c.access = access;
  ASSIGN_OR_RETURN(Credential out, Store(t, std::move(c), api_key));
  log::Info("stored an API key credential", {{"tenant_id", t.id},
                                             {"server", server},
                                             {"version", static_cast<long long>(out.version)},
                                             {"actor", caller.Actor()}});
  return out;
}

absl::StatusOr<Credential> VaultService::PutOAuthApp(const Caller& caller, const std::string& tenant,
                                                     const std::string& server,
                                                     const std::string& client_id,
                                                     const std::string& client_secret,
                                                     const std::vector<std::string>& scopes,
                                                     OAuthFlavor flavor, Region region) {
  ASSIGN_OR_RETURN(TenantInfo t, directory_.AdminTenant(caller, tenant));
  RETURN_IF_ERROR(ValidateServerName(server));
  if (client_id.empty() || client_id.size() > 256 || HasSpaceOrControl(client_id)) {
    return absl::InvalidArgumentError(
        "client_id must be the OAuth app's client id: one word of at most 256 characters");
  }
  RETURN_IF_ERROR(ValidateSecret(client_secret, "client_secret"));
  RETURN_IF_ERROR(ValidateScopes(scopes, flavor));
  Credential c;
  c.server = server;
  c.mode = AuthMode::kOAuth;
  c.region = region;
  c.client_id = client_id;
  for (const std::string& s : scopes) {
    if (std::find(c.scopes.begin(), c.scopes.end(), s) == c.scopes.end()) c.scopes.push_back(s);
  }
  c.flavor = flavor;
  ASSIGN_OR_RETURN(Credential out, Store(t, std::move(c), client_secret));
  log::Info("stored an OAuth app credential", {{"tenant_id", t.id},
                                               {"server", server},
                                               {"version", static_cast<long long>(out.version)},
                                               {"actor", caller.Actor()}});
  return out;
}

absl::StatusOr<Credential> VaultService::GetCredentialInfo(const Caller& caller,
                                                           const std::string& tenant,
                                                           const std::string& server) {
  TenantInfo t;
  if (caller.is_service("governance")) {
    ASSIGN_OR_RETURN(t, directory_.Resolve(tenant));
  } else {
    ASSIGN_OR_RETURN(t, directory_.AdminTenant(caller, tenant));
  }
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  return WithoutSecret(std::move(c));
}

absl::StatusOr<Credential> VaultService::RotateSecret(const Caller& caller,
                                                      const std::string& tenant,
                                                      const std::string& server, AuthMode mode,
                                                      const std::string& secret) {
  ASSIGN_OR_RETURN(TenantInfo t, directory_.AdminTenant(caller, tenant));
  RETURN_IF_ERROR(ValidateSecret(secret, SecretField(mode)));
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  if (c.mode != mode) {
    return absl::FailedPreconditionError(
        mode == AuthMode::kApiKey
            ? absl::StrCat("server '", server, "' uses an OAuth app: rotate its client secret")
            : absl::StrCat("server '", server, "' uses a shared API key: rotate the API key"));
  }
  const int64_t expected = c.version;
  c.rotated_at = clock_.Now();
  c.secret_hint = SecretHint(secret);
  ASSIGN_OR_RETURN(c.secret_sealed,
                   envelope_.Seal(t.id, CredentialAad(t.id, c.id, SecretField(mode)), secret));
  ASSIGN_OR_RETURN(Credential out, store_.UpdateCredential(c, expected, /*drop_grants=*/false));
  log::Info("rotated a credential's secret", {{"tenant_id", t.id},
                                              {"server", server},
                                              {"mode", ModeLabel(mode)},
                                              {"version", static_cast<long long>(out.version)},
                                              {"actor", caller.Actor()}});
  return WithoutSecret(std::move(out));
}

absl::StatusOr<Credential> VaultService::RotateApiKey(const Caller& caller,
                                                      const std::string& tenant,
                                                      const std::string& server,
                                                      const std::string& api_key) {
  return RotateSecret(caller, tenant, server, AuthMode::kApiKey, api_key);
}

absl::StatusOr<Credential> VaultService::RotateOAuthClientSecret(const Caller& caller,
                                                                 const std::string& tenant,
                                                                 const std::string& server,
                                                                 const std::string& client_secret) {
  return RotateSecret(caller, tenant, server, AuthMode::kOAuth, client_secret);
}

absl::StatusOr<int> VaultService::DeleteCredential(const Caller& caller, const std::string& tenant,
                                                   const std::string& server) {
  ASSIGN_OR_RETURN(TenantInfo t, directory_.AdminTenant(caller, tenant));
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  auto grants = store_.DeleteCredential(t.id, c.id);
  if (grants.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("no credential is set for server '", server, "' in this tenant"));
  }
  RETURN_IF_ERROR(grants.status());
  log::Info("deleted a credential", {{"tenant_id", t.id},
                                     {"server", server},
                                     {"grants_deleted", *grants},
                                     {"actor", caller.Actor()}});
  return grants;
}

absl::StatusOr<UpstreamCredential> VaultService::GetUpstreamCredential(const Caller& caller,
                                                                       const std::string& tenant,
                                                                       const std::string& server,
                                                                       const std::string& user) {
  RETURN_IF_ERROR(RequireService(caller, "edge", "fetch upstream credentials"));
  ASSIGN_OR_RETURN(TenantInfo t, directory_.Resolve(tenant));
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  auto up = UpstreamFor(t, c, user);
  const char* outcome = up.ok() ? "ok"
                        : up.status().code() == absl::StatusCode::kFailedPrecondition
                            ? "needs_authorization"
                            : "error";
  stats_.upstream.Add({{"mode", ModeLabel(c.mode)}, {"outcome", outcome}}).Increment();
  return up;
}

absl::StatusOr<UpstreamCredential> VaultService::UpstreamFor(const TenantInfo& t,
                                                             const Credential& c,
                                                             const std::string& user) {
  UpstreamCredential up;
  up.mode = c.mode;
  up.access = c.access;
  up.region = c.region;
  if (c.mode == AuthMode::kApiKey) {
    ASSIGN_OR_RETURN(crypto::SecretString key, OpenCredentialSecret(c));
    up.authorization = crypto::SecretString(absl::StrCat("Token token=", key.value()));
    up.from_email = c.actor_email;
    return up;
  }
  if (user.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user is required: server '", c.server, "' uses per-user OAuth"));
  }
  auto grant = store_.GetGrant(t.id, c.id, user);
  if (grant.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(kNeedsAuthorizationMessage);
  }
  RETURN_IF_ERROR(grant.status());
  ASSIGN_OR_RETURN(UserGrant g, FreshGrant(t, c, *std::move(grant)));
  ASSIGN_OR_RETURN(crypto::SecretString token,
                   envelope_.Open(t.id, GrantAad(t.id, c.id, g.id, "access_token"),
                                  g.access_token_sealed));
  up.authorization = crypto::SecretString(absl::StrCat("Bearer ", token.value()));
  up.from_email = g.user_email;
  up.scopes = g.scopes;
  up.expires_at = g.expires_at;
  up.grant_status = g.status;
  return up;
}

absl::StatusOr<UserGrant> VaultService::FreshGrant(const TenantInfo& t, const Credential& c,
                                                   UserGrant grant) {
  if (grant.status == GrantStatus::kNeedsReauthorization) {
    return absl::FailedPreconditionError(kNeedsReauthorizationMessage);
  }
  if (grant.expires_at > clock_.Now() + options_.refresh_margin) return grant;
  // Every caller of this grant on this replica shares one refresh.
  return refreshes_.Do(grant.id, [&]() { return RefreshGrant(t, c, grant.id); });
}

absl::StatusOr<UserGrant> VaultService::RefreshGrant(const TenantInfo& t, const Credential& c,
                                                     const std::string& grant_id) {
  // Opened before the row lock is taken, so the lock is held only for the token request.
  ASSIGN_OR_RETURN(crypto::SecretString client_secret, OpenCredentialSecret(c));
  bool invalid_grant = false;
  auto result = store_.UpdateGrantLocked(
      t.id, grant_id, [&](const UserGrant& current) -> absl::StatusOr<std::optional<UserGrant>> {
        const absl::Time now = clock_.Now();
        if (current.status == GrantStatus::kNeedsReauthorization) {
          return absl::FailedPreconditionError(kNeedsReauthorizationMessage);
        }
        // Another call or replica refreshed it while this one waited for the lock.
        if (current.expires_at > now + options_.refresh_margin) {
          stats_.refreshes.Add({{"outcome", "already_fresh"}}).Increment();
          return std::nullopt;
        }
        UserGrant next = current;
        next.updated_at = now;
        absl::StatusOr<TokenResponse> tokens = absl::FailedPreconditionError("no refresh token");
        if (current.refresh_token_sealed.empty()) {
          invalid_grant = true;
        } else {
          ASSIGN_OR_RETURN(crypto::SecretString refresh,
                           envelope_.Open(t.id, GrantAad(t.id, c.id, current.id, "refresh_token"),
                                          current.refresh_token_sealed));
          tokens = oauth_.Refresh(c.client_id, client_secret.value(), refresh.value());
          invalid_grant = IsInvalidGrant(tokens.status());
        }
        if (invalid_grant) {
          stats_.refreshes.Add({{"outcome", "invalid_grant"}}).Increment();
          log::Warn("PagerDuty refused a refresh token; the user must re-authorize",
                    {{"tenant_id", t.id}, {"server", c.server}, {"user_id", current.user_id}});
          next.status = GrantStatus::kNeedsReauthorization;
          return next;
        }
        if (!tokens.ok()) {
          stats_.refreshes.Add({{"outcome", "error"}}).Increment();
          log::Warn("could not refresh an OAuth access token",
                    {{"tenant_id", t.id}, {"server", c.server}, {"error", tokens.status().message()}});
          return absl::UnavailableError(absl::StrCat(
              "could not refresh the user's PagerDuty access token: ", tokens.status().message()));
        }
        ASSIGN_OR_RETURN(next.access_token_sealed,
                         envelope_.Seal(t.id, GrantAad(t.id, c.id, current.id, "access_token"),
                                        tokens->access_token.value()));
        // PagerDuty rotates refresh tokens; the old one stops working once a new one is issued.
        if (!tokens->refresh_token.empty()) {
          ASSIGN_OR_RETURN(next.refresh_token_sealed,
                           envelope_.Seal(t.id, GrantAad(t.id, c.id, current.id, "refresh_token"),
                                          tokens->refresh_token.value()));
        }
        next.expires_at = now + tokens->expires_in;
        if (!tokens->scopes.empty()) next.scopes = tokens->scopes;
        stats_.refreshes.Add({{"outcome", "ok"}}).Increment();
        return next;
      });
  if (result.status().code() == absl::StatusCode::kNotFound) {
    // Revoked, or replaced by a new authorization, while this call waited.
    return absl::FailedPreconditionError(kNeedsAuthorizationMessage);
  }
  RETURN_IF_ERROR(result.status());
  if (invalid_grant) return absl::FailedPreconditionError(kNeedsReauthorizationMessage);
  return result;
}

absl::StatusOr<StartedAuthorization> VaultService::BeginUserAuthorization(
    const Caller& caller, const std::string& tenant, const std::string& server,
    const std::string& user) {
  TenantInfo t;
  if (caller.is_service("edge")) {
    ASSIGN_OR_RETURN(t, directory_.Resolve(tenant));
  } else {
    RETURN_IF_ERROR(NoServiceOnAdminApi(caller));
    if (caller.kind == Caller::Kind::kOperator) {
      return absl::PermissionDeniedError(
          "only the user themself (or the edge on their behalf) may start their authorization");
    }
    if (tenant != caller.tenant_id && tenant != caller.tenant_slug) {
      return absl::NotFoundError(absl::StrCat("tenant '", tenant, "' not found"));
    }
    t = TenantInfo{caller.tenant_id, caller.tenant_slug};
  }
  if (options_.redirect_url.empty()) {
    return absl::FailedPreconditionError(
        "per-user OAuth is not configured: the vault has no --oauth_redirect_url");
  }
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  if (c.mode != AuthMode::kOAuth) {
    return absl::FailedPreconditionError(absl::StrCat(
        "server '", server, "' uses a shared API key: there is nothing for a user to authorize"));
  }
  ASSIGN_OR_RETURN(tenant::v1::User u, ResolveUser(t, user));
  if (caller.kind != Caller::Kind::kService && u.id() != caller.user_id) {
    return absl::PermissionDeniedError("a user may start an authorization only for themself");
  }
  if (u.disabled()) {
    return absl::FailedPreconditionError(absl::StrCat("user '", user, "' is disabled"));
  }

  const absl::Time now = clock_.Now();
  if (auto purged = store_.DeleteExpiredAuthorizationStates(now); !purged.ok()) {
    log::Warn("could not delete expired authorization states", {{"error", purged.status().message()}});
  }
  const crypto::SecretString state(crypto::RandomToken("", 32));
  const crypto::SecretString verifier(crypto::RandomToken("", 32));
  AuthorizationState s;
  s.state_hash = crypto::HexEncode(crypto::Sha256(state.value()));
  s.tenant_id = t.id;
  s.credential_id = c.id;
  s.user_id = u.id();
  s.user_email = absl::AsciiStrToLower(u.email());
  ASSIGN_OR_RETURN(s.code_verifier_sealed,
                   envelope_.Seal(t.id, StateAad(t.id, c.id, s.state_hash), verifier.value()));
  s.redirect_uri = options_.redirect_url;
  s.created_at = now;
  s.expires_at = now + options_.state_ttl;
  RETURN_IF_ERROR(store_.InsertAuthorizationState(s));
  stats_.authorizations.Add({{"step", "begin"}, {"outcome", "ok"}}).Increment();
  StartedAuthorization out;
  out.authorize_url = AuthorizeUrl(options_.authorize_url,
                                   {c.client_id, s.redirect_uri, c.scopes, state.value(),
                                    PkceChallenge(verifier.value())});
  out.expires_at = s.expires_at;
  return out;
}

absl::StatusOr<CompletedAuthorization> VaultService::CompleteUserAuthorization(
    const Caller& caller, const std::string& state, const std::string& code) {
  RETURN_IF_ERROR(RequireService(caller, "edge", "complete an authorization"));
  if (state.empty() || code.empty()) {
    return absl::InvalidArgumentError("both state and code are required");
  }
  if (state.size() > 512 || code.size() > 4096) {
    return absl::InvalidArgumentError("state or code is too long to be one PagerDuty issued");
  }
  auto rejected = [this](absl::Status s) {
    stats_.authorizations.Add({{"step", "complete"}, {"outcome", "rejected"}}).Increment();
    return s;
  };
  auto taken = store_.TakeAuthorizationState(crypto::HexEncode(crypto::Sha256(state)));
  if (taken.status().code() == absl::StatusCode::kNotFound) {
    return rejected(absl::FailedPreconditionError(kUnknownStateMessage));
  }
  RETURN_IF_ERROR(taken.status());
  const AuthorizationState& s = *taken;
  const absl::Time now = clock_.Now();
  if (s.expires_at <= now) return rejected(absl::FailedPreconditionError(kExpiredStateMessage));
  auto c = store_.GetCredentialById(s.tenant_id, s.credential_id);
  if (c.status().code() == absl::StatusCode::kNotFound || (c.ok() && c->mode != AuthMode::kOAuth)) {
    return rejected(absl::FailedPreconditionError(
        "the server's OAuth app was removed or replaced since this authorization started. Start "
        "the authorization again."));
  }
  RETURN_IF_ERROR(c.status());
  ASSIGN_OR_RETURN(crypto::SecretString verifier,
                   envelope_.Open(s.tenant_id, StateAad(s.tenant_id, s.credential_id, s.state_hash),
                                  s.code_verifier_sealed));
  ASSIGN_OR_RETURN(crypto::SecretString client_secret, OpenCredentialSecret(*c));
  auto tokens = oauth_.ExchangeCode(c->client_id, client_secret.value(), code, s.redirect_uri,
                                    verifier.value());
  if (!tokens.ok()) {
    if (IsInvalidGrant(tokens.status())) {
      return rejected(absl::FailedPreconditionError(kCodeRejectedMessage));
    }
    stats_.authorizations.Add({{"step", "complete"}, {"outcome", "error"}}).Increment();
    log::Warn("could not exchange an authorization code", {{"tenant_id", s.tenant_id},
                                                            {"server", c->server},
                                                            {"error", tokens.status().message()}});
    if (tokens.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(absl::StrCat(
          "PagerDuty refused the OAuth app (", OAuthErrorCode(tokens.status()),
          "): an admin should check its client id and secret"));
    }
    return tokens.status();
  }
  UserGrant g;
  g.id = crypto::NewUuid();
  g.tenant_id = s.tenant_id;
  g.credential_id = c->id;
  g.user_id = s.user_id;
  g.user_email = s.user_email;
  g.status = GrantStatus::kActive;
  ASSIGN_OR_RETURN(g.access_token_sealed,
                   envelope_.Seal(g.tenant_id, GrantAad(g.tenant_id, c->id, g.id, "access_token"),
                                  tokens->access_token.value()));
  if (!tokens->refresh_token.empty()) {
    ASSIGN_OR_RETURN(g.refresh_token_sealed,
                     envelope_.Seal(g.tenant_id, GrantAad(g.tenant_id, c->id, g.id, "refresh_token"),
                                    tokens->refresh_token.value()));
  }
  g.expires_at = now + tokens->expires_in;
  g.scopes = tokens->scopes.empty() ? c->scopes : tokens->scopes;
  g.created_at = g.updated_at = now;
  RETURN_IF_ERROR(store_.UpsertGrant(g));
  ASSIGN_OR_RETURN(UserGrant stored, store_.GetGrant(g.tenant_id, c->id, g.user_id));
  stats_.authorizations.Add({{"step", "complete"}, {"outcome", "ok"}}).Increment();
  log::Info("a user authorized PagerDuty access",
            {{"tenant_id", g.tenant_id}, {"server", c->server}, {"user_id", g.user_id}});
  CompletedAuthorization out;
  out.grant = WithoutTokens(std::move(stored));
  auto t = directory_.Resolve(s.tenant_id);
  if (t.ok()) out.tenant_slug = t->slug;
  return out;
}

absl::StatusOr<std::vector<UserGrant>> VaultService::ListUserGrants(const Caller& caller,
                                                                    const std::string& tenant,
                                                                    const std::string& server,
                                                                    const std::string& user) {
  RETURN_IF_ERROR(NoServiceOnAdminApi(caller));
  TenantInfo t;
  std::string only_user;
  if (caller.kind == Caller::Kind::kTenantMember) {
    if (tenant != caller.tenant_id && tenant != caller.tenant_slug) {
      return absl::NotFoundError(absl::StrCat("tenant '", tenant, "' not found"));
    }
    t = TenantInfo{caller.tenant_id, caller.tenant_slug};
    only_user = caller.user_id;  // members see their own grants only
  } else {
    ASSIGN_OR_RETURN(t, directory_.AdminTenant(caller, tenant));
  }
  std::string credential_id;
  if (!server.empty()) {
    ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
    credential_id = c.id;
  }
  ASSIGN_OR_RETURN(std::vector<UserGrant> grants, store_.ListGrants(t.id, credential_id, only_user));
  std::vector<UserGrant> out;
  const std::string user_lower = absl::AsciiStrToLower(user);
  for (UserGrant& g : grants) {
    if (!user.empty() && g.user_id != user && g.user_email != user_lower) continue;
    out.push_back(WithoutTokens(std::move(g)));
  }
  return out;
}

absl::StatusOr<UserGrant> VaultService::RevokeUserGrant(const Caller& caller,
                                                        const std::string& tenant,
                                                        const std::string& server,
                                                        const std::string& user) {
  RETURN_IF_ERROR(NoServiceOnAdminApi(caller));
  TenantInfo t;
  const bool self_service = caller.kind == Caller::Kind::kTenantMember;
  if (self_service) {
    if (tenant != caller.tenant_id && tenant != caller.tenant_slug) {
      return absl::NotFoundError(absl::StrCat("tenant '", tenant, "' not found"));
    }
    t = TenantInfo{caller.tenant_id, caller.tenant_slug};
  } else {
    ASSIGN_OR_RETURN(t, directory_.AdminTenant(caller, tenant));
  }
  if (user.empty()) return absl::InvalidArgumentError("user must name a user id or email");
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  auto g = store_.GetGrant(t.id, c.id, user);
  if (g.ok() && self_service && g->user_id != caller.user_id) {
    return absl::PermissionDeniedError("a user may revoke only their own grant");
  }
  if (g.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("user '", user, "' has no grant for server '", server, "'"));
  }
  RETURN_IF_ERROR(g.status());
  ASSIGN_OR_RETURN(UserGrant gone, store_.DeleteGrant(t.id, c.id, g->user_id));
  log::Info("revoked a user's grant", {{"tenant_id", t.id},
                                       {"server", server},
                                       {"user_id", gone.user_id},
                                       {"actor", caller.Actor()}});
  return WithoutTokens(std::move(gone));
}

absl::StatusOr<Verification> VaultService::VerifyCredential(const Caller& caller,
                                                            const std::string& tenant,
                                                            const std::string& server,
                                                            const std::string& user) {
  ASSIGN_OR_RETURN(TenantInfo t, directory_.AdminTenant(caller, tenant));
  ASSIGN_OR_RETURN(Credential c, FindCredential(t, server));
  if (c.mode == AuthMode::kOAuth && user.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server '", server, "' uses per-user OAuth: name the user whose grant to verify"));
  }
  ASSIGN_OR_RETURN(UpstreamCredential up, UpstreamFor(t, c, user));
  const std::string& base = c.region == Region::kEu ? options_.api_url_eu : options_.api_url_us;
  // An account-level API key has no user; /abilities answers any valid key.
  const char* path = c.mode == AuthMode::kApiKey ? "/abilities" : "/users/me";
  http::ClientRequest request;
  request.method = "GET";
  request.url = absl::StrCat(base, path);
  request.headers = {{"Accept", "application/vnd.pagerduty+json;version=2"},
                     {"Authorization", up.authorization.value()}};
  request.timeout = options_.http_timeout;
  Verification v;
  v.request = absl::StrCat("GET ", request.url);
  auto response = http_.SendSync(std::move(request));
  const char* what = c.mode == AuthMode::kApiKey ? "the API key" : "the user's OAuth token";
  if (!response.ok()) {
    v.result = VerifyResult::kUnreachable;
    v.message = absl::StrCat("PagerDuty could not be reached (",
                             absl::StatusCodeToString(response.status().code()), ")");
  } else {
    v.http_status = response->status;
    if (response->status >= 200 && response->status < 300) {
      v.result = VerifyResult::kValid;
      v.message = absl::StrCat("PagerDuty accepted ", what);
    } else if (response->status == 401) {
      v.result = VerifyResult::kInvalid;
      v.message = absl::StrCat("PagerDuty rejected ", what, " as invalid, revoked or expired");
    } else if (response->status == 403) {
      v.result = VerifyResult::kForbidden;
      v.message = absl::StrCat("PagerDuty accepted ", what, " but it lacks permission for ", path);
    } else if (response->status == 429 || response->status >= 500) {
      v.result = VerifyResult::kUnreachable;
      v.message = absl::StrCat("PagerDuty is not answering normally (HTTP ", response->status,
                               "); try again later");
    } else {
      v.result = VerifyResult::kUnexpected;
      v.message = absl::StrCat("PagerDuty answered HTTP ", response->status);
    }
  }
  static const char* const kResultLabels[] = {"valid", "invalid", "forbidden", "unreachable",
                                              "unexpected"};
  stats_.verifications.Add({{"result", kResultLabels[static_cast<int>(v.result)]}}).Increment();
  return v;
}

absl::StatusOr<RotateKekResult> VaultService::RotateKek(const Caller& caller) {
  if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  if (!caller.is_operator()) return absl::PermissionDeniedError("only the operator may rotate the KEK");
  auto result = envelope_.RotateKek();
  stats_.kek_rotations.Add({{"outcome", result.ok() ? "ok" : "failed"}}).Increment();
  return result;
}

absl::StatusOr<std::pair<int, bool>> VaultService::DeleteTenantSecrets(const Caller& caller,
                                                                     const std::string& tenant) {
  if (caller.kind == Caller::Kind::kNone) return absl::UnauthenticatedError("a bearer token is required");
  if (!caller.is_operator()) return absl::PermissionDeniedError("only the operator may delete a tenant's secrets");
  if (tenant.empty()) return absl::InvalidArgumentError("tenant must name a tenant id or slug");
  auto t = tenants_.GetTenant(tenant);
  if (t.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("tenant '", tenant, "' not found"));
  }
  if (!t.ok()) {
    log::Warn("cannot resolve a tenant through the tenant service", {{"error", t.status().message()}});
    return absl::UnavailableError("cannot reach the tenant service right now; retry");
  }
  if (t->ai_access_active()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tenant ", t->slug(), " still has AI access active: deactivate it before deleting it"));
  }
  ASSIGN_OR_RETURN(auto deleted, store_.DeleteTenantSecrets(t->id()));
  envelope_.Forget(t->id());
  {
    // The slug may name a new tenant later: forget what it resolved to.
    directory_.Forget();
  }
  log::Info("destroyed a tenant's secrets and data key",
            {{"tenant_id", t->id()},
             {"credentials", static_cast<long long>(deleted.first)},
             {"data_key", deleted.second ? "destroyed" : "none"},
             {"actor", caller.Actor()}});
  return deleted;
}

}  // namespace bastion::vault
