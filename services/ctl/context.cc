#include "services/ctl/context.h"

#include <chrono>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace bastion::ctl {
namespace {

constexpr char kUsagePayload[] = "bastion.ctl/usage";

}  // namespace

Env Env::FromProcess() {
  Env env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    if (!absl::StartsWith(entry, "BASTION_")) continue;
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    env.vars[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  return env;
}

std::optional<std::string> Env::Get(const std::string& name) const {
  auto it = vars.find(name);
  if (it == vars.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

const std::vector<ServiceInfo>& Services() {
  static const auto* services = new std::vector<ServiceInfo>{
      {Service::kTenant, "tenant", "tenant-addr", "BASTION_TENANT_ADDR", "127.0.0.1:7001"},
      {Service::kVault, "vault", "vault-addr", "BASTION_VAULT_ADDR", "127.0.0.1:7002"},
      {Service::kGovernance, "governance", "governance-addr", "BASTION_GOVERNANCE_ADDR",
       "127.0.0.1:7003"},
  };
  return *services;
}

const ServiceInfo& InfoFor(Service service) {
  for (const ServiceInfo& info : Services()) {
    if (info.service == service) return info;
  }
  return Services().front();  // unreachable: every Service has an entry
}

absl::Status UsageError(absl::string_view message) {
  absl::Status s = absl::InvalidArgumentError(message);
  s.SetPayload(kUsagePayload, absl::Cord("1"));
  return s;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

Context::Context(GlobalOptions options, std::vector<std::string> args,
                 std::map<std::string, std::string> flags, std::ostream& out, std::ostream& err)
    : options_(std::move(options)),
      args_(std::move(args)),
      flags_(std::move(flags)),
      out_(out),
      err_(err) {}

std::optional<std::string> Context::flag(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<grpc::Channel> Context::Channel(Service service) {
  std::shared_ptr<grpc::Channel>& channel = channels_[service];
  if (channel == nullptr) {
    auto it = options_.addresses.find(service);
    std::string address =
        it != options_.addresses.end() ? it->second : InfoFor(service).default_address;
    // Local runs are plaintext (services authenticate callers by token, see docs/security.md).
    channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }
  return channel;
}

absl::Status Context::Invoke(Service service,
                             absl::FunctionRef<grpc::Status(grpc::ClientContext*)> rpc) {
  grpc::ClientContext call;
  if (!options_.admin_token.empty()) {
    call.AddMetadata("authorization", absl::StrCat("Bearer ", options_.admin_token));
  }
  call.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(options_.timeout));
  grpc::Status s = rpc(&call);
  if (s.ok()) return absl::OkStatus();

  auto code = static_cast<absl::StatusCode>(s.error_code());
  std::string line = absl::StrCat(s.error_message().empty() ? "request failed" : s.error_message(),
                                  " (", absl::StatusCodeToString(code), ")");
  const ServiceInfo& info = InfoFor(service);
  auto it = options_.addresses.find(service);
  std::string address = it != options_.addresses.end() ? it->second : info.default_address;
  if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
    absl::StrAppend(&line, "; is the ", info.name, " service running at ", address, "? (--",
                    info.flag, " or ", info.env, ")");
  } else if (code == absl::StatusCode::kUnauthenticated && options_.admin_token.empty()) {
    absl::StrAppend(&line, "; set --admin-token or BASTION_ADMIN_TOKEN");
  }
  return absl::Status(code, line);
}

}  // namespace bastion::ctl
