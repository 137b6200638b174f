// What every bastionctl command handler works with: its arguments and flags, the output mode,
// secrets read from stdin or a file, and lazily created gRPC stubs whose calls carry the admin
// token and a deadline.
#pragma once

#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <typeindex>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/crypto.h"

namespace bastion::ctl {

// The process environment as bastionctl sees it; injected so tests never read the real one.
struct Env {
  std::map<std::string, std::string> vars;
  // A person types at stdin: secrets read from it are prompted for and not echoed.
  bool stdin_is_terminal = false;

  // The BASTION_* variables of this process, and whether its stdin is a terminal.
  static Env FromProcess();
  std::optional<std::string> Get(const std::string& name) const;
};

enum class Output { kTable, kJson };

// The Bastion services bastionctl talks to, each at its own address.
enum class Service { kTenant, kVault, kGovernance };

struct ServiceInfo {
  Service service;
  const char* name;             // "tenant"
  const char* flag;             // "tenant-addr"
  const char* env;              // "BASTION_TENANT_ADDR"
  const char* default_address;  // "127.0.0.1:7001"
};
const std::vector<ServiceInfo>& Services();
const ServiceInfo& InfoFor(Service service);

// Settings shared by every command: global flags, falling back to the environment.
struct GlobalOptions {
  Output output = Output::kTable;
  std::map<Service, std::string> addresses;
  std::string admin_token;
  absl::Duration timeout = absl::Seconds(10);
  bool stdin_is_terminal = false;
  // TLS to every service when set (--tls-ca-file and friends); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
};

// A mistake in the command line (exit 2, the command's usage is printed), as opposed to a
// failed RPC (exit 1).
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

class Context {
 public:
  Context(GlobalOptions options, std::vector<std::string> args,
          std::map<std::string, std::string> flags, std::istream& in, std::ostream& out,
          std::ostream& err);

  // Positional arguments after `<noun> <verb>`; the dispatcher has checked their count.
  const std::string& arg(size_t i) const { return args_.at(i); }
  // All of them, for a command whose last argument repeats ("<tool>...").
  const std::vector<std::string>& args() const { return args_; }
  // A command flag (without the leading --), if given.
  std::optional<std::string> flag(const std::string& name) const;
  bool has_flag(const std::string& name) const { return flags_.count(name) > 0; }
  // The --tenant flag, or "" when the command does not take one and it was not given.
  std::string tenant() const { return flag("tenant").value_or(""); }

  bool json() const { return options_.output == Output::kJson; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // Asks a person at the terminal to type `expected` to go on (a destructive command's
  // confirmation). False when stdin is not a terminal: such a command needs --yes instead.
  bool Confirm(absl::string_view prompt, absl::string_view expected);

  // A secret that must never be on the command line (shell history, ps): the contents of the
  // file named by --<file_flag> when given, else stdin (all of it from a pipe; one line from a
  // terminal, prompted for on stderr and not echoed). One trailing newline is trimmed. An empty
  // or unreadable secret is a usage error. `what` names it in the prompt and errors ("API key").
  absl::StatusOr<crypto::SecretString> ReadSecret(const std::string& file_flag, absl::string_view what);

  // Runs one unary RPC on `service` with the admin token and the deadline. A failure becomes a
  // status whose message is the whole error line: "<grpc message> (<CODE>)", plus a hint when
  // the service is unreachable or the caller unauthenticated.
  template <typename StubT, typename Req, typename Resp>
  absl::Status Call(Service service,
                    grpc::Status (StubT::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& request, Resp* response) {
    StubT& stub = Stub<StubT>(service);
    return Invoke(service, [&](grpc::ClientContext* c) { return (stub.*rpc)(c, request, response); });
  }

 private:
  template <typename StubT>
  StubT& Stub(Service service) {
    std::shared_ptr<void>& slot = stubs_[std::type_index(typeid(StubT))];
    if (slot == nullptr) slot = std::make_shared<StubT>(Channel(service));
    return *static_cast<StubT*>(slot.get());
  }

  std::shared_ptr<grpc::Channel> Channel(Service service);
  absl::Status Invoke(Service service, absl::FunctionRef<grpc::Status(grpc::ClientContext*)> rpc);

  const GlobalOptions options_;
  const std::vector<std::string> args_;
  const std::map<std::string, std::string> flags_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  std::map<Service, std::shared_ptr<grpc::Channel>> channels_;
  // One stub per generated Stub type; shared_ptr<void> keeps each one's real deleter.
  std::map<std::type_index, std::shared_ptr<void>> stubs_;
};

}  // namespace bastion::ctl
