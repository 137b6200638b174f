#include "common/grpc/grpc_util.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/crypto/crypto.h"
#include "common/grpc/request_check.h"
#include "common/grpc/tls.h"
#include "common/log/log.h"

namespace bastion::grpcutil {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::optional<std::string> Metadata(const grpc::ServerContextBase& ctx, const std::string& key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

std::optional<std::string> BearerToken(const grpc::ServerContextBase& ctx) {
  auto value = Metadata(ctx, "authorization");
  if (!value.has_value()) return std::nullopt;
  absl::string_view v = *value;
  if (v.size() < 7 || !absl::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) return std::nullopt;
  v.remove_prefix(7);
  v = absl::StripAsciiWhitespace(v);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

absl::StatusOr<ServiceIdentities> ServiceIdentities::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read service identities file ", path));
  ServiceIdentities ids;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<std::string> parts = absl::StrSplit(l, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() == 1) {
      ids.Add(parts[0]);
    } else if (parts.size() == 2) {
      ids.Add(parts[0], parts[1]);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", n, ": expected `<service-name> <token>`, or `<service-name>` for a service "
          "identified only by its client certificate (mutual TLS)"));
    }
  }
  return ids;
}

void ServiceIdentities::Add(const std::string& name, const std::string& token) {
  by_hash_[crypto::HexEncode(crypto::Sha256(token))] = name;
  names_.insert(name);
}

void ServiceIdentities::Add(const std::string& name) { names_.insert(name); }

std::vector<std::string> ServiceIdentities::CertificateOnlyNames() const {
  std::set<std::string> with_token;
  for (const auto& [hash, name] : by_hash_) with_token.insert(name);
  std::vector<std::string> out;
  for (const std::string& name : names_) {
    if (with_token.count(name) == 0) out.push_back(name);
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> ServiceIdentities::IdentifyCertificate(
    const std::vector<std::string>& certificate_names) const {
  if (!trust_certificates_) return std::optional<std::string>();
  std::set<std::string> services;
  for (const std::string& name : certificate_names) {
    std::string service = ServiceNameOf(name);
    if (names_.count(service) > 0) services.insert(service);
  }
  if (services.size() == 1) return std::optional<std::string>(*services.begin());
  // Names come from a certificate our CA signed: not secret, and what an operator needs to see.
  std::vector<std::string> shown(certificate_names.begin(),
                                 certificate_names.begin() + std::min<size_t>(certificate_names.size(), 4));
  const std::string which = shown.empty() ? "no DNS name or common name" : absl::StrJoin(shown, ", ");
  if (services.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the client certificate (", which, ") names no service allowed to call this one"));
  }
  return absl::UnauthenticatedError(absl::StrCat("the client certificate (", which,
                                                 ") names more than one service: ",
                                                 absl::StrJoin(services, ", ")));
}

absl::StatusOr<std::optional<std::string>> ServiceIdentities::IdentifyPeer(
    const grpc::ServerContextBase& ctx) const {
  if (!trust_certificates_) return std::optional<std::string>();
  return IdentifyCertificate(VerifiedPeerNames(ctx));
}

std::optional<std::string> ServiceIdentities::Identify(const grpc::ServerContextBase& ctx) const {
  auto token = Metadata(ctx, kServiceTokenHeader);
  if (!token.has_value()) return std::nullopt;
  return IdentifyToken(*token);
}

std::optional<std::string> ServiceIdentities::IdentifyToken(const std::string& token) const {
  const std::string hash = crypto::HexEncode(crypto::Sha256(token));
  std::optional<std::string> found;
  // Visit every entry so timing does not depend on which one matches.
  for (const auto& [h, name] : by_hash_) {
    if (crypto::ConstantTimeEquals(h, hash)) found = name;
  }
  return found;
}

std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address,
                                              const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  return grpc::CreateCustomChannel(address, credentials, args);
}

void PrepareClientContext(grpc::ClientContext& ctx, const std::string& service_token,
                          absl::Duration timeout) {
  if (!service_token.empty()) ctx.AddMetadata(kServiceTokenHeader, service_token);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

CallRunner::CallRunner(std::string service, Executor& executor, metrics::Registry& registry)
    : executor_(executor),
      requests_(metrics::BuildCounter()
                    .Name(absl::StrCat("bastion_", service, "_grpc_requests_total"))
                    .Help("gRPC requests handled, by method and status code.")
                    .Register(registry)),
      latency_(metrics::BuildHistogram()
                   .Name(absl::StrCat("bastion_", service, "_grpc_request_duration_seconds"))
                   .Help("Time to handle a gRPC request, by method.")
                   .Register(registry)) {}

void CallRunner::Record(const char* method, grpc::StatusCode code, absl::Duration elapsed) {
  static const char* const kCodes[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int c = static_cast<int>(code);
  requests_.Add({{"method", method}, {"code", c >= 0 && c <= 16 ? kCodes[c] : "UNKNOWN"}}).Increment();
  latency_.Add({{"method", method}}, metrics::DefaultLatencyBuckets())
      .Observe(absl::ToDoubleSeconds(elapsed));
}

grpc::ServerUnaryReactor* CallRunner::Run(grpc::CallbackServerContext* ctx, const char* method,
                                          const google::protobuf::Message& request,
                                          std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Time start = absl::Now();
  const std::string request_id = Metadata(*ctx, "x-request-id").value_or(crypto::NewUuid());
  const bool queued = executor_.TrySubmit([this, ctx, reactor, method, start, request_id, &request,
                                           work = std::move(work)] {
    log::ScopedRequestId rid(request_id);
    grpc::Status status;
    if (ctx->IsCancelled() || absl::FromChrono(ctx->deadline()) <= absl::Now()) {
      status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed before the call ran");
    } else if (absl::Status bad = CheckRequestStrings(request); !bad.ok()) {
      status = ToGrpc(bad);
    } else {
      absl::Status s = work();
      if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnknown) {
        log::Error("rpc failed", {{"method", method}, {"error", s.message()}});
      }
      status = ToGrpc(s);
    }
    Record(method, status.error_code(), absl::Now() - start);
    reactor->Finish(status);
  });
  if (!queued) {
    Record(method, grpc::StatusCode::RESOURCE_EXHAUSTED, absl::Now() - start);
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "server is busy; retry later"));
  }
  return reactor;
}

}  // namespace bastion::grpcutil
