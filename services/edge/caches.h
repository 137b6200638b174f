// In-memory caches in front of the tenant directory and governance, so the MCP hot path makes
// no remote call for an identity, a tenant's access or a user's allowed tools it saw recently.
// A tenant's access is remembered only while it is allowed (a kill switch or deactivation
// reaches clients within `access_ttl`; an activation on the next request). Allowed tools are
// keyed by policy version: when governance reports a new version for a
// tenant (WatchPolicy), that tenant's entries are dropped at once; an entry also ends when the
// first access grant behind it expires (which changes no version).
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/registry.h"
#include "common/time/clock.h"
#include "services/edge/backends.h"

namespace bastion::edge {

struct CacheStats {
  explicit CacheStats(metrics::Registry& registry);
  void Hit(const char* cache) { lookups.Add({{"cache", cache}, {"result", "hit"}}).Increment(); }
  void Miss(const char* cache) { lookups.Add({{"cache", cache}, {"result", "miss"}}).Increment(); }
  metrics::Family<metrics::Counter>& lookups;
};

class CachingDirectory : public TenantDirectory {
 public:
  CachingDirectory(TenantDirectory& inner, const Clock& clock, CacheStats& stats,
                   absl::Duration identity_ttl = absl::Seconds(15),
                   absl::Duration access_ttl = absl::Seconds(2));
  absl::StatusOr<Identity> Authenticate(const std::string& token) override;
  absl::StatusOr<TenantAccess> CheckAccess(const std::string& tenant_slug) override;

 private:
  TenantDirectory& inner_;
  const Clock& clock_;
  CacheStats& stats_;
  const absl::Duration identity_ttl_;
  const absl::Duration access_ttl_;
  absl::Mutex mu_;
  // Keyed by SHA-256 of the token: the cache never holds a token.
  absl::flat_hash_map<std::string, std::pair<absl::StatusOr<Identity>, absl::Time>> identities_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::pair<TenantAccess, absl::Time>> access_ ABSL_GUARDED_BY(mu_);
};

class CachingPolicy : public PolicyClient {
 public:
  CachingPolicy(PolicyClient& inner, const Clock& clock, CacheStats& stats,
                absl::Duration ttl = absl::Seconds(60));
  absl::StatusOr<AllowedTools> ListAllowedTools(const Identity& who, const std::string& server) override;
  // Decisions are not cached: each call is checked (governance answers from memory).
  absl::StatusOr<Decision> Authorize(const Identity& who, const std::string& server,
                                     const std::string& tool) override {
    return inner_.Authorize(who, server, tool);
  }
  // Called when governance reports a new policy version for a tenant.
  void Invalidate(const std::string& tenant_id, int64_t version);

 private:
  struct Entry {
    AllowedTools tools;
    absl::Time expires;
  };
  PolicyClient& inner_;
  const Clock& clock_;
  CacheStats& stats_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);  // tenant|user|groups|server
  absl::flat_hash_map<std::string, int64_t> versions_ ABSL_GUARDED_BY(mu_);  // tenant -> newest seen
};

// Upstream credentials for a short time (never past 60 s before an OAuth token expires), so a
// burst of tool calls costs one vault round trip. Entries hold secrets: they live only in
// memory, are wiped when dropped, and one PagerDuty rejected is forgotten at once.
class CachingCredentials : public CredentialClient {
 public:
  CachingCredentials(CredentialClient& inner, const Clock& clock, CacheStats& stats,
                     absl::Duration ttl = absl::Seconds(30));
  absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const Identity& who,
                                                           const std::string& server) override;
  absl::StatusOr<AuthorizationNeeded> BeginUserAuthorization(const Identity& who,
                                                             const std::string& server) override {
    return inner_.BeginUserAuthorization(who, server);
  }
  absl::StatusOr<std::string> CompleteUserAuthorization(const std::string& state,
                                                        const std::string& code) override {
    return inner_.CompleteUserAuthorization(state, code);
  }
  void Forget(const Identity& who, const std::string& server) override;

 private:
  struct Entry {
    UpstreamCredential credential;
    absl::Time expires;
  };
  static std::string Key(const Identity& who, const std::string& server);

  CredentialClient& inner_;
  const Clock& clock_;
  CacheStats& stats_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::edge
