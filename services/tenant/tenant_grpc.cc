#include "services/tenant/tenant_grpc.h"

#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace bastion::tenant {
namespace {

using google::protobuf::util::TimeUtil;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  *ts = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(ts));
}

pb::ClientType ToProto(ClientType t) {
  switch (t) {
    case ClientType::kPersonal: return pb::CLIENT_TYPE_PERSONAL;
    case ClientType::kShared: return pb::CLIENT_TYPE_SHARED;
    case ClientType::kService: return pb::CLIENT_TYPE_SERVICE;
  }
  return pb::CLIENT_TYPE_UNSPECIFIED;
}

absl::StatusOr<ClientType> FromProto(pb::ClientType t) {
  switch (t) {
    case pb::CLIENT_TYPE_PERSONAL: return ClientType::kPersonal;
    case pb::CLIENT_TYPE_SHARED: return ClientType::kShared;
    case pb::CLIENT_TYPE_SERVICE: return ClientType::kService;
    default: return absl::InvalidArgumentError("client_type must be personal, shared or service");
  }
}

pb::Role ToProto(Role r) { return r == Role::kAdmin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER; }

void ToProto(const Tenant& t, pb::Tenant* out) {
  out->set_id(t.id);
  out->set_slug(t.slug);
  out->set_display_name(t.display_name);
  out->set_ai_access_active(t.active);
  out->set_kill_switch(t.kill_switch);
  auto* s = out->mutable_settings();
  s->set_default_tool_state(t.settings.default_tool_state == ToolState::kApproved
                                ? pb::TOOL_STATE_APPROVED
                                : pb::TOOL_STATE_PENDING_REVIEW);
  s->set_auto_approve_read_only(t.settings.auto_approve_read_only);
  for (ClientType c : t.settings.allowed_client_types) s->add_allowed_client_types(ToProto(c));
  SetTime(t.created_at, out->mutable_created_at());
  SetTime(t.updated_at, out->mutable_updated_at());
  out->set_version(t.version);
}

void ToProto(const User& u, pb::User* out) {
  out->set_id(u.id);
  out->set_tenant_id(u.tenant_id);
  out->set_email(u.email);
  out->set_display_name(u.display_name);
  out->set_role(ToProto(u.role));
  out->set_disabled(u.disabled);
  SetTime(u.created_at, out->mutable_created_at());
  for (const auto& g : u.group_ids) out->add_group_ids(g);
}

void ToProto(const Group& g, pb::Group* out) {
  out->set_id(g.id);
  out->set_tenant_id(g.tenant_id);
  out->set_name(g.name);
  for (const auto& m : g.member_user_ids) out->add_member_user_ids(m);
}

void ToProto(const CatalogEntry& e, pb::CatalogEntry* out) {
  out->set_key(e.key);
  out->set_display_name(e.display_name);
  out->set_description(e.description);
  out->set_enabled(e.enabled);
}

void ToProto(const ClientToken& t, pb::ClientToken* out) {
  out->set_id(t.id);
  out->set_tenant_id(t.tenant_id);
  out->set_user_id(t.user_id);
  out->set_name(t.name);
  out->set_client_type(ToProto(t.client_type));
  out->set_hint(t.hint);
  SetTime(t.created_at, out->mutable_created_at());
  if (t.expires_at) SetTime(*t.expires_at, out->mutable_expires_at());
  if (t.revoked_at) SetTime(*t.revoked_at, out->mutable_revoked_at());
  if (t.last_used_at) SetTime(*t.last_used_at, out->mutable_last_used_at());
}

absl::StatusOr<Role> RoleFromProto(pb::Role r) {
  switch (r) {
    case pb::ROLE_ADMIN: return Role::kAdmin;
    case pb::ROLE_MEMBER:
    case pb::ROLE_UNSPECIFIED: return Role::kMember;
    default: return absl::InvalidArgumentError("role must be admin or member");
  }
}

}  // namespace

absl::StatusOr<Caller> TenantGrpc::ResolveCaller(const grpc::ServerContextBase& ctx) {
  if (auto service = services_.Identify(ctx); service.has_value()) return Caller::Service(*service);
  if (grpcutil::Metadata(ctx, grpcutil::kServiceTokenHeader).has_value()) {
    return absl::UnauthenticatedError("unknown service identity");
  }
  auto token = grpcutil::BearerToken(ctx);
  if (!token.has_value()) {
    // Under mutual TLS a service without a token is known by its client certificate; a bearer
    // token, checked below, outranks the certificate (admin clients present one too).
    absl::StatusOr<std::optional<std::string>> service = services_.IdentifyPeer(ctx);
    if (!service.ok()) return service.status();
    if (service->has_value()) return Caller::Service(**service);
    return Caller{};
  }
  if (!operator_token_.empty() && crypto::ConstantTimeEquals(*token, operator_token_)) {
    return Caller::Operator();
  }
  return svc_.CallerForToken(*token);
}

grpc::ServerUnaryReactor* TenantGrpc::Call(Ctx* ctx, const google::protobuf::Message& req,
                                           const char* method, std::function<absl::Status(const Caller&)> fn) {
  return runner_.Run(ctx, method, req, [this, ctx, fn = std::move(fn)]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, ResolveCaller(*ctx));
    return fn(caller);
  });
}

#define TENANT_REPLY(expr)            \
  [=](const Caller& c) -> absl::Status { \
    ASSIGN_OR_RETURN(auto v, expr);   \
    ToProto(v, resp);                 \
    return absl::OkStatus();          \
  }

TenantGrpc::Reactor* TenantGrpc::CreateTenant(Ctx* ctx, const pb::CreateTenantRequest* req, pb::Tenant* resp) {
  return Call(ctx, *req, "CreateTenant", TENANT_REPLY(svc_.CreateTenant(c, req->slug(), req->display_name())));
}

TenantGrpc::Reactor* TenantGrpc::GetTenant(Ctx* ctx, const pb::GetTenantRequest* req, pb::Tenant* resp) {
  return Call(ctx, *req, "GetTenant", TENANT_REPLY(svc_.GetTenant(c, req->tenant())));
}

TenantGrpc::Reactor* TenantGrpc::ListTenants(Ctx* ctx, const pb::ListTenantsRequest* req,
                                             pb::ListTenantsResponse* resp) {
  return Call(ctx, *req, "ListTenants", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(TenantPage page, svc_.ListTenants(c, req->page_size(), req->page_token()));
    for (const Tenant& t : page.tenants) ToProto(t, resp->add_tenants());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::UpdateTenantSettings(Ctx* ctx, const pb::UpdateTenantSettingsRequest* req,
                                                      pb::Tenant* resp) {
  return Call(ctx, *req, "UpdateTenantSettings", [=](const Caller& c) -> absl::Status {
    Settings s;
    s.default_tool_state = req->settings().default_tool_state() == pb::TOOL_STATE_APPROVED
                               ? ToolState::kApproved
                               : ToolState::kPendingReview;
    s.auto_approve_read_only = req->settings().auto_approve_read_only();
    s.allowed_client_types.clear();
    for (int t : req->settings().allowed_client_types()) {
      ASSIGN_OR_RETURN(ClientType ct, FromProto(static_cast<pb::ClientType>(t)));
      s.allowed_client_types.push_back(ct);
    }
    ASSIGN_OR_RETURN(Tenant t, svc_.UpdateTenantSettings(c, req->tenant(), s, req->display_name()));
    ToProto(t, resp);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::ActivateAiAccess(Ctx* ctx, const pb::TenantRef* req, pb::Tenant* resp) {
  return Call(ctx, *req, "ActivateAiAccess", TENANT_REPLY(svc_.SetAiAccess(c, req->tenant(), true)));
}

TenantGrpc::Reactor* TenantGrpc::DeactivateAiAccess(Ctx* ctx, const pb::TenantRef* req, pb::Tenant* resp) {
  return Call(ctx, *req, "DeactivateAiAccess", TENANT_REPLY(svc_.SetAiAccess(c, req->tenant(), false)));
}

TenantGrpc::Reactor* TenantGrpc::SetKillSwitch(Ctx* ctx, const pb::SetKillSwitchRequest* req, pb::Tenant* resp) {
  return Call(ctx, *req, "SetKillSwitch", TENANT_REPLY(svc_.SetKillSwitch(c, req->tenant(), req->on())));
}

TenantGrpc::Reactor* TenantGrpc::DeleteTenant(Ctx* ctx, const pb::TenantRef* req, pb::Tenant* resp) {
  return Call(ctx, *req, "DeleteTenant", TENANT_REPLY(svc_.DeleteTenant(c, req->tenant())));
}

TenantGrpc::Reactor* TenantGrpc::CheckAccess(Ctx* ctx, const pb::TenantRef* req, pb::CheckAccessResponse* resp) {
  return Call(ctx, *req, "CheckAccess", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(AccessCheck a, svc_.CheckAccess(c, req->tenant()));
    resp->set_allowed(a.allowed);
    resp->set_message(a.message);
    resp->set_tenant_id(a.tenant_id);
    resp->set_active(a.active);
    resp->set_kill_switch(a.kill_switch);
    resp->set_tenant_version(a.tenant_version);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::ListCatalog(Ctx* ctx, const pb::ListCatalogRequest* req,
                                             pb::ListCatalogResponse* resp) {
  return Call(ctx, *req, "ListCatalog", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto entries, svc_.ListCatalog(c, req->tenant()));
    for (const auto& e : entries) ToProto(e, resp->add_entries());
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::EnableCatalogEntry(Ctx* ctx, const pb::CatalogEntryRequest* req,
                                                    pb::CatalogEntry* resp) {
  return Call(ctx, *req, "EnableCatalogEntry", TENANT_REPLY(svc_.SetCatalogEntry(c, req->tenant(), req->key(), true)));
}

TenantGrpc::Reactor* TenantGrpc::DisableCatalogEntry(Ctx* ctx, const pb::CatalogEntryRequest* req,
                                                     pb::CatalogEntry* resp) {
  return Call(ctx, *req, "DisableCatalogEntry", TENANT_REPLY(svc_.SetCatalogEntry(c, req->tenant(), req->key(), false)));
}

TenantGrpc::Reactor* TenantGrpc::CreateUser(Ctx* ctx, const pb::CreateUserRequest* req, pb::User* resp) {
  return Call(ctx, *req, "CreateUser", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(Role role, RoleFromProto(req->role()));
    ASSIGN_OR_RETURN(User u, svc_.CreateUser(c, req->tenant(), req->email(), req->display_name(), role));
    ToProto(u, resp);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::GetUser(Ctx* ctx, const pb::GetUserRequest* req, pb::User* resp) {
  return Call(ctx, *req, "GetUser", TENANT_REPLY(svc_.GetUser(c, req->tenant(), req->user())));
}

TenantGrpc::Reactor* TenantGrpc::ListUsers(Ctx* ctx, const pb::ListUsersRequest* req, pb::ListUsersResponse* resp) {
  return Call(ctx, *req, "ListUsers", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(UserPage page, svc_.ListUsers(c, req->tenant(), req->page_size(), req->page_token()));
    for (const User& u : page.users) ToProto(u, resp->add_users());
    resp->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::DisableUser(Ctx* ctx, const pb::GetUserRequest* req, pb::User* resp) {
  return Call(ctx, *req, "DisableUser", TENANT_REPLY(svc_.DisableUser(c, req->tenant(), req->user())));
}

TenantGrpc::Reactor* TenantGrpc::CreateGroup(Ctx* ctx, const pb::CreateGroupRequest* req, pb::Group* resp) {
  return Call(ctx, *req, "CreateGroup", TENANT_REPLY(svc_.CreateGroup(c, req->tenant(), req->name())));
}

TenantGrpc::Reactor* TenantGrpc::AddGroupMember(Ctx* ctx, const pb::GroupMemberRequest* req, pb::Group* resp) {
  return Call(ctx, *req, "AddGroupMember",
              TENANT_REPLY(svc_.SetGroupMember(c, req->tenant(), req->group(), req->user(), true)));
}

TenantGrpc::Reactor* TenantGrpc::RemoveGroupMember(Ctx* ctx, const pb::GroupMemberRequest* req, pb::Group* resp) {
  return Call(ctx, *req, "RemoveGroupMember",
              TENANT_REPLY(svc_.SetGroupMember(c, req->tenant(), req->group(), req->user(), false)));
}

TenantGrpc::Reactor* TenantGrpc::ListGroups(Ctx* ctx, const pb::ListGroupsRequest* req, pb::ListGroupsResponse* resp) {
  return Call(ctx, *req, "ListGroups", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto groups, svc_.ListGroups(c, req->tenant()));
    for (const Group& g : groups) ToProto(g, resp->add_groups());
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::IssueClientToken(Ctx* ctx, const pb::IssueClientTokenRequest* req,
                                                  pb::IssueClientTokenResponse* resp) {
  return Call(ctx, *req, "IssueClientToken", [=](const Caller& c) -> absl::Status {
    ClientType type = ClientType::kPersonal;
    if (req->client_type() != pb::CLIENT_TYPE_UNSPECIFIED) {
      ASSIGN_OR_RETURN(type, FromProto(req->client_type()));
    }
    std::optional<absl::Time> expires;
    if (req->has_expires_at()) expires = FromTimestamp(req->expires_at());
    ASSIGN_OR_RETURN(IssuedToken issued,
                     svc_.IssueClientToken(c, req->tenant(), req->user(), type, req->name(), expires));
    ToProto(issued.token, resp->mutable_token());
    resp->set_secret(issued.secret);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::ListClientTokens(Ctx* ctx, const pb::ListClientTokensRequest* req,
                                                  pb::ListClientTokensResponse* resp) {
  return Call(ctx, *req, "ListClientTokens", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto tokens, svc_.ListClientTokens(c, req->tenant(), req->user()));
    for (const auto& t : tokens) ToProto(t, resp->add_tokens());
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::RevokeClientToken(Ctx* ctx, const pb::RevokeClientTokenRequest* req,
                                                   pb::ClientToken* resp) {
  return Call(ctx, *req, "RevokeClientToken", TENANT_REPLY(svc_.RevokeClientToken(c, req->tenant(), req->token_id())));
}

TenantGrpc::Reactor* TenantGrpc::Authenticate(Ctx* ctx, const pb::AuthenticateRequest* req, pb::Identity* resp) {
  return Call(ctx, *req, "Authenticate", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(Identity id, svc_.Authenticate(c, req->token()));
    resp->set_tenant_id(id.tenant_id);
    resp->set_tenant_slug(id.tenant_slug);
    resp->set_user_id(id.user_id);
    resp->set_email(id.email);
    resp->set_role(ToProto(id.role));
    for (const auto& g : id.group_ids) resp->add_group_ids(g);
    resp->set_client_type(ToProto(id.client_type));
    resp->set_token_id(id.token_id);
    return absl::OkStatus();
  });
}

TenantGrpc::Reactor* TenantGrpc::EndSession(Ctx* ctx, const pb::EndSessionRequest* req, pb::EndSessionResponse*) {
  return Call(ctx, *req, "EndSession", [=](const Caller& c) {
    return svc_.EndSession(c, req->session_hash(), FromTimestamp(req->expires_at()));
  });
}

TenantGrpc::Reactor* TenantGrpc::ListEndedSessions(Ctx* ctx, const pb::ListEndedSessionsRequest* req,
                                                   pb::ListEndedSessionsResponse* resp) {
  return Call(ctx, *req, "ListEndedSessions", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto ended, svc_.ListEndedSessions(c, req->after_seq(), req->limit()));
    for (const EndedSession& e : ended) {
      pb::EndedSession* out = resp->add_sessions();
      out->set_seq(e.seq);
      out->set_session_hash(e.session_hash);
      SetTime(e.expires_at, out->mutable_expires_at());
    }
    return absl::OkStatus();
  });
}

#undef TENANT_REPLY

}  // namespace bastion::tenant
