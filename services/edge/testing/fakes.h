// Fakes of the edge's backends for logic tests: in-memory tenants, policy, credentials, tools
// and audit, each recording what the edge asked of it.
#pragma once

#include <map>
#include <set>

#include "absl/synchronization/mutex.h"
#include "common/time/clock.h"
#include "services/edge/backends.h"

namespace bastion::edge {

class FakeDirectory : public TenantDirectory {
 public:
  void AddToken(const std::string& token, Identity id) {
    absl::MutexLock l(&mu_);
    tokens_[token] = std::move(id);
  }
  void Revoke(const std::string& token) {
    absl::MutexLock l(&mu_);
    tokens_.erase(token);
  }
  absl::StatusOr<Identity> Authenticate(const std::string& token) override {
    absl::MutexLock l(&mu_);
    ++authentications;
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return absl::UnauthenticatedError("unknown client token");
    return it->second;
  }
  absl::StatusOr<TenantAccess> CheckAccess(const std::string& slug) override {
    auto it = access_.find(slug);
    if (it == access_.end()) return TenantAccess{true, "", 1};
    return it->second;
  }
  void SetAccess(const std::string& slug, TenantAccess a) { access_[slug] = std::move(a); }
  int authentications = 0;

 private:
  absl::Mutex mu_;
  std::map<std::string, Identity> tokens_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, TenantAccess> access_;
};

class FakePolicy : public PolicyClient {
 public:
  // Grants with an expiry need a clock to tell whether they still hold.
  explicit FakePolicy(const Clock* clock = nullptr) : clock_(clock) {}
  void Allow(const std::string& user_id, const std::string& tool,
             absl::Time until = absl::InfiniteFuture()) {
    absl::MutexLock l(&mu_);
    allowed_[user_id][tool] = until;
  }
  absl::StatusOr<AllowedTools> ListAllowedTools(const Identity& who, const std::string& server) override {
    if (server != "pagerduty") return absl::NotFoundError("no such server");
    absl::MutexLock l(&mu_);
    AllowedTools out;
    for (const auto& [tool, until] : allowed_[who.user_id]) {
      if (until <= Now()) continue;
      out.names.push_back(tool);
      out.valid_until = std::min(out.valid_until, until);
    }
    out.policy_version = 7;
    return out;
  }
  absl::StatusOr<Decision> Authorize(const Identity& who, const std::string& server,
                                     const std::string& tool) override {
    absl::MutexLock l(&mu_);
    auto it = allowed_[who.user_id].find(tool);
    if (it != allowed_[who.user_id].end() && it->second > Now()) return Decision{true, "allowed", ""};
    return Decision{false, "not_granted", "the tool is not in any toolset granted to you"};
  }

 private:
  absl::Time Now() const { return clock_ != nullptr ? clock_->Now() : absl::Now(); }
  const Clock* clock_;
  absl::Mutex mu_;
  std::map<std::string, std::map<std::string, absl::Time>> allowed_ ABSL_GUARDED_BY(mu_);
};

class FakeCredentials : public CredentialClient {
 public:
  bool needs_oauth = false;
  absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const Identity& who, const std::string&) override {
    if (needs_oauth) return absl::FailedPreconditionError("user has not connected PagerDuty");
    return UpstreamCredential{"Token token=sim-key", "actor@example.com", "us", std::nullopt};
  }
  absl::StatusOr<AuthorizationNeeded> BeginUserAuthorization(const Identity&, const std::string&) override {
    return AuthorizationNeeded{"https://identity.example/oauth/authorize?state=abc", "Connect PagerDuty first."};
  }
  absl::StatusOr<std::string> CompleteUserAuthorization(const std::string&, const std::string&) override {
    return std::string("PagerDuty connected");
  }
  void Forget(const Identity&, const std::string&) override { ++forgotten; }
  int forgotten = 0;
};

class FakeTools : public ToolRunner {
 public:
  FakeTools() {
    for (const char* name : {"list_incidents", "get_incident", "create_incident", "list_services"}) {
      defs_.push_back({{"name", name},
                       {"description", "test tool"},
                       {"inputSchema", {{"type", "object"}}}});
    }
  }
  const std::vector<boost::json::object>& Definitions() const override { return defs_; }
  bool Knows(const std::string& tool) const override {
    for (const auto& d : defs_) {
      if (d.at("name").as_string() == tool) return true;
    }
    return false;
  }
  ToolOutcome Run(const std::string& tool, const boost::json::object& args,
                  const UpstreamCredential& credential) override {
    ++runs;
    last_authorization = credential.authorization;
    if (tool == "list_services" && credential.authorization == "Token token=sim-key" && reject_key) {
      return ToolOutcome{ToolOutcome::Kind::kCredentialRejected, nullptr,
                         "PagerDuty rejected the credential: it is invalid or expired", 401};
    }
    if (args.contains("limit") && !args.at("limit").is_int64()) {
      return ToolOutcome{ToolOutcome::Kind::kInvalidArguments, nullptr, "arguments.limit: expected integer", 0};
    }
    return ToolOutcome{ToolOutcome::Kind::kOk, boost::json::object{{"tool", tool}, {"incidents", boost::json::array{}}}, "", 200};
  }
  int runs = 0;
  bool reject_key = false;
  std::string last_authorization;

 private:
  std::vector<boost::json::object> defs_;
};

class FakeAudit : public AuditSink {
 public:
  bool full = false;
  bool Record(AuditEvent e) override {
    absl::MutexLock l(&mu);
    events.push_back(std::move(e));
    return true;
  }
  bool HasRoom() const override { return !full; }
  absl::Mutex mu;
  std::vector<AuditEvent> events;
};

}  // namespace bastion::edge
