#include "services/edge/signin/access_tokens.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/log/log.h"

namespace bastion::edge {
namespace {

namespace json = boost::json;

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::string Claim(const json::object& claims, const char* name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The kid a token's header names ("" when none or unreadable); the signature is not checked here.
std::string HeaderKid(const std::string& token) {
  auto header = crypto::Base64UrlDecode(absl::string_view(token).substr(0, token.find('.')));
  if (!header.ok()) return "";
  boost::system::error_code ec;
  json::value h = json::parse(*header, ec);
  if (ec || !h.is_object()) return "";
  return Claim(h.as_object(), "kid");
}

std::string UserKey(const std::string& tenant_id, const std::string& user_id) {
  return absl::StrCat(tenant_id, "/", user_id);
}

}  // namespace

AccessTokenVerifier::AccessTokenVerifier(AccessTokenOptions options, SignInBackend& signin,
                                         IdentityProviderBackend& idp, const Clock& clock)
    : options_(std::move(options)), signin_(signin), idp_(idp), clock_(clock) {}

bool AccessTokenVerifier::IsAccessToken(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) return false;
  for (absl::string_view p : parts) {
    for (char c : p) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
    }
  }
  return true;
}

std::string AccessTokenVerifier::IssuerFor(absl::string_view tenant_slug) const {
  return absl::StrCat(options_.public_url, "/oauth/", tenant_slug);
}

std::string AccessTokenVerifier::ResourceFor(absl::string_view tenant_slug, absl::string_view server) const {
  return absl::StrCat(options_.public_url, "/mcp/", tenant_slug, "/", server);
}

std::string AccessTokenVerifier::ResourceMetadataUrl(const std::string& tenant_slug,
                                                     const std::string& server) const {
  return absl::StrCat(options_.public_url, "/.well-known/oauth-protected-resource/mcp/", tenant_slug, "/", server);
}

absl::StatusOr<jose::Verified> AccessTokenVerifier::VerifySignature(const std::string& token,
                                                                     const std::string& tenant_slug) {
  const absl::Time now = clock_.Now();
  bool fetch = false;
  std::optional<jose::KeySet> keys;
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(tenant_slug);
    if (it == keys_.end() || now - it->second.fetched_at > options_.keys_ttl) {
      fetch = true;
    } else {
      keys = it->second.set;
    }
  }
  if (keys.has_value()) {
    auto verified = jose::Verify(token, *keys, {jose::Algorithm::kEs256});
    const std::string kid = HeaderKid(token);
    if (verified.ok() || kid.empty() || keys->Find(kid) != nullptr) return verified;
    // A key rotated in since the last fetch: refetch, but not more often than the interval, so
    // tokens naming made-up kids cannot make the edge hammer the vault.
    absl::MutexLock lock(&mu_);
    Keys& cached = keys_[tenant_slug];
    if (now - cached.last_refetch < options_.keys_refetch_interval) return verified.status();
    cached.last_refetch = now;
    fetch = true;
  }
  if (!fetch) return absl::UnauthenticatedError("access token is not valid");
  auto fetched = idp_.GetTokenKeys(tenant_slug);
  if (!fetched.ok()) {
    if (fetched.status().code() == absl::StatusCode::kNotFound) {
      return absl::UnauthenticatedError("this tenant issues no access tokens");
    }
    return absl::UnavailableError("cannot read the tenant's token keys right now");
  }
  auto set = jose::KeySet::FromJwks(fetched->jwks_json());
  if (!set.ok()) return absl::UnauthenticatedError("this tenant issues no access tokens");
  {
    absl::MutexLock lock(&mu_);
    Keys& cached = keys_[tenant_slug];
    cached.set = *set;
    cached.fetched_at = now;
  }
  return jose::Verify(token, *set, {jose::Algorithm::kEs256});
}

absl::StatusOr<tv::User> AccessTokenVerifier::User(const std::string& tenant_id, const std::string& user_id) {
  const std::string key = UserKey(tenant_id, user_id);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = users_.find(key);
    if (it != users_.end() && now - it->second.fetched_at <= options_.user_ttl) return it->second.user;
  }
  auto user = signin_.GetUser(tenant_id, user_id);
  if (!user.ok()) {
    if (user.status().code() == absl::StatusCode::kNotFound) {
      return absl::UnauthenticatedError("the user this token was issued to no longer exists");
    }
    return absl::UnavailableError("cannot read the user right now");
  }
  absl::MutexLock lock(&mu_);
  users_[key] = UserFacts{*user, now};
  return user;
}

bool AccessTokenVerifier::IsRevoked(const std::string& grant_id, const std::string& user_id, absl::Time issued_at) {
  absl::MutexLock lock(&mu_);
  if (revoked_grants_.contains(grant_id)) return true;
  auto it = revoked_users_.find(user_id);
  return it != revoked_users_.end() && issued_at <= it->second.revoked_at;
}

absl::StatusOr<Identity> AccessTokenVerifier::Verify(const std::string& token, const std::string& tenant_slug,
                                                     const std::string& server) {
  auto verified = VerifySignature(token, tenant_slug);
  if (!verified.ok()) return verified.status();
  jose::ClaimRules rules;
  rules.issuer = IssuerFor(tenant_slug);
  rules.audience = ResourceFor(tenant_slug, server);
  rules.now = clock_.Now();
  rules.leeway = options_.leeway;
  if (auto s = jose::CheckClaims(verified->claims, rules); !s.ok()) return s;
  const json::object& claims = verified->claims;
  Identity id;
  id.tenant_id = Claim(claims, "tid");
  id.tenant_slug = tenant_slug;
  id.user_id = Claim(claims, "sub");
  id.token_id = Claim(claims, "gid");
  id.client_type = "personal";
  if (id.tenant_id.empty() || id.user_id.empty() || id.token_id.empty()) {
    return absl::UnauthenticatedError("access token lacks its subject, tenant or grant");
  }
  const json::value* iat = claims.if_contains("iat");
  const absl::Time issued_at =
      iat != nullptr && iat->is_number() ? absl::FromUnixSeconds(static_cast<int64_t>(iat->to_number<double>()))
                                         : absl::InfinitePast();
  if (IsRevoked(id.token_id, id.user_id, issued_at)) {
    return absl::UnauthenticatedError("access was revoked; sign in again");
  }
  auto user = User(id.tenant_id, id.user_id);
  if (!user.ok()) return user.status();
  if (user->disabled()) return absl::UnauthenticatedError("this user is disabled");
  id.email = user->email();
  id.group_ids.assign(user->group_ids().begin(), user->group_ids().end());
  return id;
}

absl::StatusOr<std::string> AccessTokenVerifier::GrantOf(const std::string& token, const std::string& tenant_slug) {
  auto verified = VerifySignature(token, tenant_slug);
  if (!verified.ok()) return verified.status();
  if (Claim(verified->claims, "iss") != IssuerFor(tenant_slug)) {
    return absl::UnauthenticatedError("access token was issued by someone else");
  }
  std::string grant = Claim(verified->claims, "gid");
  if (grant.empty()) return absl::UnauthenticatedError("access token names no grant");
  return grant;
}

absl::Status AccessTokenVerifier::PollRevocations() {
  tv::ListRevocationsRequest req;
  {
    absl::MutexLock lock(&mu_);
    req.set_after_seq(revocations_seen_);
  }
  req.set_limit(1000);
  auto page = signin_.ListRevocations(req);
  if (!page.ok()) return page.status();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  for (const tv::Revocation& r : page->revocations()) {
    revocations_seen_ = std::max(revocations_seen_, r.seq());
    Revoked entry{FromProto(r.revoked_at()), FromProto(r.expires_at())};
    if (!r.has_revoked_at()) entry.revoked_at = absl::InfiniteFuture();
    if (r.kind() == tv::Revocation::KIND_GRANT) revoked_grants_[r.id()] = entry;
    if (r.kind() == tv::Revocation::KIND_USER) {
      revoked_users_[r.id()] = entry;
      users_.erase(UserKey(r.tenant_id(), r.id()));
    }
  }
  for (auto* set : {&revoked_grants_, &revoked_users_}) {
    for (auto it = set->begin(); it != set->end();) {
      if (it->second.expires_at < now) {
        set->erase(it++);
      } else {
        ++it;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace bastion::edge
