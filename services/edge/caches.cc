#include "services/edge/caches.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/crypto.h"

namespace bastion::edge {

CacheStats::CacheStats(metrics::Registry& registry)
    : lookups(metrics::BuildCounter()
                  .Name("bastion_edge_cache_lookups_total")
                  .Help("Edge cache lookups by cache and result (hit or miss).")
                  .Register(registry)) {}

CachingDirectory::CachingDirectory(TenantDirectory& inner, const Clock& clock, CacheStats& stats,
                                   absl::Duration identity_ttl, absl::Duration access_ttl)
    : inner_(inner), clock_(clock), stats_(stats), identity_ttl_(identity_ttl), access_ttl_(access_ttl) {}

absl::StatusOr<Identity> CachingDirectory::Authenticate(const std::string& token) {
  const std::string key = crypto::Sha256(token);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = identities_.find(key);
    if (it != identities_.end() && it->second.second > now) {
      stats_.Hit("identity");
      return it->second.first;
    }
  }
  stats_.Miss("identity");
  absl::StatusOr<Identity> result = inner_.Authenticate(token);
  const auto code = result.status().code();
  // Remember answers, good or bad, but never an outage.
  if (result.ok() || code == absl::StatusCode::kUnauthenticated || code == absl::StatusCode::kPermissionDenied) {
    absl::MutexLock lock(&mu_);
    if (identities_.size() > 50000) identities_.clear();
    identities_[key] = {result, now + (result.ok() ? identity_ttl_ : absl::Seconds(5))};
  }
  return result;
}

absl::StatusOr<TenantAccess> CachingDirectory::CheckAccess(const std::string& tenant_slug) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = access_.find(tenant_slug);
    if (it != access_.end() && it->second.second > now) {
      stats_.Hit("access");
      return it->second.first;
    }
  }
  stats_.Miss("access");
  auto result = inner_.CheckAccess(tenant_slug);
  // Only "allowed" is remembered: a tenant that was just activated must work on the next request.
  if (result.ok() && result->allowed) {
    absl::MutexLock lock(&mu_);
    if (access_.size() > 50000) access_.clear();
    access_[tenant_slug] = {*result, now + access_ttl_};
  }
  return result;
}

CachingPolicy::CachingPolicy(PolicyClient& inner, const Clock& clock, CacheStats& stats, absl::Duration ttl)
    : inner_(inner), clock_(clock), stats_(stats), ttl_(ttl) {}

absl::StatusOr<AllowedTools> CachingPolicy::ListAllowedTools(const Identity& who, const std::string& server) {
  const std::string key = absl::StrCat(who.tenant_id, "|", who.user_id, "|",
                                       absl::StrJoin(who.group_ids, ","), "|", server);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    auto v = versions_.find(who.tenant_id);
    const bool current = v == versions_.end() || (it != entries_.end() && it->second.tools.policy_version >= v->second);
    if (it != entries_.end() && it->second.expires > now && current) {
      stats_.Hit("allowed_tools");
      return it->second.tools;
    }
  }
  stats_.Miss("allowed_tools");
  auto result = inner_.ListAllowedTools(who, server);
  if (result.ok()) {
    absl::MutexLock lock(&mu_);
    if (entries_.size() > 50000) entries_.clear();
    // Never past the first grant expiry behind the list: expiry bumps no policy version.
    entries_[key] = Entry{*result, std::min(now + ttl_, result->valid_until)};
  }
  return result;
}

void CachingPolicy::Invalidate(const std::string& tenant_id, int64_t version) {
  absl::MutexLock lock(&mu_);
  int64_t& newest = versions_[tenant_id];
  if (version > newest) newest = version;
}

CachingCredentials::CachingCredentials(CredentialClient& inner, const Clock& clock, CacheStats& stats,
                                       absl::Duration ttl)
    : inner_(inner), clock_(clock), stats_(stats), ttl_(ttl) {}

std::string CachingCredentials::Key(const Identity& who, const std::string& server) {
  return absl::StrCat(who.tenant_id, "|", server, "|", who.user_id);
}

namespace {
void Wipe(UpstreamCredential& c) { crypto::Cleanse(c.authorization); }
}  // namespace

absl::StatusOr<UpstreamCredential> CachingCredentials::GetUpstreamCredential(const Identity& who,
                                                                             const std::string& server) {
  const std::string key = Key(who, server);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.expires > now) {
      stats_.Hit("credential");
      return it->second.credential;
    }
  }
  stats_.Miss("credential");
  auto result = inner_.GetUpstreamCredential(who, server);
  if (!result.ok()) return result;
  absl::Time expires = now + ttl_;
  if (result->expires_at.has_value()) expires = std::min(expires, *result->expires_at - absl::Seconds(60));
  if (expires > now) {
    absl::MutexLock lock(&mu_);
    if (entries_.size() > 50000) {
      for (auto& [k, e] : entries_) Wipe(e.credential);
      entries_.clear();
    }
    Entry& e = entries_[key];
    Wipe(e.credential);
    e = Entry{*result, expires};
  }
  return result;
}

void CachingCredentials::Forget(const Identity& who, const std::string& server) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(who, server));
  if (it == entries_.end()) return;
  Wipe(it->second.credential);
  entries_.erase(it);
}

}  // namespace bastion::edge
