#include "services/vault/idp_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/json.hpp"
#include "common/crypto/crypto.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "services/vault/oauth.h"

namespace bastion::vault {
namespace {

namespace json = boost::json;
using auth::Caller;

constexpr char kUnknownStateMessage[] =
    "This sign-in link is not valid or was already used. Start the sign-in again from your AI "
    "client.";
constexpr char kExpiredStateMessage[] =
    "This sign-in took too long (sign-ins are good for 10 minutes). Start it again from your AI "
    "client.";
constexpr char kClientChangedMessage[] =
    "The tenant's identity provider settings changed while you were signing in. Start the "
    "sign-in again from your AI client.";
constexpr char kNoIdpMessage[] =
    "this tenant has no identity provider for sign-in; an admin sets one with `bastionctl idp "
    "set`";

bool HasSpaceOrControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c)) ||
           absl::ascii_iscntrl(static_cast<unsigned char>(c));
  });
}

absl::Status RequireEdge(const Caller& caller, const char* what) {
  if (caller.is_service("edge")) return absl::OkStatus();
  if (caller.kind == Caller::Kind::kNone) {
    return absl::UnauthenticatedError("a service identity is required");
  }
  return absl::PermissionDeniedError(absl::StrCat("only the edge service may ", what));
}

// The last 4 characters of a secret long enough to spare them, else "".
std::string Hint(const std::string& secret) {
  return secret.size() < 12 ? "" : secret.substr(secret.size() - 4);
}

IdpClient WithoutSecret(IdpClient c) {
  c.has_client_secret = !c.client_secret_sealed.empty();
  c.client_secret_sealed.clear();
  return c;
}

absl::Status ValidateWord(const std::string& value, const char* name, size_t max) {
  if (value.empty() || value.size() > max || HasSpaceOrControl(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " must be one word of 1 to ", max, " characters without spaces or control characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateText(const std::string& value, const char* name, size_t max) {
  if (value.size() > max || std::any_of(value.begin(), value.end(), [](char c) {
        return absl::ascii_iscntrl(static_cast<unsigned char>(c));
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be at most ", max, " characters without control characters"));
  }
  return absl::OkStatus();
}

std::string StringClaim(const json::object& claims, const char* name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->get_string().data(), v->get_string().size());
}

// Some providers send email_verified as the string "true".
bool TrueClaim(const json::object& claims, const char* name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return false;
  if (v->is_bool()) return v->get_bool();
  return v->is_string() && v->get_string() == "true";
}

}  // namespace

IdpService::Stats::Stats(metrics::Registry& registry)
    : sign_ins(metrics::BuildCounter()
                   .Name("bastion_vault_idp_sign_ins_total")
                   .Help("Sign-ins at tenants' identity providers, by step and outcome.")
                   .Register(registry)),
      tokens_signed(metrics::BuildCounter()
                        .Name("bastion_vault_access_tokens_signed_total")
                        .Help("Access tokens signed for the edge, by outcome.")
                        .Register(registry)),
      key_rotations(metrics::BuildCounter()
                        .Name("bastion_vault_token_key_rotations_total")
                        .Help("Token-signing keys created, by reason (first use or rotation).")
                        .Register(registry)) {}

IdpService::IdpService(IdpStore& store, Envelope& envelope, TenantDirectory& tenants,
                       OidcClient& oidc, const Clock& clock, metrics::Registry& registry,
                       IdpOptions options)
    : store_(store),
      envelope_(envelope),
      tenants_(tenants),
      oidc_(oidc),
      clock_(clock),
      options_(std::move(options)),
      stats_(registry) {}

absl::StatusOr<IdpClient> IdpService::PutIdpClient(const Caller& caller, const std::string& tenant,
                                                   const std::string& issuer,
                                                   const std::string& client_id,
                                                   const std::string& client_secret,
                                                   const std::vector<std::string>& scopes) {
  ASSIGN_OR_RETURN(TenantRef t, tenants_.AdminTenant(caller, tenant));
  RETURN_IF_ERROR(CheckProviderUrl(issuer, oidc_.options().allow_http_loopback, "issuer"));
  RETURN_IF_ERROR(ValidateWord(client_id, "client_id", 256));
  if (!client_secret.empty()) {
    if (client_secret.size() > 4096 || HasSpaceOrControl(client_secret)) {
      return absl::InvalidArgumentError(
          "client_secret must be at most 4096 characters without spaces or control characters "
          "(was a newline pasted with it?)");
    }
  }
  IdpClient c;
  c.tenant_id = t.id;
  c.issuer = issuer;
  c.client_id = client_id;
  for (const std::string& s : scopes.empty() ? std::vector<std::string>{"openid", "email", "profile"}
                                             : scopes) {
    RETURN_IF_ERROR(ValidateWord(s, "each scope", 128));
    if (std::find(c.scopes.begin(), c.scopes.end(), s) == c.scopes.end()) c.scopes.push_back(s);
  }
  if (c.scopes.size() > 20) return absl::InvalidArgumentError("at most 20 scopes");
  if (std::find(c.scopes.begin(), c.scopes.end(), "openid") == c.scopes.end()) {
    return absl::InvalidArgumentError("scopes must include openid (it makes the sign-in OpenID Connect)");
  }
  if (!client_secret.empty()) {
    ASSIGN_OR_RETURN(c.client_secret_sealed, envelope_.Seal(t.id, IdpClientAad(t.id), client_secret));
    c.client_secret_hint = Hint(client_secret);
  }
  c.created_at = c.updated_at = clock_.Now();
  RETURN_IF_ERROR(store_.UpsertIdpClient(c));
  log::Info("stored the tenant's identity provider client",
            {{"tenant_id", t.id},
             {"issuer", issuer},
             {"public_client", client_secret.empty()},
             {"actor", caller.Actor()}});
  ASSIGN_OR_RETURN(IdpClient stored, store_.GetIdpClient(t.id));
  return WithoutSecret(std::move(stored));
}

absl::StatusOr<IdpClient> IdpService::GetIdpClientInfo(const Caller& caller,
                                                       const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantRef t, tenants_.AdminTenant(caller, tenant));
  auto c = store_.GetIdpClient(t.id);
  if (c.status().code() == absl::StatusCode::kNotFound) return absl::NotFoundError(kNoIdpMessage);
  RETURN_IF_ERROR(c.status());
  return WithoutSecret(*std::move(c));
}

absl::StatusOr<IdpClient> IdpService::DeleteIdpClient(const Caller& caller,
                                                      const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantRef t, tenants_.AdminTenant(caller, tenant));
  auto c = store_.DeleteIdpClient(t.id);
  if (c.status().code() == absl::StatusCode::kNotFound) return absl::NotFoundError(kNoIdpMessage);
  RETURN_IF_ERROR(c.status());
  log::Info("deleted the tenant's identity provider client",
            {{"tenant_id", t.id}, {"actor", caller.Actor()}});
  return WithoutSecret(*std::move(c));
}

absl::StatusOr<IdpTestResult> IdpService::TestIdpClient(const Caller& caller,
                                                        const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantRef t, tenants_.AdminTenant(caller, tenant));
  auto c = store_.GetIdpClient(t.id);
  if (c.status().code() == absl::StatusCode::kNotFound) return absl::NotFoundError(kNoIdpMessage);
  RETURN_IF_ERROR(c.status());
  IdpTestResult out;
  auto provider = oidc_.Discover(c->issuer, OidcClient::Fetching::kFresh);
  if (!provider.ok()) {
    out.findings.push_back(absl::StrCat("Discovery failed: ", provider.status().message()));
    return out;
  }
  out.provider = *provider;
  out.findings.push_back(absl::StrCat("Discovery document found; its issuer is exactly ", c->issuer, "."));
  out.findings.push_back(absl::StrCat("Users will sign in at ", provider->authorization_endpoint, "."));
  auto keys = oidc_.Keys(provider->jwks_uri, OidcClient::Fetching::kFresh);
  if (!keys.ok()) {
    out.findings.push_back(absl::StrCat("JWKS failed: ", keys.status().message()));
    return out;
  }
  out.signing_keys = static_cast<int>(keys->keys().size());
  std::vector<std::string> kids;
  for (const jose::PublicKey& k : keys->keys()) {
    kids.push_back(absl::StrCat(k.kid().empty() ? "(no kid)" : k.kid(), " ",
                                jose::AlgorithmName(k.algorithm())));
  }
  out.findings.push_back(absl::StrCat("JWKS at ", provider->jwks_uri, " has ", out.signing_keys,
                                      " signing key(s) Bastion can verify: ",
                                      absl::StrJoin(kids, ", "), "."));
  if (c->client_secret_sealed.empty()) {
    out.findings.push_back(
        "No client secret: the identity provider must accept this client as a public client "
        "(PKCE without a secret).");
  }
  if (std::find(c->scopes.begin(), c->scopes.end(), "email") == c->scopes.end()) {
    out.findings.push_back(
        "Warning: the scopes do not include 'email'; Bastion maps people to users by their "
        "verified email, which many providers send only with that scope.");
  }
  out.ok = true;
  if (absl::Status s = store_.SetIdpClientTested(t.id, clock_.Now()); !s.ok()) {
    log::Warn("could not record an identity provider test", {{"tenant_id", t.id}, {"error", s.message()}});
  }
  return out;
}

absl::StatusOr<StartedSignIn> IdpService::BeginIdpSignIn(const Caller& caller,
                                                         const std::string& tenant,
                                                         const std::string& redirect_uri,
                                                         const std::string& context) {
  RETURN_IF_ERROR(RequireEdge(caller, "start a sign-in"));
  ASSIGN_OR_RETURN(TenantRef t, tenants_.Resolve(tenant));
  RETURN_IF_ERROR(CheckProviderUrl(redirect_uri, oidc_.options().allow_http_loopback, "redirect_uri"));
  RETURN_IF_ERROR(ValidateText(context, "context", 1024));
  auto c = store_.GetIdpClient(t.id);
  if (c.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(kNoIdpMessage);
  }
  RETURN_IF_ERROR(c.status());
  auto provider = oidc_.Discover(c->issuer);
  if (!provider.ok()) {
    stats_.sign_ins.Add({{"step", "begin"}, {"outcome", "idp_unusable"}}).Increment();
    log::Warn("cannot start a sign-in: the identity provider is not usable",
              {{"tenant_id", t.id}, {"error", provider.status().message()}});
    return provider.status();
  }
  const absl::Time now = clock_.Now();
  if (auto purged = store_.DeleteExpiredIdpSignIns(now); !purged.ok()) {
    log::Warn("could not delete expired sign-ins", {{"error", purged.status().message()}});
  }
  const crypto::SecretString state(crypto::RandomToken("", 32));
  const crypto::SecretString verifier(crypto::RandomToken("", 32));
  const crypto::SecretString nonce(crypto::RandomToken("", 32));
  IdpSignIn s;
  s.state_hash = crypto::HexEncode(crypto::Sha256(state.value()));
  s.tenant_id = t.id;
  s.issuer = c->issuer;
  s.client_id = c->client_id;
  s.redirect_uri = redirect_uri;
  s.context = context;
  ASSIGN_OR_RETURN(s.code_verifier_sealed,
                   envelope_.Seal(t.id, IdpSignInAad(t.id, s.state_hash, "code_verifier"),
                                  verifier.value()));
  ASSIGN_OR_RETURN(s.nonce_sealed,
                   envelope_.Seal(t.id, IdpSignInAad(t.id, s.state_hash, "nonce"), nonce.value()));
  s.created_at = now;
  s.expires_at = now + options_.sign_in_ttl;
  RETURN_IF_ERROR(store_.InsertIdpSignIn(s));
  stats_.sign_ins.Add({{"step", "begin"}, {"outcome", "ok"}}).Increment();
  StartedSignIn out;
  out.authorization_url = oidc_.AuthorizationUrl(
      *provider, {c->client_id, redirect_uri, c->scopes, state.value(), nonce.value(),
                  PkceChallenge(verifier.value())});
  out.expires_at = s.expires_at;
  return out;
}

absl::StatusOr<VerifiedIdentity> IdpService::CompleteIdpSignIn(const Caller& caller,
                                                               const std::string& state,
                                                               const std::string& code) {
  RETURN_IF_ERROR(RequireEdge(caller, "complete a sign-in"));
  if (state.empty() || code.empty()) {
    return absl::InvalidArgumentError("both state and code are required");
  }
  if (state.size() > 512 || code.size() > 4096) {
    return absl::InvalidArgumentError("state or code is too long to be one this sign-in issued");
  }
  auto rejected = [this](absl::Status s) {
    stats_.sign_ins.Add({{"step", "complete"}, {"outcome", "rejected"}}).Increment();
    return s;
  };
  auto taken = store_.TakeIdpSignIn(crypto::HexEncode(crypto::Sha256(state)));
  if (taken.status().code() == absl::StatusCode::kNotFound) {
    return rejected(absl::FailedPreconditionError(kUnknownStateMessage));
  }
  RETURN_IF_ERROR(taken.status());
  const IdpSignIn& s = *taken;
  if (s.expires_at <= clock_.Now()) return rejected(absl::FailedPreconditionError(kExpiredStateMessage));
  auto c = store_.GetIdpClient(s.tenant_id);
  if (c.status().code() == absl::StatusCode::kNotFound ||
      (c.ok() && (c->issuer != s.issuer || c->client_id != s.client_id))) {
    return rejected(absl::FailedPreconditionError(kClientChangedMessage));
  }
  RETURN_IF_ERROR(c.status());
  ASSIGN_OR_RETURN(crypto::SecretString verifier,
                   envelope_.Open(s.tenant_id, IdpSignInAad(s.tenant_id, s.state_hash, "code_verifier"),
                                  s.code_verifier_sealed));
  ASSIGN_OR_RETURN(crypto::SecretString nonce,
                   envelope_.Open(s.tenant_id, IdpSignInAad(s.tenant_id, s.state_hash, "nonce"),
                                  s.nonce_sealed));
  crypto::SecretString client_secret;
  if (!c->client_secret_sealed.empty()) {
    ASSIGN_OR_RETURN(client_secret,
                     envelope_.Open(s.tenant_id, IdpClientAad(s.tenant_id), c->client_secret_sealed));
  }
  ASSIGN_OR_RETURN(ProviderMetadata provider, oidc_.Discover(c->issuer));
  auto id_token = oidc_.ExchangeCode(provider, c->client_id, client_secret.value(), code,
                                     s.redirect_uri, verifier.value());
  if (!id_token.ok()) {
    stats_.sign_ins.Add({{"step", "complete"}, {"outcome", "exchange_failed"}}).Increment();
    log::Warn("the identity provider's code exchange failed",
              {{"tenant_id", s.tenant_id}, {"error", id_token.status().message()}});
    return id_token.status();
  }
  const crypto::SecretString token(*std::move(id_token));
  auto claims = oidc_.VerifyIdToken(provider, token.value(), {c->issuer, c->client_id, nonce.value()});
  if (!claims.ok()) {
    log::Warn("an ID token was refused", {{"tenant_id", s.tenant_id}, {"error", claims.status().message()}});
    return rejected(claims.status());
  }
  VerifiedIdentity out;
  out.tenant_id = s.tenant_id;
  out.context = s.context;
  out.issuer = c->issuer;
  out.subject = StringClaim(*claims, "sub");
  out.email = StringClaim(*claims, "email");
  out.email_verified = TrueClaim(*claims, "email_verified");
  out.name = StringClaim(*claims, "name");
  out.claims_json = json::serialize(*claims);
  stats_.sign_ins.Add({{"step", "complete"}, {"outcome", "ok"}}).Increment();
  log::Info("a sign-in at the identity provider completed",
            {{"tenant_id", s.tenant_id}, {"issuer", c->issuer}});
  return out;
}

absl::StatusOr<TokenKey> IdpService::NewTokenKey(const std::string& tenant_id,
                                                 std::shared_ptr<const jose::SigningKey>* key) {
  auto generated = std::make_shared<const jose::SigningKey>(jose::SigningKey::Generate());
  TokenKey k;
  k.tenant_id = tenant_id;
  k.kid = generated->kid();
  ASSIGN_OR_RETURN(k.private_key_sealed, envelope_.Seal(tenant_id, TokenKeyAad(tenant_id, k.kid),
                                                        generated->ToPem().value()));
  k.public_jwk = json::serialize(generated->public_key().ToJwk());
  k.created_at = clock_.Now();
  *key = std::move(generated);
  return k;
}

absl::StatusOr<std::shared_ptr<const jose::SigningKey>> IdpService::CurrentKey(
    const std::string& tenant_id) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&keys_mu_);
    auto it = keys_.find(tenant_id);
    if (it != keys_.end() && it->second.expires_at > now) return it->second.key;
  }
  ASSIGN_OR_RETURN(std::vector<TokenKey> stored, store_.ListTokenKeys(tenant_id));
  if (stored.empty() || stored.front().retired_at.has_value()) {
    std::shared_ptr<const jose::SigningKey> unused;
    ASSIGN_OR_RETURN(TokenKey fresh, NewTokenKey(tenant_id, &unused));
    // Another replica may create the tenant's first key at the same time: one wins, both use it.
    RETURN_IF_ERROR(store_.InsertTokenKeyIfNoCurrent(fresh));
    ASSIGN_OR_RETURN(stored, store_.ListTokenKeys(tenant_id));
    if (stored.empty() || stored.front().retired_at.has_value()) {
      return absl::InternalError("the tenant's token-signing key could not be created");
    }
    if (stored.front().kid == fresh.kid) {
      stats_.key_rotations.Add({{"reason", "first_use"}}).Increment();
      log::Info("created the tenant's first token-signing key",
                {{"tenant_id", tenant_id}, {"kid", fresh.kid}});
    }
  }
  const TokenKey& current = stored.front();
  ASSIGN_OR_RETURN(crypto::SecretString pem,
                   envelope_.Open(tenant_id, TokenKeyAad(tenant_id, current.kid),
                                  current.private_key_sealed));
  ASSIGN_OR_RETURN(jose::SigningKey parsed, jose::SigningKey::FromPem(pem.value()));
  if (parsed.kid() != current.kid) {
    return absl::DataLossError("a stored token-signing key does not match its kid");
  }
  auto key = std::make_shared<const jose::SigningKey>(std::move(parsed));
  absl::MutexLock lock(&keys_mu_);
  keys_[tenant_id] = CachedKey{key, now + options_.signing_key_cache_ttl};
  return key;
}

absl::StatusOr<SignedAccessToken> IdpService::SignAccessToken(const Caller& caller,
                                                              const std::string& tenant,
                                                              const AccessTokenRequest& r) {
  RETURN_IF_ERROR(RequireEdge(caller, "sign access tokens"));
  ASSIGN_OR_RETURN(TenantRef t, tenants_.Resolve(tenant));
  RETURN_IF_ERROR(ValidateWord(r.issuer, "issuer", 2048));
  RETURN_IF_ERROR(ValidateWord(r.audience, "audience", 2048));
  RETURN_IF_ERROR(ValidateWord(r.subject, "subject", 255));
  RETURN_IF_ERROR(ValidateWord(r.client_id, "client_id", 2048));
  RETURN_IF_ERROR(ValidateText(r.scope, "scope", 1024));
  RETURN_IF_ERROR(ValidateText(r.grant_id, "grant_id", 255));
  RETURN_IF_ERROR(ValidateText(r.email, "email", 254));
  const absl::Duration lifetime =
      r.lifetime == absl::ZeroDuration() ? options_.default_token_lifetime : r.lifetime;
  if (lifetime < absl::Seconds(1) || lifetime > kMaxAccessTokenLifetime) {
    return absl::InvalidArgumentError("lifetime_seconds must be between 1 and 3600");
  }
  auto key = CurrentKey(t.id);
  if (!key.ok()) {
    stats_.tokens_signed.Add({{"outcome", "error"}}).Increment();
    return key.status();
  }
  const absl::Time now = clock_.Now();
  const absl::Time exp = now + lifetime;
  // RFC 9068 §2.2; tid and gid let the edge check revocation without a call.
  json::object claims{{"iss", r.issuer},
                      {"aud", r.audience},
                      {"sub", r.subject},
                      {"client_id", r.client_id},
                      {"jti", crypto::RandomToken("", 16)},
                      {"iat", absl::ToUnixSeconds(now)},
                      {"exp", absl::ToUnixSeconds(exp)},
                      {"tid", t.id}};
  if (!r.scope.empty()) claims["scope"] = r.scope;
  if (!r.grant_id.empty()) claims["gid"] = r.grant_id;
  if (!r.email.empty()) claims["email"] = r.email;
  SignedAccessToken out;
  out.token = (*key)->Sign(claims, "at+jwt");
  out.expires_at = absl::FromUnixSeconds(absl::ToUnixSeconds(exp));
  stats_.tokens_signed.Add({{"outcome", "ok"}}).Increment();
  return out;
}

absl::StatusOr<PublishedKeys> IdpService::Publish(const std::string& tenant_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const jose::SigningKey> current, CurrentKey(tenant_id));
  ASSIGN_OR_RETURN(std::vector<TokenKey> stored, store_.ListTokenKeys(tenant_id));
  // A retired key stays published while a token it signed may be unexpired.
  const absl::Time oldest = clock_.Now() - kMaxAccessTokenLifetime - absl::Minutes(5);
  jose::KeySet set;
  set.Add(current->public_key());
  for (const TokenKey& k : stored) {
    if (k.kid == current->kid()) continue;
    if (k.retired_at.has_value() && *k.retired_at < oldest) continue;
    boost::system::error_code ec;
    json::value jwk = json::parse(k.public_jwk, ec);
    if (ec || !jwk.is_object()) return absl::DataLossError("a stored public token key is not JSON");
    ASSIGN_OR_RETURN(jose::PublicKey pub, jose::PublicKey::FromJwk(jwk.get_object()));
    set.Add(std::move(pub));
  }
  return PublishedKeys{set.ToJwks(), current->kid()};
}

absl::StatusOr<PublishedKeys> IdpService::GetTokenKeys(const Caller& caller,
                                                       const std::string& tenant) {
  RETURN_IF_ERROR(RequireEdge(caller, "read the token keys"));
  ASSIGN_OR_RETURN(TenantRef t, tenants_.Resolve(tenant));
  return Publish(t.id);
}

absl::StatusOr<PublishedKeys> IdpService::RotateTokenKey(const Caller& caller,
                                                         const std::string& tenant) {
  ASSIGN_OR_RETURN(TenantRef t, tenants_.AdminTenant(caller, tenant));
  std::shared_ptr<const jose::SigningKey> key;
  ASSIGN_OR_RETURN(TokenKey fresh, NewTokenKey(t.id, &key));
  RETURN_IF_ERROR(
      store_.RotateTokenKey(fresh, fresh.created_at - options_.forget_retired_keys_after));
  {
    absl::MutexLock lock(&keys_mu_);
    keys_[t.id] = CachedKey{key, fresh.created_at + options_.signing_key_cache_ttl};
  }
  stats_.key_rotations.Add({{"reason", "rotation"}}).Increment();
  log::Info("rotated the tenant's token-signing key",
            {{"tenant_id", t.id}, {"kid", fresh.kid}, {"actor", caller.Actor()}});
  return Publish(t.id);
}

}  // namespace bastion::vault
