// Per-tenant policy snapshots for the decision path, and the policy-version watchers.
//
// A snapshot is rebuilt when the tenant's policy version moves on (Invalidate: called by this
// replica after its own change, and by the Postgres LISTEN/NOTIFY listener for changes made on
// other replicas) and re-joined with fresh tenant state and credential metadata once they are
// older than `facts_ttl`, because the tenant service and the vault own those and do not notify.
// A decision on a fresh snapshot takes a shared lock and a few hash lookups; no I/O.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"
#include "services/governance/credential_info.h"
#include "services/governance/governance_store.h"
#include "services/governance/policy_snapshot.h"

namespace bastion::governance {

class PolicyCache {
 public:
  // Tenant state by tenant id or slug (NotFound for an unknown tenant).
  using FactsFetcher = std::function<absl::StatusOr<TenantFacts>(const std::string& tenant_ref)>;
  using Watcher = std::function<void(const std::string& tenant_id, int64_t version)>;

  PolicyCache(GovernanceStore& store, FactsFetcher facts, CredentialInfoSource& credentials,
              const Clock& clock, absl::Duration facts_ttl);

  // The tenant's current snapshot, building it first when it is missing or stale. Errors:
  // NotFound (unknown tenant), or Unavailable/... when the store or tenant service fails —
  // decisions fail closed rather than use a policy known to be stale.
  absl::StatusOr<std::shared_ptr<const PolicySnapshot>> Get(const std::string& tenant_ref);

  // The tenant's policy is at `version` now: snapshots older than it are rebuilt on next use,
  // and watchers of the tenant hear of it (once per version, in increasing order).
  void Invalidate(const std::string& tenant_id, int64_t version);
  // Every snapshot is rebuilt on next use (e.g. after notifications may have been missed).
  void InvalidateAll();
  // Tenants with a snapshot or a watcher: the ones to re-check after missed notifications.
  std::vector<std::string> KnownTenants() const;

  // `watcher` runs on the invalidating thread, under the watchers' lock: it must be quick and
  // must not call Watch/Unwatch. After Unwatch returns, the watcher is not running and never
  // runs again. An empty `tenant_id` watches every tenant.
  int64_t Watch(const std::string& tenant_id, Watcher watcher);
  void Unwatch(int64_t id);

  int64_t builds() const;

 private:
  struct Entry {
    absl::Mutex build_mu;  // one rebuild at a time per tenant
    // The fields below are guarded by PolicyCache::mu_.
    std::shared_ptr<const PolicySnapshot> snapshot;
    std::shared_ptr<const PolicyData> data;
    TenantFacts facts;
    absl::Time facts_at = absl::InfinitePast();
    CredentialsByServer credentials;
    bool stale = true;
    int64_t known_version = 0;
  };

  std::shared_ptr<Entry> FindLocked(const std::string& tenant_ref) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool FreshLocked(const Entry& e, absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<const PolicySnapshot>> Rebuild(std::shared_ptr<Entry> entry,
                                                                 std::optional<TenantFacts> facts);

  GovernanceStore& store_;
  const FactsFetcher fetch_facts_;
  CredentialInfoSource& credentials_;
  const Clock& clock_;
  const absl::Duration facts_ttl_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  // Tenant id and slug -> tenant id.
  absl::flat_hash_map<std::string, std::string> aliases_ ABSL_GUARDED_BY(mu_);
  int64_t builds_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> vault_down_{false};

  mutable absl::Mutex watch_mu_;
  struct WatcherEntry {
    std::string tenant_id;
    Watcher fn;
  };
  absl::flat_hash_map<int64_t, WatcherEntry> watchers_ ABSL_GUARDED_BY(watch_mu_);
  absl::flat_hash_map<std::string, int64_t> notified_ ABSL_GUARDED_BY(watch_mu_);
  int64_t next_watch_id_ ABSL_GUARDED_BY(watch_mu_) = 1;
};

}  // namespace bastion::governance
