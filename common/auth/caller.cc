#include "common/auth/caller.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/grpc/tls.h"

namespace bastion::auth {

std::string Caller::Actor() const {
  switch (kind) {
    case Kind::kOperator: return "operator";
    case Kind::kService: return absl::StrCat("service:", service);
    case Kind::kTenantAdmin:
    case Kind::kTenantMember: return absl::StrCat("user:", email);
    case Kind::kNone: break;
  }
  return "anonymous";
}

CallerResolver::CallerResolver(std::string operator_token, grpcutil::ServiceIdentities services,
                               Authenticator authenticate, const Clock& clock,
                               absl::Duration cache_ttl)
    : operator_token_(std::move(operator_token)),
      services_(std::move(services)),
      authenticate_(std::move(authenticate)),
      clock_(clock),
      ttl_(cache_ttl) {}

namespace {

Caller ServiceCaller(std::string name) {
  Caller c;
  c.kind = Caller::Kind::kService;
  c.service = std::move(name);
  return c;
}

}  // namespace

absl::StatusOr<Caller> CallerResolver::Resolve(const grpc::ServerContextBase& ctx) {
  return Resolve(grpcutil::Metadata(ctx, grpcutil::kServiceTokenHeader), grpcutil::BearerToken(ctx),
                 grpcutil::VerifiedPeerNames(ctx));
}

absl::StatusOr<Caller> CallerResolver::Resolve(const std::optional<std::string>& service_token,
                                               const std::optional<std::string>& token,
                                               const std::vector<std::string>& certificate_names) {
  if (service_token.has_value()) {
    auto service = services_.IdentifyToken(*service_token);
    if (!service.has_value()) return absl::UnauthenticatedError("unknown service identity");
    return ServiceCaller(*service);
  }
  if (!token.has_value()) {
    // A bearer token outranks the certificate: under mutual TLS an admin's client (bastionctl)
    // must present a certificate too, and it acts as the person whose token it carries.
    absl::StatusOr<std::optional<std::string>> service = services_.IdentifyCertificate(certificate_names);
    if (!service.ok()) return service.status();
    if (service->has_value()) return ServiceCaller(**service);
    return Caller{};
  }
  if (!operator_token_.empty() && crypto::ConstantTimeEquals(*token, operator_token_)) {
    Caller c;
    c.kind = Caller::Kind::kOperator;
    return c;
  }
  const std::string key = crypto::Sha256(*token);
  const absl::Time now = clock_.Now();
  TokenIdentity id;
  bool cached = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.second > now) {
      id = it->second.first;
      cached = true;
    }
  }
  if (!cached) {
    auto resolved = authenticate_(*token);
    if (!resolved.ok()) {
      if (resolved.status().code() == absl::StatusCode::kUnauthenticated ||
          resolved.status().code() == absl::StatusCode::kPermissionDenied) {
        return absl::UnauthenticatedError(resolved.status().message());
      }
      return absl::UnavailableError("cannot verify the bearer token right now; retry");
    }
    id = *resolved;
    absl::MutexLock lock(&mu_);
    if (cache_.size() > 10000) cache_.clear();
    cache_[key] = {id, now + ttl_};
  }
  Caller c;
  c.kind = id.admin ? Caller::Kind::kTenantAdmin : Caller::Kind::kTenantMember;
  c.tenant_id = id.tenant_id;
  c.tenant_slug = id.tenant_slug;
  c.user_id = id.user_id;
  c.email = id.email;
  return c;
}

absl::Status RequireTenantAdmin(const Caller& caller, const std::string& tenant_id,
                                const std::string& tenant_ref) {
  switch (caller.kind) {
    case Caller::Kind::kOperator: return absl::OkStatus();
    case Caller::Kind::kNone: return absl::UnauthenticatedError("a bearer token is required");
    case Caller::Kind::kTenantAdmin:
      if (caller.tenant_id == tenant_id) return absl::OkStatus();
      return absl::NotFoundError(absl::StrCat("tenant '", tenant_ref, "' not found"));
    case Caller::Kind::kTenantMember:
      if (caller.tenant_id == tenant_id) {
        return absl::PermissionDeniedError("this needs a tenant admin or the operator");
      }
      return absl::NotFoundError(absl::StrCat("tenant '", tenant_ref, "' not found"));
    case Caller::Kind::kService:
      return absl::PermissionDeniedError("services may not call admin APIs");
  }
  return absl::PermissionDeniedError("not allowed");
}

}  // namespace bastion::auth
