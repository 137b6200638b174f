#include "services/vault/vault_grpc.h"

#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace bastion::vault {
namespace {

using auth::Caller;
using google::protobuf::util::TimeUtil;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  *ts = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::StatusOr<Access> AccessFromProto(pb::Access a) {
  switch (a) {
    case pb::ACCESS_READ_ONLY: return Access::kReadOnly;
    case pb::ACCESS_FULL: return Access::kFull;
    default: return absl::InvalidArgumentError("access must be read_only or full");
  }
}

absl::StatusOr<Region> RegionFromProto(pb::Region r) {
  switch (r) {
    case pb::REGION_UNSPECIFIED:
    case pb::REGION_US: return Region::kUs;
    case pb::REGION_EU: return Region::kEu;
    default: return absl::InvalidArgumentError("region must be us or eu");
  }
}

absl::StatusOr<OAuthFlavor> FlavorFromProto(pb::OAuthFlavor f) {
  switch (f) {
    case pb::OAUTH_FLAVOR_SCOPED: return OAuthFlavor::kScoped;
    case pb::OAUTH_FLAVOR_CLASSIC: return OAuthFlavor::kClassic;
    default: return absl::InvalidArgumentError("flavor must be scoped or classic");
  }
}

pb::AuthMode ToProto(AuthMode m) {
  return m == AuthMode::kOAuth ? pb::AUTH_MODE_OAUTH : pb::AUTH_MODE_API_KEY;
}
pb::Access ToProto(Access a) { return a == Access::kReadOnly ? pb::ACCESS_READ_ONLY : pb::ACCESS_FULL; }
pb::Region ToProto(Region r) { return r == Region::kEu ? pb::REGION_EU : pb::REGION_US; }
pb::OAuthFlavor ToProto(OAuthFlavor f) {
  return f == OAuthFlavor::kClassic ? pb::OAUTH_FLAVOR_CLASSIC : pb::OAUTH_FLAVOR_SCOPED;
}
pb::GrantStatus ToProto(GrantStatus s) {
  return s == GrantStatus::kNeedsReauthorization ? pb::GRANT_STATUS_NEEDS_REAUTHORIZATION
                                                 : pb::GRANT_STATUS_ACTIVE;
}

pb::VerifyResult ToProto(VerifyResult r) {
  switch (r) {
    case VerifyResult::kValid: return pb::VERIFY_RESULT_VALID;
    case VerifyResult::kInvalid: return pb::VERIFY_RESULT_INVALID;
    case VerifyResult::kForbidden: return pb::VERIFY_RESULT_FORBIDDEN;
    case VerifyResult::kUnreachable: return pb::VERIFY_RESULT_UNREACHABLE;
    case VerifyResult::kUnexpected: return pb::VERIFY_RESULT_UNEXPECTED;
  }
  return pb::VERIFY_RESULT_UNSPECIFIED;
}

void ToProto(const Credential& c, pb::CredentialInfo* out) {
  out->set_id(c.id);
  out->set_tenant_id(c.tenant_id);
  out->set_server(c.server);
  out->set_mode(ToProto(c.mode));
  out->set_region(ToProto(c.region));
  out->set_hint(c.secret_hint);
  if (c.mode == AuthMode::kApiKey) {
    out->set_actor_email(c.actor_email);
    out->set_access(ToProto(c.access));
  } else {
    out->set_client_id(c.client_id);
    for (const auto& s : c.scopes) out->add_scopes(s);
    out->set_flavor(ToProto(c.flavor));
  }
  out->set_version(c.version);
  SetTime(c.created_at, out->mutable_created_at());
  if (c.rotated_at) SetTime(*c.rotated_at, out->mutable_rotated_at());
}

void ToProto(const UserGrant& g, pb::UserGrant* out) {
  out->set_id(g.id);
  out->set_tenant_id(g.tenant_id);
  out->set_server(g.server);
  out->set_user_id(g.user_id);
  out->set_user_email(g.user_email);
  out->set_status(ToProto(g.status));
  for (const auto& s : g.scopes) out->add_scopes(s);
  SetTime(g.expires_at, out->mutable_expires_at());
  SetTime(g.created_at, out->mutable_created_at());
  SetTime(g.updated_at, out->mutable_updated_at());
  out->set_version(g.version);
}

}  // namespace

grpc::ServerUnaryReactor* VaultGrpc::Call(Ctx* ctx, const google::protobuf::Message& req,
                                          const char* method, std::function<absl::Status(const Caller&)> fn) {
  return runner_.Run(ctx, method, req, [this, ctx, fn = std::move(fn)]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, callers_.Resolve(*ctx));
    return fn(caller);
  });
}

#define VAULT_REPLY(expr)                  \
  [=](const Caller& c) -> absl::Status {   \
    ASSIGN_OR_RETURN(auto v, expr);        \
    ToProto(v, resp);                      \
    return absl::OkStatus();               \
  }

VaultGrpc::Reactor* VaultGrpc::PutApiKeyCredential(Ctx* ctx, const pb::PutApiKeyCredentialRequest* req,
                                                   pb::CredentialInfo* resp) {
  return Call(ctx, *req, "PutApiKeyCredential", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(Access access, AccessFromProto(req->access()));
    ASSIGN_OR_RETURN(Region region, RegionFromProto(req->region()));
    ASSIGN_OR_RETURN(Credential out, svc_.PutApiKeyCredential(c, req->tenant(), req->server(),
                                                              req->api_key(), req->actor_email(),
                                                              access, region));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::PutOAuthApp(Ctx* ctx, const pb::PutOAuthAppRequest* req,
                                           pb::CredentialInfo* resp) {
  return Call(ctx, *req, "PutOAuthApp", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(OAuthFlavor flavor, FlavorFromProto(req->flavor()));
    ASSIGN_OR_RETURN(Region region, RegionFromProto(req->region()));
    std::vector<std::string> scopes(req->scopes().begin(), req->scopes().end());
    ASSIGN_OR_RETURN(Credential out,
                     svc_.PutOAuthApp(c, req->tenant(), req->server(), req->client_id(),
                                      req->client_secret(), scopes, flavor, region));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::GetCredentialInfo(Ctx* ctx, const pb::CredentialRef* req,
                                                 pb::CredentialInfo* resp) {
  return Call(ctx, *req, "GetCredentialInfo", VAULT_REPLY(svc_.GetCredentialInfo(c, req->tenant(), req->server())));
}

VaultGrpc::Reactor* VaultGrpc::RotateApiKey(Ctx* ctx, const pb::RotateApiKeyRequest* req,
                                            pb::CredentialInfo* resp) {
  return Call(ctx, *req, "RotateApiKey",
              VAULT_REPLY(svc_.RotateApiKey(c, req->tenant(), req->server(), req->api_key())));
}

VaultGrpc::Reactor* VaultGrpc::RotateOAuthClientSecret(Ctx* ctx,
                                                       const pb::RotateOAuthClientSecretRequest* req,
                                                       pb::CredentialInfo* resp) {
  return Call(ctx, *req, "RotateOAuthClientSecret",
              VAULT_REPLY(svc_.RotateOAuthClientSecret(c, req->tenant(), req->server(),
                                                       req->client_secret())));
}

VaultGrpc::Reactor* VaultGrpc::DeleteCredential(Ctx* ctx, const pb::CredentialRef* req,
                                                pb::DeleteCredentialResponse* resp) {
  return Call(ctx, *req, "DeleteCredential", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(int grants, svc_.DeleteCredential(c, req->tenant(), req->server()));
    resp->set_grants_deleted(grants);
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::VerifyCredential(Ctx* ctx, const pb::VerifyCredentialRequest* req,
                                                pb::VerifyCredentialResponse* resp) {
  return Call(ctx, *req, "VerifyCredential", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(Verification v,
                     svc_.VerifyCredential(c, req->tenant(), req->server(), req->user()));
    resp->set_result(ToProto(v.result));
    resp->set_http_status(v.http_status);
    resp->set_message(v.message);
    resp->set_request(v.request);
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::BeginUserAuthorization(Ctx* ctx,
                                                      const pb::BeginUserAuthorizationRequest* req,
                                                      pb::BeginUserAuthorizationResponse* resp) {
  return Call(ctx, *req, "BeginUserAuthorization", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(StartedAuthorization a,
                     svc_.BeginUserAuthorization(c, req->tenant(), req->server(), req->user()));
    resp->set_authorize_url(a.authorize_url);
    SetTime(a.expires_at, resp->mutable_expires_at());
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::CompleteUserAuthorization(
    Ctx* ctx, const pb::CompleteUserAuthorizationRequest* req,
    pb::CompleteUserAuthorizationResponse* resp) {
  return Call(ctx, *req, "CompleteUserAuthorization", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(CompletedAuthorization done,
                     svc_.CompleteUserAuthorization(c, req->state(), req->code()));
    ToProto(done.grant, resp->mutable_grant());
    resp->set_tenant_slug(done.tenant_slug);
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::ListUserGrants(Ctx* ctx, const pb::ListUserGrantsRequest* req,
                                              pb::ListUserGrantsResponse* resp) {
  return Call(ctx, *req, "ListUserGrants", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<UserGrant> grants,
                     svc_.ListUserGrants(c, req->tenant(), req->server(), req->user()));
    for (const UserGrant& g : grants) ToProto(g, resp->add_grants());
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::RevokeUserGrant(Ctx* ctx, const pb::RevokeUserGrantRequest* req,
                                               pb::UserGrant* resp) {
  return Call(ctx, *req, "RevokeUserGrant",
              VAULT_REPLY(svc_.RevokeUserGrant(c, req->tenant(), req->server(), req->user())));
}

VaultGrpc::Reactor* VaultGrpc::GetUpstreamCredential(Ctx* ctx,
                                                     const pb::GetUpstreamCredentialRequest* req,
                                                     pb::UpstreamCredential* resp) {
  return Call(ctx, *req, "GetUpstreamCredential", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(UpstreamCredential up,
                     svc_.GetUpstreamCredential(c, req->tenant(), req->server(), req->user()));
    resp->set_authorization(up.authorization.value());
    resp->set_from_email(up.from_email);
    resp->set_mode(ToProto(up.mode));
    resp->set_region(ToProto(up.region));
    if (up.mode == AuthMode::kApiKey) resp->set_access(ToProto(up.access));
    for (const auto& s : up.scopes) resp->add_scopes(s);
    if (up.expires_at) SetTime(*up.expires_at, resp->mutable_expires_at());
    if (up.grant_status) resp->set_grant_status(ToProto(*up.grant_status));
    return absl::OkStatus();
  });
}

VaultGrpc::Reactor* VaultGrpc::RotateKek(Ctx* ctx, const pb::RotateKekRequest* req,
                                         pb::RotateKekResponse* resp) {
  return Call(ctx, *req, "RotateKek", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(RotateKekResult r, svc_.RotateKek(c));
    resp->set_kek_version(r.kek_version);
    resp->set_data_keys_rewrapped(r.rewrapped);
    resp->set_data_keys_total(r.total);
    return absl::OkStatus();
  });
}

#undef VAULT_REPLY

VaultGrpc::Reactor* VaultGrpc::DeleteTenantSecrets(Ctx* ctx, const pb::DeleteTenantSecretsRequest* req,
                                                   pb::DeleteTenantSecretsResponse* resp) {
  return Call(ctx, *req, "DeleteTenantSecrets", [=](const Caller& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto deleted, svc_.DeleteTenantSecrets(c, req->tenant()));
    resp->set_credentials_deleted(deleted.first);
    resp->set_data_key_destroyed(deleted.second);
    return absl::OkStatus();
  });
}

}  // namespace bastion::vault
