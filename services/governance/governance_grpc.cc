#include "services/governance/governance_grpc.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc/request_check.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace bastion::governance {
namespace {

using google::protobuf::util::TimeUtil;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  *ts = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(ts));
}

// Domain enums and their proto twins, in one table per type.
template <typename D, typename P>
struct EnumPair {
  D domain;
  P proto;
};

const EnumPair<Region, pb::Region> kRegions[] = {{Region::kUs, pb::REGION_US}, {Region::kEu, pb::REGION_EU}};
const EnumPair<AuthMode, pb::AuthMode> kAuthModes[] = {{AuthMode::kOAuth, pb::AUTH_MODE_OAUTH},
                                                       {AuthMode::kApiKey, pb::AUTH_MODE_API_KEY}};
const EnumPair<ToolPolicy, pb::ToolPolicy> kPolicies[] = {
    {ToolPolicy::kTenantDefault, pb::TOOL_POLICY_TENANT_DEFAULT},
    {ToolPolicy::kRequireReview, pb::TOOL_POLICY_REQUIRE_REVIEW},
    {ToolPolicy::kApproveAll, pb::TOOL_POLICY_APPROVE_ALL},
    {ToolPolicy::kApproveReadOnly, pb::TOOL_POLICY_APPROVE_READ_ONLY}};
const EnumPair<ToolState, pb::ToolState> kStates[] = {
    {ToolState::kPendingReview, pb::TOOL_STATE_PENDING_REVIEW},
    {ToolState::kApproved, pb::TOOL_STATE_APPROVED},
    {ToolState::kDisabled, pb::TOOL_STATE_DISABLED},
    {ToolState::kRemoved, pb::TOOL_STATE_REMOVED}};
const EnumPair<DenyReason, pb::DenyReason> kReasons[] = {
    {DenyReason::kNone, pb::DENY_REASON_NONE},
    {DenyReason::kTenantInactive, pb::DENY_REASON_TENANT_INACTIVE},
    {DenyReason::kKillSwitch, pb::DENY_REASON_KILL_SWITCH},
    {DenyReason::kServerUnavailable, pb::DENY_REASON_SERVER_UNAVAILABLE},
    {DenyReason::kUnknownTool, pb::DENY_REASON_UNKNOWN_TOOL},
    {DenyReason::kToolPendingReview, pb::DENY_REASON_TOOL_PENDING_REVIEW},
    {DenyReason::kToolDisabled, pb::DENY_REASON_TOOL_DISABLED},
    {DenyReason::kNotGranted, pb::DENY_REASON_NOT_GRANTED},
    {DenyReason::kGrantExpired, pb::DENY_REASON_GRANT_EXPIRED},
    {DenyReason::kCredentialCannotServe, pb::DENY_REASON_CREDENTIAL_CANNOT_SERVE}};
const EnumPair<Decision, pb::Decision> kDecisions[] = {{Decision::kAllow, pb::DECISION_ALLOW},
                                                       {Decision::kDeny, pb::DECISION_DENY}};
const EnumPair<Outcome, pb::Outcome> kOutcomes[] = {{Outcome::kSuccess, pb::OUTCOME_SUCCESS},
                                                    {Outcome::kError, pb::OUTCOME_ERROR},
                                                    {Outcome::kDenied, pb::OUTCOME_DENIED}};
const EnumPair<AuditKind, pb::AuditKind> kKinds[] = {
    {AuditKind::kToolCall, pb::AUDIT_KIND_TOOL_CALL}, {AuditKind::kAdminChange, pb::AUDIT_KIND_ADMIN_CHANGE}};

template <typename D, typename P, size_t N>
P ToProto(const EnumPair<D, P> (&table)[N], D v) {
  for (const auto& e : table) {
    if (e.domain == v) return e.proto;
  }
  return static_cast<P>(0);
}

// The domain value for a proto enum value; InvalidArgument naming the field otherwise.
template <typename D, typename P, size_t N>
absl::StatusOr<D> FromProto(const EnumPair<D, P> (&table)[N], int v, const char* field) {
  std::string allowed;
  for (const auto& e : table) {
    if (static_cast<int>(e.proto) == v) return e.domain;
    absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", Name(e.domain));
  }
  return absl::InvalidArgumentError(absl::StrCat(field, " must be one of: ", allowed));
}

// Unspecified proto value -> `fallback`.
template <typename D, typename P, size_t N>
absl::StatusOr<D> FromProtoOr(const EnumPair<D, P> (&table)[N], int v, const char* field, D fallback) {
  if (v == 0) return fallback;
  return FromProto(table, v, field);
}

void ToProto(const Server& s, pb::Server* out) {
  out->set_id(s.id);
  out->set_tenant_id(s.tenant_id);
  out->set_name(s.name);
  out->set_type(pb::SERVER_TYPE_PAGERDUTY);
  out->set_region(ToProto(kRegions, s.region));
  out->set_auth_mode(ToProto(kAuthModes, s.auth_mode));
  out->set_tool_policy(ToProto(kPolicies, s.tool_policy));
  out->set_enabled(s.enabled);
  SetTime(s.created_at, out->mutable_created_at());
  SetTime(s.updated_at, out->mutable_updated_at());
  if (s.last_synced_at) SetTime(*s.last_synced_at, out->mutable_last_synced_at());
}

void ToProto(const SyncSummary& s, pb::SyncSummary* out) {
  out->set_new_tools(static_cast<int>(s.new_names.size()));
  out->set_changed_tools(static_cast<int>(s.changed_names.size()));
  out->set_removed_tools(static_cast<int>(s.removed_names.size()));
  out->set_unchanged_tools(s.unchanged);
  for (const auto& n : s.new_names) out->add_new_names(n);
  for (const auto& n : s.changed_names) out->add_changed_names(n);
  for (const auto& n : s.removed_names) out->add_removed_names(n);
  out->set_policy_version(s.policy_version);
}

void ToProto(const Tool& t, const CredentialFit* fit, pb::Tool* out) {
  out->set_server_id(t.server_id);
  out->set_name(t.name);
  out->set_title(t.title);
  out->set_description(t.description);
  out->set_access(t.access == Access::kWrite ? pb::ACCESS_WRITE : pb::ACCESS_READ);
  auto* a = out->mutable_annotations();
  a->set_read_only_hint(t.annotations.read_only);
  a->set_destructive_hint(t.annotations.destructive);
  a->set_idempotent_hint(t.annotations.idempotent);
  a->set_open_world_hint(t.annotations.open_world);
  for (const auto& s : t.scopes) out->add_oauth_scopes(s);
  out->set_state(ToProto(kStates, t.state));
  out->set_kill_switch(t.kill_switch);
  out->set_definition_json(t.definition_json);
  out->set_digest(t.digest);
  if (fit != nullptr) {
    out->mutable_credential()->set_known(fit->known);
    out->mutable_credential()->set_can_serve(fit->can_serve);
    out->mutable_credential()->set_problem(fit->problem);
  }
  SetTime(t.discovered_at, out->mutable_discovered_at());
  SetTime(t.state_changed_at, out->mutable_state_changed_at());
  out->set_state_changed_by(t.state_changed_by);
}

void ToProto(const ToolsetView& v, pb::Toolset* out) {
  out->set_id(v.toolset.id);
  out->set_tenant_id(v.toolset.tenant_id);
  out->set_name(v.toolset.name);
  out->set_description(v.toolset.description);
  out->set_server(v.server_name);
  out->set_server_id(v.toolset.server_id);
  for (const auto& t : v.toolset.tools) out->add_tools(t);
  out->set_builtin(v.builtin);
  if (!v.builtin) {
    SetTime(v.toolset.created_at, out->mutable_created_at());
    SetTime(v.toolset.updated_at, out->mutable_updated_at());
  }
}

void ToProto(const ProfileView& v, pb::AccessProfile* out) {
  const AccessProfile& a = v.profile;
  out->set_id(a.id);
  out->set_tenant_id(a.tenant_id);
  out->set_name(a.name);
  out->set_description(a.description);
  for (const auto& t : v.toolset_names) out->add_toolsets(t);
  for (const Member& m : a.members) {
    pb::Member* pm = out->add_members();
    pm->set_kind(m.kind == Member::Kind::kGroup ? pb::Member::KIND_GROUP : pb::Member::KIND_USER);
    pm->set_id(m.id);
    pm->set_label(m.label);
  }
  if (a.expires_at) SetTime(*a.expires_at, out->mutable_expires_at());
  out->set_expired(v.expired);
  SetTime(a.created_at, out->mutable_created_at());
  SetTime(a.updated_at, out->mutable_updated_at());
}

void ToProto(const AuditEvent& e, pb::AuditEvent* out) {
  out->set_event_id(e.event_id);
  out->set_tenant_id(e.tenant_id);
  out->set_seq(e.seq);
  SetTime(e.time, out->mutable_time());
  out->set_kind(ToProto(kKinds, e.kind));
  out->set_actor(e.actor);
  out->set_prev_hash(e.prev_hash);
  out->set_hash(e.hash);
  if (e.kind == AuditKind::kAdminChange) {
    out->set_action(e.action);
    out->set_target(e.target);
    out->set_details_json(e.details_json);
    return;
  }
  out->set_user_id(e.user_id);
  out->set_user_email(e.user_email);
  out->set_client(e.client);
  out->set_server(e.server);
  out->set_tool(e.tool);
  out->set_decision(ToProto(kDecisions, e.decision));
  out->set_reason(ToProto(kReasons, e.reason));
  out->set_outcome(ToProto(kOutcomes, e.outcome));
  out->set_upstream_status(e.upstream_status);
  out->set_latency_ms(e.latency_ms);
  out->set_request_id(e.request_id);
  out->set_arguments_digest(e.arguments_digest);
  out->set_arguments_json(e.arguments_json);
}

absl::StatusOr<AuditFilter> FromProto(const pb::AuditFilter& f) {
  AuditFilter out;
  if (f.has_since()) out.since = FromTimestamp(f.since());
  if (f.has_until()) out.until = FromTimestamp(f.until());
  out.user = f.user();
  out.server = f.server();
  out.tool = f.tool();
  if (f.outcome() != pb::OUTCOME_UNSPECIFIED) {
    ASSIGN_OR_RETURN(out.outcome, FromProto(kOutcomes, f.outcome(), "filter.outcome"));
  }
  if (f.kind() != pb::AUDIT_KIND_UNSPECIFIED) {
    ASSIGN_OR_RETURN(out.kind, FromProto(kKinds, f.kind(), "filter.kind"));
  }
  return out;
}

absl::StatusOr<ToolCallRecord> FromProto(const pb::ToolCallEvent& e, int index) {
  ToolCallRecord r;
  r.tenant = e.tenant();
  AuditEvent& a = r.event;
  a.event_id = e.event_id();
  a.time = e.has_time() ? FromTimestamp(e.time()) : absl::InfinitePast();
  a.user_id = e.user_id();
  a.user_email = e.user_email();
  a.client = e.client();
  a.server = e.server();
  a.tool = e.tool();
  const std::string where = absl::StrCat("events[", index, "].");
  ASSIGN_OR_RETURN(a.decision, FromProto(kDecisions, e.decision(), (where + "decision").c_str()));
  ASSIGN_OR_RETURN(a.reason, FromProto(kReasons, e.reason(), (where + "reason").c_str()));
  ASSIGN_OR_RETURN(a.outcome, FromProto(kOutcomes, e.outcome(), (where + "outcome").c_str()));
  a.upstream_status = e.upstream_status();
  a.latency_ms = e.latency_ms();
  a.request_id = e.request_id();
  a.arguments_digest = e.arguments_digest();
  a.arguments_json = e.arguments_json();
  return r;
}

// Streams policy versions: for one tenant, its current version and then each newer one; for a
// service watching every tenant (empty tenant), each change as it happens. Versions that arrive
// while a write is in flight are coalesced per tenant. Deletes itself once gRPC is done with it
// and the registration task has finished.
class WatchReactor final : public grpc::ServerWriteReactor<pb::PolicyVersion> {
 public:
  WatchReactor(GovernanceService& svc, auth::CallerResolver& callers, Executor& executor,
               grpc::CallbackServerContext* ctx, std::string tenant)
      : svc_(svc) {
    if (!executor.TrySubmit([this, &callers, ctx, tenant = std::move(tenant)] { Register(callers, *ctx, tenant); })) {
      {
        absl::MutexLock l(&mu_);
        registering_ = false;
      }
      MaybeFinish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "server is busy; retry later"));
      Release();
    }
  }

  void OnWriteDone(bool ok) override {
    bool next = false;
    {
      absl::MutexLock l(&mu_);
      writing_ = false;
      if (ok) next = TakePendingLocked();
    }
    if (!ok) return MaybeFinish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
    if (next) StartWrite(&msg_);
  }

  void OnCancel() override {
    {
      absl::MutexLock l(&mu_);
      cancelled_ = true;
      // The registration task still reads the call's context; it finishes the call itself.
      if (registering_) return;
    }
    MaybeFinish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    int64_t id;
    {
      absl::MutexLock l(&mu_);
      done_ = true;
      id = watch_id_;
    }
    // After Unwatch returns no watcher callback runs, so `this` may go.
    if (id != 0) svc_.Unwatch(id);
    Release();
  }

 private:
  void Register(auth::CallerResolver& callers, grpc::CallbackServerContext& ctx,
                const std::string& tenant) {
    absl::StatusOr<PolicyWatch> w = [&]() -> absl::StatusOr<PolicyWatch> {
      ASSIGN_OR_RETURN(auth::Caller caller, callers.Resolve(ctx));
      return svc_.WatchPolicy(caller, tenant,
                              [this](const std::string& tenant_id, int64_t v) { OnVersion(tenant_id, v); });
    }();
    bool cancelled;
    {
      absl::MutexLock l(&mu_);
      registering_ = false;
      cancelled = cancelled_;
      if (w.ok()) {
        registered_ = true;
        watch_id_ = w->watch_id;
      }
    }
    if (!w.ok()) {
      MaybeFinish(grpcutil::ToGrpc(w.status()));
    } else if (cancelled) {
      svc_.Unwatch(w->watch_id);
      MaybeFinish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    } else if (!w->tenant_id.empty()) {
      OnVersion(w->tenant_id, w->version);
    } else {
      OnVersion("", 0);  // an all-tenants watch has no first version; send what queued meanwhile
    }
    Release();
  }

  void OnVersion(const std::string& tenant_id, int64_t version) {
    bool now = false;
    {
      absl::MutexLock l(&mu_);
      if (finished_) return;
      if (!tenant_id.empty()) {
        int64_t& p = pending_[tenant_id];
        p = std::max(p, version);
      }
      if (!writing_ && registered_) now = TakePendingLocked();
    }
    if (now) StartWrite(&msg_);
  }

  // Moves one tenant's newest unsent version into msg_; false when nothing is new.
  bool TakePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      const int64_t sent = last_sent_[it->first];
      if (it->second <= sent) {
        it = pending_.erase(it);
        continue;
      }
      writing_ = true;
      last_sent_[it->first] = it->second;
      msg_.set_tenant_id(it->first);
      msg_.set_version(it->second);
      pending_.erase(it);
      return true;
    }
    return false;
  }

  void MaybeFinish(grpc::Status status) {
    {
      absl::MutexLock l(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(std::move(status));
  }

  void Release() {
    bool last;
    {
      absl::MutexLock l(&mu_);
      last = --refs_ == 0;
    }
    if (last) delete this;
  }

  GovernanceService& svc_;
  absl::Mutex mu_;
  int refs_ ABSL_GUARDED_BY(mu_) = 2;  // gRPC (until OnDone) and the registration task
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool registering_ ABSL_GUARDED_BY(mu_) = true;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t watch_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int64_t> pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> last_sent_ ABSL_GUARDED_BY(mu_);
  pb::PolicyVersion msg_;  // owned by the write in flight
};

// Streams an export page by page. The export runs on an executor thread and waits for each
// chunk to be written before reading the next page, so a slow reader slows the export instead
// of growing memory.
class ExportReactor final : public grpc::ServerWriteReactor<pb::ExportAuditChunk> {
 public:
  ExportReactor(GovernanceService& svc, auth::CallerResolver& callers, Executor& executor,
                grpc::CallbackServerContext* ctx, pb::ExportAuditRequest req) {
    const bool queued = executor.TrySubmit([this, &svc, &callers, ctx, req = std::move(req)] {
      absl::Status s = Run(svc, callers, *ctx, req);
      {
        absl::MutexLock l(&mu_);
        mu_.Await(absl::Condition(
            +[](bool* writing) { return !*writing; }, &writing_));
      }
      // The last use of `this`: OnDone may delete it once Finish is called.
      Finish(grpcutil::ToGrpc(s));
    });
    if (!queued) Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "server is busy; retry later"));
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock l(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
  }
  void OnCancel() override {
    absl::MutexLock l(&mu_);
    cancelled_ = true;
  }
  void OnDone() override { delete this; }

 private:
  absl::Status Run(GovernanceService& svc, auth::CallerResolver& callers,
                   grpc::CallbackServerContext& ctx, const pb::ExportAuditRequest& req) {
    ASSIGN_OR_RETURN(auth::Caller caller, callers.Resolve(ctx));
    ASSIGN_OR_RETURN(AuditFilter filter, FromProto(req.filter()));
    return svc.ExportAudit(caller, req.tenant(), filter, [this](std::string chunk) -> absl::Status {
      {
        absl::MutexLock l(&mu_);
        mu_.Await(absl::Condition(this, &ExportReactor::ReadyLocked));
        if (cancelled_) return absl::CancelledError("the client stopped reading");
        writing_ = true;
        msg_.set_jsonl(std::move(chunk));
      }
      StartWrite(&msg_);
      return absl::OkStatus();
    });
  }

  bool ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || cancelled_; }

  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  pb::ExportAuditChunk msg_;
};

// A stream refused before it starts (its request failed the shared string check).
template <typename T>
class RefusedStream final : public grpc::ServerWriteReactor<T> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerUnaryReactor* GovernanceGrpc::Call(Ctx* ctx, const google::protobuf::Message& req,
                                                const char* method,
                                                std::function<absl::Status(const auth::Caller&)> fn) {
  return runner_.Run(ctx, method, req, [this, ctx, fn = std::move(fn)]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Caller caller, callers_.Resolve(*ctx));
    return fn(caller);
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::RegisterServer(Ctx* ctx, const pb::RegisterServerRequest* req,
                                                        pb::RegisterServerResponse* resp) {
  return Call(ctx, *req, "RegisterServer", [=](const auth::Caller& c) -> absl::Status {
    ServerSpec spec;
    spec.name = req->name();
    if (req->type() != pb::SERVER_TYPE_UNSPECIFIED && req->type() != pb::SERVER_TYPE_PAGERDUTY) {
      return absl::InvalidArgumentError("type must be pagerduty");
    }
    ASSIGN_OR_RETURN(spec.region, FromProtoOr(kRegions, req->region(), "region", Region::kUs));
    ASSIGN_OR_RETURN(spec.auth_mode, FromProto(kAuthModes, req->auth_mode(), "auth_mode"));
    ASSIGN_OR_RETURN(spec.tool_policy,
                     FromProtoOr(kPolicies, req->tool_policy(), "tool_policy", ToolPolicy::kTenantDefault));
    ASSIGN_OR_RETURN(Registration r, svc_.RegisterServer(c, req->tenant(), spec));
    ToProto(r.server, resp->mutable_server());
    ToProto(r.discovery, resp->mutable_discovery());
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::GetServer(Ctx* ctx, const pb::ServerRef* req, pb::Server* resp) {
  return Call(ctx, *req, "GetServer", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(Server s, svc_.GetServer(c, req->tenant(), req->server()));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::ListServers(Ctx* ctx, const pb::ListServersRequest* req,
                                                     pb::ListServersResponse* resp) {
  return Call(ctx, *req, "ListServers", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Server> servers, svc_.ListServers(c, req->tenant()));
    for (const Server& s : servers) ToProto(s, resp->add_servers());
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::UpdateServer(Ctx* ctx, const pb::UpdateServerRequest* req,
                                                      pb::Server* resp) {
  return Call(ctx, *req, "UpdateServer", [=](const auth::Caller& c) -> absl::Status {
    ServerUpdate u;
    if (req->has_region()) {
      ASSIGN_OR_RETURN(u.region, FromProto(kRegions, req->region(), "region"));
    }
    if (req->has_auth_mode()) {
      ASSIGN_OR_RETURN(u.auth_mode, FromProto(kAuthModes, req->auth_mode(), "auth_mode"));
    }
    if (req->has_tool_policy()) {
      ASSIGN_OR_RETURN(u.tool_policy, FromProto(kPolicies, req->tool_policy(), "tool_policy"));
    }
    if (req->has_enabled()) u.enabled = req->enabled();
    ASSIGN_OR_RETURN(Server s, svc_.UpdateServer(c, req->tenant(), req->server(), u));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::DeleteServer(Ctx* ctx, const pb::ServerRef* req,
                                                      pb::DeleteServerResponse* resp) {
  return Call(ctx, *req, "DeleteServer", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(ServerDeletion d, svc_.DeleteServer(c, req->tenant(), req->server()));
    resp->set_tools_deleted(d.tools_deleted);
    for (const auto& n : d.toolsets_deleted) resp->add_toolsets_deleted(n);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::SyncTools(Ctx* ctx, const pb::ServerRef* req, pb::SyncSummary* resp) {
  return Call(ctx, *req, "SyncTools", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(SyncSummary s, svc_.SyncTools(c, req->tenant(), req->server()));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::ListTools(Ctx* ctx, const pb::ListToolsRequest* req,
                                                   pb::ListToolsResponse* resp) {
  return Call(ctx, *req, "ListTools", [=](const auth::Caller& c) -> absl::Status {
    std::optional<ToolState> state;
    if (req->state() != pb::TOOL_STATE_UNSPECIFIED) {
      ASSIGN_OR_RETURN(state, FromProto(kStates, req->state(), "state"));
    }
    ASSIGN_OR_RETURN(std::vector<ToolView> tools, svc_.ListTools(c, req->tenant(), req->server(), state));
    for (const ToolView& v : tools) ToProto(v.tool, &v.credential, resp->add_tools());
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::SetToolState(Ctx* ctx, const pb::SetToolStateRequest* req,
                                                      pb::SetToolStateResponse* resp) {
  return Call(ctx, *req, "SetToolState", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(ToolState state, FromProto(kStates, req->state(), "state"));
    std::vector<std::string> tools(req->tools().begin(), req->tools().end());
    ASSIGN_OR_RETURN(ToolStateChange r, svc_.SetToolState(c, req->tenant(), req->server(), tools, state));
    for (const Tool& t : r.tools) ToProto(t, nullptr, resp->add_tools());
    resp->set_policy_version(r.policy_version);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::SetToolKillSwitch(Ctx* ctx, const pb::SetToolKillSwitchRequest* req,
                                                           pb::Tool* resp) {
  return Call(ctx, *req, "SetToolKillSwitch", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(Tool t, svc_.SetToolKillSwitch(c, req->tenant(), req->server(), req->tool(), req->on()));
    ToProto(t, nullptr, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::CreateToolset(Ctx* ctx, const pb::CreateToolsetRequest* req,
                                                       pb::Toolset* resp) {
  return Call(ctx, *req, "CreateToolset", [=](const auth::Caller& c) -> absl::Status {
    ToolsetSpec spec{req->name(), req->description(), req->server(),
                     std::vector<std::string>(req->tools().begin(), req->tools().end())};
    ASSIGN_OR_RETURN(ToolsetView v, svc_.CreateToolset(c, req->tenant(), spec));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::UpdateToolset(Ctx* ctx, const pb::UpdateToolsetRequest* req,
                                                       pb::Toolset* resp) {
  return Call(ctx, *req, "UpdateToolset", [=](const auth::Caller& c) -> absl::Status {
    ToolsetUpdate u;
    if (req->has_name()) u.name = req->name();
    if (req->has_description()) u.description = req->description();
    if (req->has_tools()) u.tools = std::vector<std::string>(req->tools().names().begin(), req->tools().names().end());
    ASSIGN_OR_RETURN(ToolsetView v, svc_.UpdateToolset(c, req->tenant(), req->toolset(), u));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::DeleteToolset(Ctx* ctx, const pb::ToolsetRef* req,
                                                       pb::DeleteToolsetResponse* resp) {
  return Call(ctx, *req, "DeleteToolset", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<std::string> changed, svc_.DeleteToolset(c, req->tenant(), req->toolset()));
    for (const auto& n : changed) resp->add_profiles_changed(n);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::ListToolsets(Ctx* ctx, const pb::ListToolsetsRequest* req,
                                                      pb::ListToolsetsResponse* resp) {
  return Call(ctx, *req, "ListToolsets", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<ToolsetView> sets, svc_.ListToolsets(c, req->tenant()));
    for (const ToolsetView& v : sets) ToProto(v, resp->add_toolsets());
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::CreateAccessProfile(Ctx* ctx, const pb::CreateAccessProfileRequest* req,
                                                             pb::AccessProfile* resp) {
  return Call(ctx, *req, "CreateAccessProfile", [=](const auth::Caller& c) -> absl::Status {
    ProfileSpec spec;
    spec.name = req->name();
    spec.description = req->description();
    spec.toolsets.assign(req->toolsets().begin(), req->toolsets().end());
    spec.members.assign(req->members().begin(), req->members().end());
    if (req->has_expires_at()) spec.expires_at = FromTimestamp(req->expires_at());
    ASSIGN_OR_RETURN(ProfileView v, svc_.CreateAccessProfile(c, req->tenant(), spec));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::UpdateAccessProfile(Ctx* ctx, const pb::UpdateAccessProfileRequest* req,
                                                             pb::AccessProfile* resp) {
  return Call(ctx, *req, "UpdateAccessProfile", [=](const auth::Caller& c) -> absl::Status {
    ProfileUpdate u;
    if (req->has_name()) u.name = req->name();
    if (req->has_description()) u.description = req->description();
    if (req->has_toolsets()) {
      u.toolsets = std::vector<std::string>(req->toolsets().values().begin(), req->toolsets().values().end());
    }
    if (req->has_members()) {
      u.members = std::vector<std::string>(req->members().values().begin(), req->members().values().end());
    }
    if (req->has_expires_at() && req->clear_expires_at()) {
      return absl::InvalidArgumentError("set expires_at or clear_expires_at, not both");
    }
    if (req->has_expires_at()) u.expires_at = std::optional<absl::Time>(FromTimestamp(req->expires_at()));
    if (req->clear_expires_at()) u.expires_at = std::optional<absl::Time>();
    ASSIGN_OR_RETURN(ProfileView v, svc_.UpdateAccessProfile(c, req->tenant(), req->profile(), u));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::DeleteAccessProfile(Ctx* ctx, const pb::AccessProfileRef* req,
                                                             pb::DeleteAccessProfileResponse*) {
  return Call(ctx, *req, "DeleteAccessProfile", [=](const auth::Caller& c) -> absl::Status {
    return svc_.DeleteAccessProfile(c, req->tenant(), req->profile());
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::ListAccessProfiles(Ctx* ctx, const pb::ListAccessProfilesRequest* req,
                                                            pb::ListAccessProfilesResponse* resp) {
  return Call(ctx, *req, "ListAccessProfiles", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<ProfileView> profiles, svc_.ListAccessProfiles(c, req->tenant()));
    for (const ProfileView& v : profiles) ToProto(v, resp->add_profiles());
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::Authorize(Ctx* ctx, const pb::AuthorizeRequest* req,
                                                   pb::AuthorizeResponse* resp) {
  return Call(ctx, *req, "Authorize", [=](const auth::Caller& c) -> absl::Status {
    AuthorizeInput in{req->tenant(), req->user_id(),
                      std::vector<std::string>(req->group_ids().begin(), req->group_ids().end()),
                      req->server(), req->tool()};
    ASSIGN_OR_RETURN(DecisionResult d, svc_.Authorize(c, in));
    resp->set_allowed(d.allowed);
    resp->set_reason(ToProto(kReasons, d.reason));
    resp->set_message(d.message);
    resp->set_policy_version(d.policy_version);
    resp->set_tenant_id(d.tenant_id);
    resp->set_server_id(d.server_id);
    resp->set_access(d.access == Access::kWrite ? pb::ACCESS_WRITE : pb::ACCESS_READ);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::ListAllowedTools(Ctx* ctx, const pb::ListAllowedToolsRequest* req,
                                                          pb::ListAllowedToolsResponse* resp) {
  return Call(ctx, *req, "ListAllowedTools", [=](const auth::Caller& c) -> absl::Status {
    std::vector<std::string> groups(req->group_ids().begin(), req->group_ids().end());
    ASSIGN_OR_RETURN(AllowedTools a, svc_.ListAllowedTools(c, req->tenant(), req->user_id(), groups, req->server()));
    for (const AllowedTool& t : a.tools) {
      pb::AllowedTool* out = resp->add_tools();
      out->set_name(t.name);
      out->set_title(t.title);
      out->set_access(t.access == Access::kWrite ? pb::ACCESS_WRITE : pb::ACCESS_READ);
      out->set_definition_json(t.definition_json);
    }
    resp->set_policy_version(a.policy_version);
    resp->set_reason(ToProto(kReasons, a.reason));
    resp->set_message(a.message);
    if (a.valid_until != absl::InfiniteFuture()) SetTime(a.valid_until, resp->mutable_valid_until());
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::RecordToolCalls(Ctx* ctx, const pb::RecordToolCallsRequest* req,
                                                         pb::RecordToolCallsResponse* resp) {
  return Call(ctx, *req, "RecordToolCalls", [=](const auth::Caller& c) -> absl::Status {
    std::vector<ToolCallRecord> records;
    records.reserve(req->events_size());
    for (int i = 0; i < req->events_size(); ++i) {
      ASSIGN_OR_RETURN(ToolCallRecord r, FromProto(req->events(i), i));
      records.push_back(std::move(r));
    }
    ASSIGN_OR_RETURN(AppendResult r, svc_.RecordToolCalls(c, std::move(records)));
    resp->set_recorded(r.recorded);
    resp->set_duplicates(r.duplicates);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::QueryAudit(Ctx* ctx, const pb::QueryAuditRequest* req,
                                                    pb::QueryAuditResponse* resp) {
  return Call(ctx, *req, "QueryAudit", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(AuditFilter filter, FromProto(req->filter()));
    ASSIGN_OR_RETURN(AuditPage page, svc_.QueryAudit(c, req->tenant(), filter, req->page_size(), req->page_token()));
    for (const AuditEvent& e : page.events) ToProto(e, resp->add_events());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::VerifyAuditChain(Ctx* ctx, const pb::VerifyAuditChainRequest* req,
                                                          pb::VerifyAuditChainResponse* resp) {
  return Call(ctx, *req, "VerifyAuditChain", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(ChainCheck check, svc_.VerifyAuditChain(c, req->tenant()));
    resp->set_ok(check.ok);
    resp->set_events_checked(check.events_checked);
    resp->set_first_broken_seq(check.first_broken_seq);
    resp->set_first_broken_event_id(check.first_broken_event_id);
    resp->set_problem(check.problem);
    resp->set_head_hash(check.head_hash);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::GetAuditSettings(Ctx* ctx, const pb::GetAuditSettingsRequest* req,
                                                          pb::AuditSettings* resp) {
  return Call(ctx, *req, "GetAuditSettings", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto s, svc_.GetAuditSettings(c, req->tenant()));
    resp->set_tenant_id(s.first);
    resp->set_store_arguments(s.second.store_arguments);
    return absl::OkStatus();
  });
}

GovernanceGrpc::Reactor* GovernanceGrpc::UpdateAuditSettings(Ctx* ctx, const pb::UpdateAuditSettingsRequest* req,
                                                             pb::AuditSettings* resp) {
  return Call(ctx, *req, "UpdateAuditSettings", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto s, svc_.UpdateAuditSettings(c, req->tenant(), AuditSettings{req->store_arguments()}));
    resp->set_tenant_id(s.first);
    resp->set_store_arguments(s.second.store_arguments);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<pb::PolicyVersion>* GovernanceGrpc::WatchPolicy(Ctx* ctx,
                                                                        const pb::WatchPolicyRequest* req) {
  if (absl::Status bad = grpcutil::CheckRequestStrings(*req); !bad.ok()) {
    return new RefusedStream<pb::PolicyVersion>(grpcutil::ToGrpc(bad));
  }
  return new WatchReactor(svc_, callers_, executor_, ctx, req->tenant());
}

grpc::ServerWriteReactor<pb::ExportAuditChunk>* GovernanceGrpc::ExportAudit(Ctx* ctx,
                                                                           const pb::ExportAuditRequest* req) {
  if (absl::Status bad = grpcutil::CheckRequestStrings(*req); !bad.ok()) {
    return new RefusedStream<pb::ExportAuditChunk>(grpcutil::ToGrpc(bad));
  }
  return new ExportReactor(svc_, callers_, executor_, ctx, *req);
}

GovernanceGrpc::Reactor* GovernanceGrpc::DeleteTenantPolicy(Ctx* ctx, const pb::DeleteTenantPolicyRequest* req,
                                                            pb::DeleteTenantPolicyResponse* resp) {
  return Call(ctx, *req, "DeleteTenantPolicy", [=](const auth::Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(GovernanceService::TenantPolicyDeletion d, svc_.DeleteTenantPolicy(c, req->tenant()));
    resp->set_servers_deleted(d.servers_deleted);
    resp->set_profiles_deleted(d.profiles_deleted);
    SetTime(d.audit_kept_until, resp->mutable_audit_kept_until());
    return absl::OkStatus();
  });
}

}  // namespace bastion::governance
