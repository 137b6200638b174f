#include "services/edge/grpc_backends.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/grpc/grpc_util.h"
#include "common/log/log.h"
#include "google/protobuf/util/time_util.h"

namespace bastion::edge {
namespace {

namespace gv = ::bastion::governance::v1;
namespace tv = ::bastion::tenant::v1;
namespace vv = ::bastion::vault::v1;
using google::protobuf::util::TimeUtil;

const char* ClientTypeName(tv::ClientType t) {
  switch (t) {
    case tv::CLIENT_TYPE_SHARED: return "shared";
    case tv::CLIENT_TYPE_SERVICE: return "service";
    default: return "personal";
  }
}

}  // namespace

std::string DenyReasonCode(gv::DenyReason reason) {
  switch (reason) {
    case gv::DENY_REASON_NONE: return "allowed";
    case gv::DENY_REASON_TENANT_INACTIVE: return "tenant_inactive";
    case gv::DENY_REASON_KILL_SWITCH: return "kill_switch";
    case gv::DENY_REASON_SERVER_UNAVAILABLE: return "server_unavailable";
    case gv::DENY_REASON_UNKNOWN_TOOL: return "unknown_tool";
    case gv::DENY_REASON_TOOL_PENDING_REVIEW: return "tool_pending_review";
    case gv::DENY_REASON_TOOL_DISABLED: return "tool_disabled";
    case gv::DENY_REASON_NOT_GRANTED: return "not_granted";
    case gv::DENY_REASON_GRANT_EXPIRED: return "grant_expired";
    case gv::DENY_REASON_CREDENTIAL_CANNOT_SERVE: return "credential_cannot_serve";
    default: return "denied";
  }
}

GrpcTenantDirectory::GrpcTenantDirectory(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options)
    : stub_(tv::TenantService::NewStub(std::move(channel))), options_(std::move(options)) {}

absl::StatusOr<Identity> GrpcTenantDirectory::Authenticate(const std::string& token) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  tv::AuthenticateRequest req;
  req.set_token(token);
  tv::Identity out;
  if (auto s = grpcutil::FromGrpc(stub_->Authenticate(&ctx, req, &out)); !s.ok()) return s;
  Identity id;
  id.tenant_id = out.tenant_id();
  id.tenant_slug = out.tenant_slug();
  id.user_id = out.user_id();
  id.email = out.email();
  id.group_ids.assign(out.group_ids().begin(), out.group_ids().end());
  id.client_type = ClientTypeName(out.client_type());
  id.token_id = out.token_id();
  return id;
}

absl::StatusOr<TenantAccess> GrpcTenantDirectory::CheckAccess(const std::string& tenant_slug) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  tv::TenantRef req;
  req.set_tenant(tenant_slug);
  tv::CheckAccessResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->CheckAccess(&ctx, req, &out)); !s.ok()) return s;
  return TenantAccess{out.allowed(), out.message(), out.tenant_version()};
}

absl::Status GrpcTenantDirectory::Publish(const std::string& session_hash, absl::Time expires_at) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  tv::EndSessionRequest req;
  req.set_session_hash(session_hash);
  *req.mutable_expires_at() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(expires_at));
  tv::EndSessionResponse out;
  return grpcutil::FromGrpc(stub_->EndSession(&ctx, req, &out));
}

absl::StatusOr<std::vector<EndedSessionRecord>> GrpcTenantDirectory::Since(int64_t after_seq) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  tv::ListEndedSessionsRequest req;
  req.set_after_seq(after_seq);
  req.set_limit(1000);
  tv::ListEndedSessionsResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->ListEndedSessions(&ctx, req, &out)); !s.ok()) return s;
  std::vector<EndedSessionRecord> records;
  for (const auto& e : out.sessions()) {
    records.push_back({e.seq(), e.session_hash(),
                       absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(e.expires_at()))});
  }
  return records;
}

GrpcPolicyClient::GrpcPolicyClient(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options)
    : stub_(gv::GovernanceService::NewStub(std::move(channel))), options_(std::move(options)) {}

absl::StatusOr<AllowedTools> GrpcPolicyClient::ListAllowedTools(const Identity& who, const std::string& server) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  gv::ListAllowedToolsRequest req;
  req.set_tenant(who.tenant_id);
  req.set_user_id(who.user_id);
  for (const auto& g : who.group_ids) req.add_group_ids(g);
  req.set_server(server);
  gv::ListAllowedToolsResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->ListAllowedTools(&ctx, req, &out)); !s.ok()) return s;
  if (out.reason() == gv::DENY_REASON_SERVER_UNAVAILABLE) return absl::NotFoundError(out.message());
  AllowedTools tools;
  tools.policy_version = out.policy_version();
  if (out.has_valid_until()) {
    tools.valid_until = absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(out.valid_until()));
  }
  for (const auto& t : out.tools()) tools.names.push_back(t.name());
  return tools;
}

absl::StatusOr<Decision> GrpcPolicyClient::Authorize(const Identity& who, const std::string& server,
                                                     const std::string& tool) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  gv::AuthorizeRequest req;
  req.set_tenant(who.tenant_id);
  req.set_user_id(who.user_id);
  for (const auto& g : who.group_ids) req.add_group_ids(g);
  req.set_server(server);
  req.set_tool(tool);
  gv::AuthorizeResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->Authorize(&ctx, req, &out)); !s.ok()) return s;
  return Decision{out.allowed(), DenyReasonCode(out.reason()), out.message()};
}

absl::Status GrpcPolicyClient::RecordToolCalls(const std::vector<AuditEvent>& events) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, absl::Seconds(10));
  gv::RecordToolCallsRequest req;
  for (const AuditEvent& e : events) {
    gv::ToolCallEvent* p = req.add_events();
    p->set_event_id(e.event_id);
    p->set_tenant(e.tenant_id);
    *p->mutable_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(e.time));
    p->set_user_id(e.user_id);
    p->set_user_email(e.email);
    p->set_client(absl::StrCat(e.client_type, ":", e.token_id));
    p->set_server(e.server);
    p->set_tool(e.tool);
    p->set_decision(e.allowed ? gv::DECISION_ALLOW : gv::DECISION_DENY);
    gv::DenyReason reason = gv::DENY_REASON_NONE;
    for (int r = gv::DenyReason_MIN; r <= gv::DenyReason_MAX; ++r) {
      if (gv::DenyReason_IsValid(r) && DenyReasonCode(static_cast<gv::DenyReason>(r)) == e.reason) {
        reason = static_cast<gv::DenyReason>(r);
      }
    }
    p->set_reason(e.allowed ? gv::DENY_REASON_NONE : reason);
    p->set_outcome(e.outcome == "ok"       ? gv::OUTCOME_SUCCESS
                   : e.outcome == "denied" ? gv::OUTCOME_DENIED
                                           : gv::OUTCOME_ERROR);
    p->set_upstream_status(e.upstream_status);
    p->set_latency_ms(absl::ToInt64Milliseconds(e.latency));
    p->set_request_id(e.request_id);
    p->set_arguments_digest(e.arguments_digest);
  }
  gv::RecordToolCallsResponse out;
  return grpcutil::FromGrpc(stub_->RecordToolCalls(&ctx, req, &out));
}

void GrpcPolicyClient::WatchPolicy(std::function<void(const std::string&, int64_t)> on_change) {
  watcher_ = std::thread([this, on_change = std::move(on_change)] {
    absl::Duration backoff = absl::Milliseconds(200);
    while (!stopping_) {
      grpc::ClientContext ctx;
      if (!options_.service_token.empty()) ctx.AddMetadata(grpcutil::kServiceTokenHeader, options_.service_token);
      {
        std::lock_guard<std::mutex> lock(watch_mu_);
        if (stopping_) return;
        watch_ctx_ = &ctx;
      }
      gv::WatchPolicyRequest req;  // empty tenant: every tenant's changes
      auto reader = stub_->WatchPolicy(&ctx, req);
      gv::PolicyVersion v;
      while (reader->Read(&v)) {
        backoff = absl::Milliseconds(200);
        on_change(v.tenant_id(), v.version());
      }
      grpc::Status s = reader->Finish();
      {
        std::lock_guard<std::mutex> lock(watch_mu_);
        watch_ctx_ = nullptr;
      }
      if (stopping_) return;
      log::Warn("policy watch ended; reconnecting", {{"code", static_cast<int>(s.error_code())}});
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(10));
    }
  });
}

void GrpcPolicyClient::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (watch_ctx_ != nullptr) watch_ctx_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
}

GrpcCredentialClient::GrpcCredentialClient(std::shared_ptr<grpc::Channel> channel, GrpcBackendOptions options)
    : stub_(vv::VaultService::NewStub(std::move(channel))), options_(std::move(options)) {}

absl::StatusOr<UpstreamCredential> GrpcCredentialClient::GetUpstreamCredential(const Identity& who,
                                                                               const std::string& server) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  vv::GetUpstreamCredentialRequest req;
  req.set_tenant(who.tenant_id);
  req.set_server(server);
  req.set_user(who.user_id);
  vv::UpstreamCredential out;
  if (auto s = grpcutil::FromGrpc(stub_->GetUpstreamCredential(&ctx, req, &out)); !s.ok()) return s;
  UpstreamCredential c;
  c.authorization = out.authorization();
  c.from_email = out.from_email();
  c.region = out.region() == vv::REGION_EU ? "eu" : "us";
  if (out.has_expires_at()) c.expires_at = absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(out.expires_at()));
  return c;
}

absl::StatusOr<AuthorizationNeeded> GrpcCredentialClient::BeginUserAuthorization(const Identity& who,
                                                                                 const std::string& server) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, options_.timeout);
  vv::BeginUserAuthorizationRequest req;
  req.set_tenant(who.tenant_id);
  req.set_server(server);
  req.set_user(who.user_id);
  vv::BeginUserAuthorizationResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->BeginUserAuthorization(&ctx, req, &out)); !s.ok()) return s;
  return AuthorizationNeeded{out.authorize_url(), "Connect your PagerDuty account to use this tool."};
}

absl::StatusOr<std::string> GrpcCredentialClient::CompleteUserAuthorization(const std::string& state,
                                                                            const std::string& code) {
  grpc::ClientContext ctx;
  grpcutil::PrepareClientContext(ctx, options_.service_token, absl::Seconds(15));
  vv::CompleteUserAuthorizationRequest req;
  req.set_state(state);
  req.set_code(code);
  vv::CompleteUserAuthorizationResponse out;
  if (auto s = grpcutil::FromGrpc(stub_->CompleteUserAuthorization(&ctx, req, &out)); !s.ok()) return s;
  return absl::StrCat("PagerDuty is connected for your Bastion account in ", out.tenant_slug());
}

}  // namespace bastion::edge
