// gRPC glue shared by the services: absl::Status <-> grpc::Status, request metadata, service
// identities, and a runner that moves each unary call off gRPC's threads onto an executor and
// counts it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/exec/executor.h"
#include "common/metrics/registry.h"
#include "google/protobuf/message.h"

namespace bastion::grpcutil {

grpc::Status ToGrpc(const absl::Status& s);
absl::Status FromGrpc(const grpc::Status& s);

// The value of metadata `key` (lower-case), if present.
std::optional<std::string> Metadata(const grpc::ServerContextBase& ctx, const std::string& key);
// The token of an `authorization: Bearer <token>` header, if present.
std::optional<std::string> BearerToken(const grpc::ServerContextBase& ctx);

inline constexpr char kServiceTokenHeader[] = "x-bastion-service-token";

// Which Bastion services may call this one: by the SHA-256 of each one's secret token and, under
// mutual TLS, by the name in its client certificate. Configured from a file of `name token` and
// `name` (certificate only) lines (see docs/security.md).
class ServiceIdentities {
 public:
  static absl::StatusOr<ServiceIdentities> FromFile(const std::string& path);
  void Add(const std::string& name, const std::string& token);
  // Lists a service without a token: only its client certificate, under mutual TLS, names it.
  void Add(const std::string& name);
  // For a server that requires and verifies client certificates: from now on a call without a
  // service token may be identified by its certificate (IdentifyCertificate).
  void TrustClientCertificates() { trust_certificates_ = true; }

  // The calling service's name when its token matches, compared in constant time.
  std::optional<std::string> Identify(const grpc::ServerContextBase& ctx) const;
  std::optional<std::string> IdentifyToken(const std::string& token) const;

  // The listed service a verified client certificate's names (VerifiedPeerNames) stand for, by
  // their first DNS label. nullopt when client certificates are not trusted (no claim was made);
  // Unauthenticated when they name no listed service, or more than one.
  absl::StatusOr<std::optional<std::string>> IdentifyCertificate(
      const std::vector<std::string>& certificate_names) const;
  absl::StatusOr<std::optional<std::string>> IdentifyPeer(const grpc::ServerContextBase& ctx) const;

  // Services listed without a token: they can call only under mutual TLS.
  std::vector<std::string> CertificateOnlyNames() const;
  bool empty() const { return names_.empty(); }

 private:
  std::map<std::string, std::string> by_hash_;  // sha256 hex -> name
  std::set<std::string> names_;                 // every listed service
  bool trust_certificates_ = false;
};

// A channel from one Bastion service to another. Calls are spread over every address the name
// resolves to (round robin): behind a headless Kubernetes Service, over all its replicas.
std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address,
                                              const std::shared_ptr<grpc::ChannelCredentials>& credentials);

// Attaches a service's own identity and a deadline to an outgoing call.
void PrepareClientContext(grpc::ClientContext& ctx, const std::string& service_token,
                          absl::Duration timeout);

// Runs unary handlers on an executor and records bastion_<service>_grpc_* metrics.
class CallRunner {
 public:
  CallRunner(std::string service, Executor& executor, metrics::Registry& registry);

  // `work` runs on the executor; its status finishes the call. Queue full -> RESOURCE_EXHAUSTED;
  // an expired deadline -> DEADLINE_EXCEEDED without running the work; a string field of
  // `request` holding NUL or invalid UTF-8 -> INVALID_ARGUMENT naming it, without running the
  // work (CheckRequestStrings). `request` must outlive the call, as gRPC's request does.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, const char* method,
                                const google::protobuf::Message& request,
                                std::function<absl::Status()> work);

 private:
  void Record(const char* method, grpc::StatusCode code, absl::Duration elapsed);

  Executor& executor_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& latency_;
};

}  // namespace bastion::grpcutil
