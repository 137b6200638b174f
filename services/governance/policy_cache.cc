#include "services/governance/policy_cache.h"

#include <algorithm>
#include <set>

#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace bastion::governance {
namespace {

// A load that raced with a newer commit is retried this often before the store's answer is
// taken as the truth (a bogus notification must not make every decision reload).
constexpr int kLoadAttempts = 3;

}  // namespace

PolicyCache::PolicyCache(GovernanceStore& store, FactsFetcher facts,
                         CredentialInfoSource& credentials, const Clock& clock,
                         absl::Duration facts_ttl)
    : store_(store),
      fetch_facts_(std::move(facts)),
      credentials_(credentials),
      clock_(clock),
      facts_ttl_(facts_ttl) {}

std::shared_ptr<PolicyCache::Entry> PolicyCache::FindLocked(const std::string& ref) const {
  auto alias = aliases_.find(ref);
  if (alias == aliases_.end()) return nullptr;
  auto it = entries_.find(alias->second);
  return it == entries_.end() ? nullptr : it->second;
}

bool PolicyCache::FreshLocked(const Entry& e, absl::Time now) const {
  return e.snapshot != nullptr && !e.stale && now < e.facts_at + facts_ttl_;
}

absl::StatusOr<std::shared_ptr<const PolicySnapshot>> PolicyCache::Get(const std::string& ref) {
  std::shared_ptr<Entry> entry;
  {
    absl::ReaderMutexLock lock(&mu_);
    entry = FindLocked(ref);
    if (entry != nullptr && FreshLocked(*entry, clock_.Now())) return entry->snapshot;
  }
  std::optional<TenantFacts> facts;
  if (entry == nullptr) {
    ASSIGN_OR_RETURN(TenantFacts f, fetch_facts_(ref));
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Entry>& e = entries_[f.id];
    if (e == nullptr) {
      e = std::make_shared<Entry>();
      e->facts = f;
    }
    aliases_[f.id] = f.id;
    aliases_[f.slug] = f.id;
    entry = e;
    facts = std::move(f);
  }
  return Rebuild(std::move(entry), std::move(facts));
}

absl::StatusOr<std::shared_ptr<const PolicySnapshot>> PolicyCache::Rebuild(
    std::shared_ptr<Entry> entry, std::optional<TenantFacts> fetched) {
  absl::MutexLock build(&entry->build_mu);
  const absl::Time now = clock_.Now();
  bool need_data = false;
  bool need_facts = false;
  std::shared_ptr<const PolicyData> data;
  TenantFacts facts;
  absl::Time facts_at;
  CredentialsByServer credentials;
  {
    absl::ReaderMutexLock lock(&mu_);
    // Another thread may have rebuilt it while this one waited.
    if (FreshLocked(*entry, now)) return entry->snapshot;
    need_data = entry->stale || entry->data == nullptr;
    need_facts = now >= entry->facts_at + facts_ttl_;
    data = entry->data;
    facts = entry->facts;
    facts_at = entry->facts_at;
    credentials = entry->credentials;
  }
  const std::string tenant_id = facts.id;
  if (fetched.has_value()) {
    facts = *std::move(fetched);
    facts_at = now;
  } else if (need_facts) {
    ASSIGN_OR_RETURN(facts, fetch_facts_(tenant_id));
    facts_at = now;
  }
  // Credentials are re-asked with the tenant's state; between those refreshes only servers not
  // asked about yet are.
  if (need_facts) credentials.clear();

  for (int attempt = 1; need_data; ++attempt) {
    ASSIGN_OR_RETURN(PolicyData loaded, store_.LoadPolicy(tenant_id));
    data = std::make_shared<const PolicyData>(std::move(loaded));
    absl::MutexLock lock(&mu_);
    if (entry->known_version <= data->version || attempt >= kLoadAttempts) {
      entry->known_version = std::max(entry->known_version, data->version);
      if (attempt >= kLoadAttempts) entry->known_version = data->version;
      need_data = false;
    }
  }
  for (const Server& s : data->servers) {
    if (credentials.contains(s.id)) continue;
    auto info = credentials_.GetCredentialInfo(tenant_id, s.name);
    // Unknown credentials are not flagged (the call then fails upstream instead); say so once
    // per outage rather than per rebuild.
    const bool was_down = vault_down_.exchange(!info.ok());
    if (!info.ok() && !was_down) {
      log::Warn("cannot read credential metadata from the vault; credential checks are off until it answers",
                {{"error", info.status().message()}});
    } else if (info.ok() && was_down) {
      log::Info("credential metadata readable again");
    }
    credentials.emplace(s.id, std::move(info));
  }

  auto snapshot = std::make_shared<const PolicySnapshot>(*data, facts, credentials);
  absl::MutexLock lock(&mu_);
  entry->data = data;
  entry->facts = facts;
  entry->facts_at = facts_at;
  entry->credentials = std::move(credentials);
  entry->snapshot = snapshot;
  entry->stale = entry->known_version > data->version;
  aliases_[facts.slug] = facts.id;
  ++builds_;
  return snapshot;
}

void PolicyCache::Invalidate(const std::string& tenant_id, int64_t version) {
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(tenant_id);
    if (it != entries_.end()) {
      Entry& e = *it->second;
      e.known_version = std::max(e.known_version, version);
      if (e.data == nullptr || e.data->version < version) e.stale = true;
    }
  }
  absl::MutexLock lock(&watch_mu_);
  int64_t& last = notified_[tenant_id];
  if (version <= last) return;
  last = version;
  for (auto& [id, w] : watchers_) {
    if (w.tenant_id == tenant_id || w.tenant_id.empty()) w.fn(tenant_id, version);
  }
}

void PolicyCache::InvalidateAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, e] : entries_) e->stale = true;
}

std::vector<std::string> PolicyCache::KnownTenants() const {
  std::set<std::string> ids;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [id, e] : entries_) ids.insert(id);
  }
  {
    absl::MutexLock lock(&watch_mu_);
    for (const auto& [id, w] : watchers_) {
      if (!w.tenant_id.empty()) ids.insert(w.tenant_id);  // "" watches every tenant
    }
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

int64_t PolicyCache::Watch(const std::string& tenant_id, Watcher watcher) {
  absl::MutexLock lock(&watch_mu_);
  const int64_t id = next_watch_id_++;
  watchers_[id] = WatcherEntry{tenant_id, std::move(watcher)};
  return id;
}

void PolicyCache::Unwatch(int64_t id) {
  absl::MutexLock lock(&watch_mu_);
  watchers_.erase(id);
}

int64_t PolicyCache::builds() const {
  absl::ReaderMutexLock lock(&mu_);
  return builds_;
}

}  // namespace bastion::governance
