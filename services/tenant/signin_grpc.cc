#include "services/tenant/signin_grpc.h"

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

void ToProto(const SignInPolicy& p, pb::SignInPolicy* out) {
  out->set_tenant_id(p.tenant_id);
  out->set_issuer(p.issuer);
  for (const auto& d : p.allowed_domains) out->add_allowed_domains(d);
  out->set_groups_claim(p.groups_claim);
  out->set_jit_users(p.jit_users);
  if (p.updated_at != absl::Time()) SetTime(p.updated_at, out->mutable_updated_at());
}

void ToProto(const OAuthClient& c, pb::OAuthClient* out) {
  out->set_client_id(c.client_id);
  out->set_tenant_id(c.tenant_id);
  out->set_client_name(c.client_name);
  for (const auto& r : c.redirect_uris) out->add_redirect_uris(r);
  out->set_kind(c.kind == OAuthClientKind::kMetadataDocument ? "metadata_document" : "registration");
  out->set_client_uri(c.client_uri);
  out->set_logo_uri(c.logo_uri);
  SetTime(c.created_at, out->mutable_created_at());
  SetTime(c.expires_at, out->mutable_expires_at());
}

void ToProto(const User& u, pb::User* out) {
  out->set_id(u.id);
  out->set_tenant_id(u.tenant_id);
  out->set_email(u.email);
  out->set_display_name(u.display_name);
  out->set_role(u.role == Role::kAdmin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
  out->set_disabled(u.disabled);
  SetTime(u.created_at, out->mutable_created_at());
  for (const auto& g : u.group_ids) out->add_group_ids(g);
}

void ToProto(const OAuthGrant& g, pb::OAuthGrant* out) {
  out->set_id(g.id);
  out->set_tenant_id(g.tenant_id);
  out->set_user_id(g.user_id);
  out->set_user_email(g.user_email);
  out->set_client_id(g.client_id);
  out->set_client_name(g.client_name);
  out->set_resource(g.resource);
  out->set_scope(g.scope);
  SetTime(g.created_at, out->mutable_created_at());
  if (g.last_used_at) SetTime(*g.last_used_at, out->mutable_last_used_at());
  if (g.revoked_at) SetTime(*g.revoked_at, out->mutable_revoked_at());
  out->set_revoked_reason(g.revoked_reason);
}

void ToProto(const TokenGrant& g, pb::TokenGrant* out) {
  out->set_grant_id(g.grant_id);
  out->set_refresh_token(g.refresh_token);
  SetTime(g.refresh_expires_at, out->mutable_refresh_expires_at());
  out->set_client_id(g.client_id);
  out->set_resource(g.resource);
  out->set_scope(g.scope);
  pb::Identity* id = out->mutable_identity();
  id->set_tenant_id(g.identity.tenant_id);
  id->set_tenant_slug(g.identity.tenant_slug);
  id->set_user_id(g.identity.user_id);
  id->set_email(g.identity.email);
  id->set_role(g.identity.role == Role::kAdmin ? pb::ROLE_ADMIN : pb::ROLE_MEMBER);
  for (const auto& gid : g.identity.group_ids) id->add_group_ids(gid);
  id->set_client_type(pb::CLIENT_TYPE_PERSONAL);
  id->set_token_id(g.identity.token_id);
}

}  // namespace

grpc::ServerUnaryReactor* SignInGrpc::Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                                           std::function<absl::Status(const Caller&)> fn) {
  return runner_.Run(ctx, method, req, [this, ctx, fn = std::move(fn)]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, resolve_caller_(*ctx));
    return fn(caller);
  });
}

#define SIGNIN_REPLY(expr)               \
  [=](const Caller& c) -> absl::Status { \
    ASSIGN_OR_RETURN(auto v, expr);      \
    ToProto(v, resp);                    \
    return absl::OkStatus();             \
  }

SignInGrpc::Reactor* SignInGrpc::SetSignInPolicy(Ctx* ctx, const pb::SetSignInPolicyRequest* req,
                                                 pb::SignInPolicy* resp) {
  return Call(ctx, *req, "SetSignInPolicy", [=](const Caller& c) -> absl::Status {
    SignInPolicy p;
    p.issuer = req->policy().issuer();
    p.allowed_domains.assign(req->policy().allowed_domains().begin(), req->policy().allowed_domains().end());
    p.groups_claim = req->policy().groups_claim();
    p.jit_users = req->policy().jit_users();
    ASSIGN_OR_RETURN(SignInPolicy set, svc_.SetPolicy(c, req->tenant(), std::move(p)));
    ToProto(set, resp);
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::GetSignInPolicy(Ctx* ctx, const pb::TenantRef* req, pb::SignInPolicy* resp) {
  return Call(ctx, *req, "GetSignInPolicy", SIGNIN_REPLY(svc_.GetPolicy(c, req->tenant())));
}

SignInGrpc::Reactor* SignInGrpc::ListOAuthGrants(Ctx* ctx, const pb::ListOAuthGrantsRequest* req,
                                                 pb::ListOAuthGrantsResponse* resp) {
  return Call(ctx, *req, "ListOAuthGrants", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto grants, svc_.ListGrants(c, req->tenant(), req->user(), req->include_revoked()));
    for (const OAuthGrant& g : grants) ToProto(g, resp->add_grants());
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::RevokeOAuthGrant(Ctx* ctx, const pb::RevokeOAuthGrantRequest* req,
                                                  pb::OAuthGrant* resp) {
  return Call(ctx, *req, "RevokeOAuthGrant", SIGNIN_REPLY(svc_.RevokeGrant(c, req->tenant(), req->grant_id())));
}

SignInGrpc::Reactor* SignInGrpc::RegisterClient(Ctx* ctx, const pb::RegisterClientRequest* req,
                                                pb::OAuthClient* resp) {
  return Call(ctx, *req, "RegisterClient", [=](const Caller& c) -> absl::Status {
    RegisterClientRequest r;
    r.tenant = req->tenant();
    r.client_name = req->client_name();
    r.redirect_uris.assign(req->redirect_uris().begin(), req->redirect_uris().end());
    r.client_uri = req->client_uri();
    r.logo_uri = req->logo_uri();
    ASSIGN_OR_RETURN(OAuthClient client, svc_.RegisterClient(c, r));
    ToProto(client, resp);
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::PutMetadataDocumentClient(Ctx* ctx, const pb::PutMetadataDocumentClientRequest* req,
                                                           pb::OAuthClient* resp) {
  return Call(ctx, *req, "PutMetadataDocumentClient", [=](const Caller& c) -> absl::Status {
    const pb::OAuthClient& in = req->client();
    OAuthClient client;
    client.client_id = in.client_id();
    client.client_name = in.client_name();
    client.redirect_uris.assign(in.redirect_uris().begin(), in.redirect_uris().end());
    client.client_uri = in.client_uri();
    client.logo_uri = in.logo_uri();
    if (in.has_expires_at()) client.expires_at = FromTimestamp(in.expires_at());
    ASSIGN_OR_RETURN(OAuthClient put, svc_.PutMetadataDocumentClient(c, req->tenant(), std::move(client)));
    ToProto(put, resp);
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::GetClient(Ctx* ctx, const pb::GetClientRequest* req, pb::OAuthClient* resp) {
  return Call(ctx, *req, "GetClient", SIGNIN_REPLY(svc_.GetClient(c, req->tenant(), req->client_id())));
}

SignInGrpc::Reactor* SignInGrpc::BeginAuthorization(Ctx* ctx, const pb::BeginAuthorizationRequest* req,
                                                    pb::PendingAuthorization* resp) {
  return Call(ctx, *req, "BeginAuthorization", [=](const Caller& c) -> absl::Status {
    BeginAuthorizationRequest r{req->tenant(),   req->client_id(), req->redirect_uri(), req->code_challenge(),
                                req->code_challenge_method(), req->state(), req->resource(), req->server(),
                                req->scope(),    req->browser_binding()};
    ASSIGN_OR_RETURN(PendingAuthorization p, svc_.BeginAuthorization(c, r));
    resp->set_authorization_id(p.id);
    SetTime(p.expires_at, resp->mutable_expires_at());
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::CompleteSignIn(Ctx* ctx, const pb::CompleteSignInRequest* req,
                                                pb::ConsentPrompt* resp) {
  return Call(ctx, *req, "CompleteSignIn", [=](const Caller& c) -> absl::Status {
    VerifiedSignIn v{req->authorization_id(), req->browser_binding(), req->issuer(), req->subject(),
                     req->email(),            req->email_verified(),  req->name(),   req->claims_json()};
    ASSIGN_OR_RETURN(ConsentPrompt p, svc_.CompleteSignIn(c, v));
    resp->set_authorization_id(p.authorization_id);
    resp->set_consent_token(p.consent_token);
    ToProto(p.client, resp->mutable_client());
    resp->set_redirect_uri(p.redirect_uri);
    resp->set_tenant_slug(p.tenant_slug);
    resp->set_server(p.server);
    ToProto(p.user, resp->mutable_user());
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::DecideConsent(Ctx* ctx, const pb::DecideConsentRequest* req,
                                               pb::ConsentDecision* resp) {
  return Call(ctx, *req, "DecideConsent", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(ConsentDecision d, svc_.DecideConsent(c, req->authorization_id(), req->consent_token(),
                                                           req->browser_binding(), req->approve()));
    resp->set_redirect_uri(d.redirect_uri);
    resp->set_state(d.state);
    resp->set_code(d.code);
    resp->set_error(d.error);
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::RedeemCode(Ctx* ctx, const pb::RedeemCodeRequest* req, pb::TokenGrant* resp) {
  return Call(ctx, *req, "RedeemCode", [=](const Caller& c) -> absl::Status {
    RedeemCodeRequest r{req->tenant(),       req->code(),          req->client_id(),
                        req->redirect_uri(), req->code_verifier(), req->resource()};
    ASSIGN_OR_RETURN(TokenGrant g, svc_.RedeemCode(c, r));
    ToProto(g, resp);
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::RefreshGrant(Ctx* ctx, const pb::RefreshGrantRequest* req, pb::TokenGrant* resp) {
  return Call(ctx, *req, "RefreshGrant", [=](const Caller& c) -> absl::Status {
    RefreshGrantRequest r{req->tenant(), req->refresh_token(), req->client_id(), req->resource()};
    ASSIGN_OR_RETURN(TokenGrant g, svc_.RefreshGrant(c, r));
    ToProto(g, resp);
    return absl::OkStatus();
  });
}

SignInGrpc::Reactor* SignInGrpc::RevokeToken(Ctx* ctx, const pb::RevokeTokenRequest* req, pb::RevokeTokenResponse*) {
  return Call(ctx, *req, "RevokeToken", [=](const Caller& c) {
    return svc_.RevokeToken(c, {req->tenant(), req->client_id(), req->refresh_token(), req->grant_id()});
  });
}

SignInGrpc::Reactor* SignInGrpc::ListRevocations(Ctx* ctx, const pb::ListRevocationsRequest* req,
                                                 pb::ListRevocationsResponse* resp) {
  return Call(ctx, *req, "ListRevocations", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto revocations, svc_.ListRevocations(c, req->after_seq(), req->limit()));
    for (const Revocation& r : revocations) {
      pb::Revocation* out = resp->add_revocations();
      out->set_seq(r.seq);
      out->set_kind(r.kind == Revocation::Kind::kUser ? pb::Revocation::KIND_USER : pb::Revocation::KIND_GRANT);
      out->set_tenant_id(r.tenant_id);
      out->set_id(r.id);
      SetTime(r.expires_at, out->mutable_expires_at());
      SetTime(r.revoked_at, out->mutable_revoked_at());
    }
    return absl::OkStatus();
  });
}

#undef SIGNIN_REPLY

}  // namespace bastion::tenant
