#include "services/vault/idp_grpc.h"

#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace bastion::vault {
namespace {

using auth::Caller;
using google::protobuf::util::TimeUtil;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  *ts = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

void ToProto(const IdpClient& c, idppb::IdpClientInfo* out) {
  out->set_tenant_id(c.tenant_id);
  out->set_issuer(c.issuer);
  out->set_client_id(c.client_id);
  out->set_has_client_secret(c.has_client_secret);
  out->set_client_secret_hint(c.client_secret_hint);
  for (const std::string& s : c.scopes) out->add_scopes(s);
  SetTime(c.updated_at, out->mutable_updated_at());
  if (c.last_tested_at) SetTime(*c.last_tested_at, out->mutable_last_tested_at());
}

void ToProto(const PublishedKeys& k, idppb::TokenKeys* out) {
  out->set_jwks_json(k.jwks_json);
  out->set_current_kid(k.current_kid);
}

}  // namespace

grpc::ServerUnaryReactor* IdpGrpc::Call(Ctx* ctx, const google::protobuf::Message& req, const char* method,
                                        std::function<absl::Status(const Caller&)> fn) {
  return runner_.Run(ctx, method, req, [this, ctx, fn = std::move(fn)]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, callers_.Resolve(*ctx));
    return fn(caller);
  });
}

IdpGrpc::Reactor* IdpGrpc::PutIdpClient(Ctx* ctx, const idppb::PutIdpClientRequest* req,
                                        idppb::IdpClientInfo* resp) {
  return Call(ctx, *req, "PutIdpClient", [=](const Caller& c) -> absl::Status {
    std::vector<std::string> scopes(req->scopes().begin(), req->scopes().end());
    ASSIGN_OR_RETURN(IdpClient out, svc_.PutIdpClient(c, req->tenant(), req->issuer(),
                                                      req->client_id(), req->client_secret(),
                                                      scopes));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::GetIdpClientInfo(Ctx* ctx, const idppb::IdpTenantRef* req,
                                            idppb::IdpClientInfo* resp) {
  return Call(ctx, *req, "GetIdpClientInfo", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(IdpClient out, svc_.GetIdpClientInfo(c, req->tenant()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::DeleteIdpClient(Ctx* ctx, const idppb::IdpTenantRef* req,
                                           idppb::IdpClientInfo* resp) {
  return Call(ctx, *req, "DeleteIdpClient", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(IdpClient out, svc_.DeleteIdpClient(c, req->tenant()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::TestIdpClient(Ctx* ctx, const idppb::IdpTenantRef* req,
                                         idppb::TestIdpClientResponse* resp) {
  return Call(ctx, *req, "TestIdpClient", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(IdpTestResult r, svc_.TestIdpClient(c, req->tenant()));
    resp->set_ok(r.ok);
    for (const std::string& f : r.findings) resp->add_findings(f);
    resp->set_authorization_endpoint(r.provider.authorization_endpoint);
    resp->set_token_endpoint(r.provider.token_endpoint);
    resp->set_jwks_uri(r.provider.jwks_uri);
    resp->set_signing_keys(r.signing_keys);
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::BeginIdpSignIn(Ctx* ctx, const idppb::BeginIdpSignInRequest* req,
                                          idppb::BeginIdpSignInResponse* resp) {
  return Call(ctx, *req, "BeginIdpSignIn", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(StartedSignIn s,
                     svc_.BeginIdpSignIn(c, req->tenant(), req->redirect_uri(), req->context()));
    resp->set_authorization_url(s.authorization_url);
    SetTime(s.expires_at, resp->mutable_expires_at());
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::CompleteIdpSignIn(Ctx* ctx, const idppb::CompleteIdpSignInRequest* req,
                                             idppb::VerifiedIdentity* resp) {
  return Call(ctx, *req, "CompleteIdpSignIn", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(VerifiedIdentity v, svc_.CompleteIdpSignIn(c, req->state(), req->code()));
    resp->set_tenant_id(v.tenant_id);
    resp->set_context(v.context);
    resp->set_issuer(v.issuer);
    resp->set_subject(v.subject);
    resp->set_email(v.email);
    resp->set_email_verified(v.email_verified);
    resp->set_name(v.name);
    resp->set_claims_json(v.claims_json);
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::SignAccessToken(Ctx* ctx, const idppb::SignAccessTokenRequest* req,
                                           idppb::SignAccessTokenResponse* resp) {
  return Call(ctx, *req, "SignAccessToken", [=](const Caller& c) -> absl::Status {
    AccessTokenRequest r;
    r.issuer = req->issuer();
    r.audience = req->audience();
    r.subject = req->subject();
    r.client_id = req->client_id();
    r.scope = req->scope();
    r.grant_id = req->grant_id();
    r.email = req->email();
    r.lifetime = absl::Seconds(req->lifetime_seconds());
    ASSIGN_OR_RETURN(SignedAccessToken t, svc_.SignAccessToken(c, req->tenant(), r));
    resp->set_access_token(t.token);
    SetTime(t.expires_at, resp->mutable_expires_at());
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::GetTokenKeys(Ctx* ctx, const idppb::IdpTenantRef* req,
                                        idppb::TokenKeys* resp) {
  return Call(ctx, *req, "GetTokenKeys", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(PublishedKeys k, svc_.GetTokenKeys(c, req->tenant()));
    ToProto(k, resp);
    return absl::OkStatus();
  });
}

IdpGrpc::Reactor* IdpGrpc::RotateTokenKey(Ctx* ctx, const idppb::IdpTenantRef* req,
                                          idppb::TokenKeys* resp) {
  return Call(ctx, *req, "RotateTokenKey", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(PublishedKeys k, svc_.RotateTokenKey(c, req->tenant()));
    ToProto(k, resp);
    return absl::OkStatus();
  });
}

}  // namespace bastion::vault
