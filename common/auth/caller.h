// Who is calling a Bastion gRPC API, resolved the same way in every service: a Bastion service
// (`x-bastion-service-token`, or under mutual TLS its client certificate), the operator token, or
// a tenant user's client token (resolved through the tenant service, cached briefly).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc/grpc_util.h"
#include "common/time/clock.h"

namespace bastion::auth {

struct Caller {
  enum class Kind { kNone, kOperator, kTenantAdmin, kTenantMember, kService };
  Kind kind = Kind::kNone;
  std::string tenant_id;  // tenant users
  std::string tenant_slug;
  std::string user_id;
  std::string email;
  std::string service;  // services

  bool is_operator() const { return kind == Kind::kOperator; }
  bool is_service(const std::string& name) const { return kind == Kind::kService && service == name; }
  // Who to name in an audit record of an admin change.
  std::string Actor() const;
};

// What a client token resolves to; filled from the tenant service's Authenticate.
struct TokenIdentity {
  std::string tenant_id;
  std::string tenant_slug;
  std::string user_id;
  std::string email;
  bool admin = false;
};

class CallerResolver {
 public:
  using Authenticator = std::function<absl::StatusOr<TokenIdentity>(const std::string& token)>;

  CallerResolver(std::string operator_token, grpcutil::ServiceIdentities services,
                 Authenticator authenticate, const Clock& clock = RealClock::Get(),
                 absl::Duration cache_ttl = absl::Seconds(10));

  // Blocking (may call the tenant service): call from an executor thread. In order: a service
  // token must match a listed service; else a bearer token makes the operator or a tenant user;
  // else, when `services` trusts client certificates (mutual TLS), the verified certificate must
  // name a listed service; else the caller is anonymous (Kind::kNone).
  absl::StatusOr<Caller> Resolve(const grpc::ServerContextBase& ctx);
  // The same from the credentials a request may carry: its two metadata values and the names
  // of its verified client certificate (grpcutil::VerifiedPeerNames).
  absl::StatusOr<Caller> Resolve(const std::optional<std::string>& service_token,
                                 const std::optional<std::string>& bearer_token,
                                 const std::vector<std::string>& certificate_names = {});

 private:
  const std::string operator_token_;
  const grpcutil::ServiceIdentities services_;
  const Authenticator authenticate_;
  const Clock& clock_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  // sha256(token) -> (identity, expiry)
  absl::flat_hash_map<std::string, std::pair<TokenIdentity, absl::Time>> cache_ ABSL_GUARDED_BY(mu_);
};

// The usual admin rule: the operator, or an admin of `tenant_id`. Anyone else gets the same
// NotFound an unknown tenant gets, so other tenants' existence is not revealed.
absl::Status RequireTenantAdmin(const Caller& caller, const std::string& tenant_id,
                                const std::string& tenant_ref);

}  // namespace bastion::auth
