// An in-memory GovernanceStore for logic tests: same contract as PgGovernanceStore (version
// check, name uniqueness, idempotent audit appends, hash chain), no database.
#pragma once

#include <algorithm>
#include <map>
#include <set>

#include "absl/synchronization/mutex.h"
#include "services/governance/audit_chain.h"
#include "services/governance/governance_store.h"

namespace bastion::governance {

class FakeGovernanceStore : public GovernanceStore {
 public:
  absl::StatusOr<PolicyData> LoadPolicy(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    ++loads;
    PolicyData p = policies_[tenant_id];
    p.tenant_id = tenant_id;
    return p;
  }

  absl::StatusOr<int64_t> PolicyVersion(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    return policies_[tenant_id].version;
  }

  absl::StatusOr<int64_t> ApplyChange(const PolicyChange& c) override {
    absl::MutexLock l(&mu_);
    if (fail_next_apply_with.has_value()) {
      absl::Status s = *fail_next_apply_with;
      fail_next_apply_with.reset();
      return s;
    }
    PolicyData p = policies_[c.tenant_id];
    if (p.version != c.expected_version) return absl::AbortedError("policy version moved on");
    for (const auto& id : c.delete_server_ids) {
      Erase(p.servers, [&](const Server& s) { return s.id == id; });
      Erase(p.tools, [&](const Tool& t) { return t.server_id == id; });
      Erase(p.toolsets, [&](const Toolset& t) { return t.server_id == id; });
    }
    for (const Server& s : c.upsert_servers) {
      if (!Upsert(p.servers, s, [&](const Server& x) { return x.id == s.id; },
                  [&](const Server& x) { return x.name == s.name; })) {
        return absl::AlreadyExistsError("server name taken");
      }
    }
    for (const Tool& t : c.upsert_tools) {
      Upsert(p.tools, t, [&](const Tool& x) { return x.server_id == t.server_id && x.name == t.name; },
             [](const Tool&) { return false; });
    }
    for (const auto& id : c.delete_toolset_ids) {
      Erase(p.toolsets, [&](const Toolset& t) { return t.id == id; });
    }
    for (const Toolset& t : c.upsert_toolsets) {
      if (!Upsert(p.toolsets, t, [&](const Toolset& x) { return x.id == t.id; },
                  [&](const Toolset& x) { return x.name == t.name; })) {
        return absl::AlreadyExistsError("toolset name taken");
      }
    }
    for (const auto& id : c.delete_profile_ids) {
      Erase(p.profiles, [&](const AccessProfile& a) { return a.id == id; });
    }
    for (const AccessProfile& a : c.upsert_profiles) {
      if (!Upsert(p.profiles, a, [&](const AccessProfile& x) { return x.id == a.id; },
                  [&](const AccessProfile& x) { return x.name == a.name; })) {
        return absl::AlreadyExistsError("profile name taken");
      }
    }
    // Profiles lose toolsets that no longer exist, as the database's foreign keys make them.
    for (AccessProfile& a : p.profiles) {
      Erase(a.toolsets, [&](const std::string& ref) {
        if (ref == kAllApprovedToolset || ref == kApprovedReadOnlyToolset) return false;
        return std::none_of(p.toolsets.begin(), p.toolsets.end(),
                            [&](const Toolset& t) { return t.id == ref; });
      });
    }
    if (c.audit_settings) p.audit_settings = *c.audit_settings;
    ++p.version;
    policies_[c.tenant_id] = p;
    AppendLocked(c.tenant_id, {c.audit});
    ++applied;
    return p.version;
  }

  absl::StatusOr<AppendResult> AppendAudit(const std::string& tenant_id,
                                           const std::vector<AuditEvent>& events) override {
    absl::MutexLock l(&mu_);
    return AppendLocked(tenant_id, events);
  }

  absl::StatusOr<std::vector<AuditEvent>> QueryAudit(const std::string& tenant_id,
                                                     const AuditFilter& f, AuditOrder order,
                                                     int64_t after_seq, int limit) override {
    absl::MutexLock l(&mu_);
    std::vector<AuditEvent> out;
    const auto& all = events_[tenant_id];
    auto consider = [&](const AuditEvent& e) {
      if (f.since && e.time < *f.since) return;
      if (f.until && e.time >= *f.until) return;
      if (!f.user.empty() && e.user_id != f.user && e.user_email != f.user) return;
      if (!f.server.empty() && e.server != f.server) return;
      if (!f.tool.empty() && e.tool != f.tool) return;
      if (f.outcome && (e.kind != AuditKind::kToolCall || e.outcome != *f.outcome)) return;
      if (f.kind && e.kind != *f.kind) return;
      if (static_cast<int>(out.size()) < limit) out.push_back(e);
    };
    if (order == AuditOrder::kOldestFirst) {
      for (const auto& e : all) {
        if (e.seq > after_seq) consider(e);
      }
    } else {
      for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (after_seq == 0 || it->seq < after_seq) consider(*it);
      }
    }
    return out;
  }

  absl::StatusOr<std::vector<AuditEvent>> ReadAuditChain(const std::string& tenant_id,
                                                         int64_t after_seq, int limit) override {
    absl::MutexLock l(&mu_);
    std::vector<AuditEvent> out;
    for (const auto& e : events_[tenant_id]) {
      if (e.seq > after_seq && static_cast<int>(out.size()) < limit) out.push_back(e);
    }
    return out;
  }

  absl::StatusOr<AuditHead> GetAuditHead(const std::string& tenant_id) override {
    absl::MutexLock l(&mu_);
    return heads_[tenant_id];
  }

  // Test hooks: tamper with stored events as someone with database access could.
  void MutateEvent(const std::string& tenant_id, int64_t seq, std::function<void(AuditEvent&)> f) {
    absl::MutexLock l(&mu_);
    for (auto& e : events_[tenant_id]) {
      if (e.seq == seq) f(e);
    }
  }
  void DeleteEvent(const std::string& tenant_id, int64_t seq) {
    absl::MutexLock l(&mu_);
    Erase(events_[tenant_id], [&](const AuditEvent& e) { return e.seq == seq; });
  }
  // Moves the stored version on, as another replica's change would.
  void BumpVersion(const std::string& tenant_id) {
    absl::MutexLock l(&mu_);
    ++policies_[tenant_id].version;
  }

  int loads = 0;
  int applied = 0;
  std::optional<absl::Status> fail_next_apply_with;

 private:
  template <typename T, typename P>
  static void Erase(std::vector<T>& v, P pred) {
    v.erase(std::remove_if(v.begin(), v.end(), pred), v.end());
  }
  // Replaces the row `same` finds or appends; false when `clash` finds another row.
  template <typename T, typename Same, typename Clash>
  static bool Upsert(std::vector<T>& v, const T& row, Same same, Clash clash) {
    for (const T& x : v) {
      if (!same(x) && clash(x)) return false;
    }
    for (T& x : v) {
      if (same(x)) {
        x = row;
        return true;
      }
    }
    v.push_back(row);
    return true;
  }

  AppendResult AppendLocked(const std::string& tenant_id, const std::vector<AuditEvent>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    AppendResult r;
    auto& ids = event_ids_[tenant_id];
    for (AuditEvent e : events) {
      if (!ids.insert(e.event_id).second) {
        ++r.duplicates;
        continue;
      }
      e.tenant_id = tenant_id;
      heads_[tenant_id] = Link(heads_[tenant_id], e);
      events_[tenant_id].push_back(e);
      ++r.recorded;
    }
    return r;
  }

  absl::Mutex mu_;
  std::map<std::string, PolicyData> policies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<AuditEvent>> events_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> event_ids_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AuditHead> heads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::governance
