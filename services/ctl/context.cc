#include "services/ctl/context.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace bastion::ctl {
namespace {

constexpr char kUsagePayload[] = "bastion.ctl/usage";

// Far above any real API key or client secret (the vault refuses more than 4096 bytes); the cap
// only stops a mistaken `< bigfile` from being read whole.
constexpr size_t kMaxSecretBytes = 16 * 1024;

// Turns terminal echo off on stdin while it lives, so a pasted secret is not left on screen.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// Reads `in` to its end (or one line) and trims one trailing newline, in a buffer reserved up
// front so that no reallocation leaves a copy of the secret in freed memory; SecretString wipes
// the one copy there is.
absl::StatusOr<crypto::SecretString> ReadBounded(std::istream& in, bool one_line, absl::string_view source,
                                                 absl::string_view what) {
  constexpr size_t kLimit = kMaxSecretBytes + 2;  // room for a trailing CRLF
  std::string text;
  text.reserve(kLimit);
  bool too_long = false;
  for (char c; in.get(c);) {
    if (text.size() == kLimit) {
      too_long = true;
      break;
    }
    text.push_back(c);
    if (one_line && c == '\n') break;
  }
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  crypto::SecretString secret(std::move(text));
  if (too_long || secret.value().size() > kMaxSecretBytes) {
    return UsageError(absl::StrCat("the ", what, " read from ", source, " is longer than ", kMaxSecretBytes,
                                   " bytes; is it the right input?"));
  }
  if (secret.empty()) return UsageError(absl::StrCat("the ", what, " read from ", source, " is empty"));
  return secret;
}

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
  env.stdin_is_terminal = isatty(STDIN_FILENO) == 1;
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
                 std::map<std::string, std::string> flags, std::istream& in, std::ostream& out,
                 std::ostream& err)
    : options_(std::move(options)),
      args_(std::move(args)),
      flags_(std::move(flags)),
      in_(in),
      out_(out),
      err_(err) {}

std::optional<std::string> Context::flag(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<crypto::SecretString> Context::ReadSecret(const std::string& file_flag,
                                                        absl::string_view what) {
  absl::StatusOr<crypto::SecretString> read;
  if (auto path = flag(file_flag); path.has_value()) {
    if (path->empty()) return UsageError(absl::StrCat("--", file_flag, " must not be empty"));
    std::ifstream file(*path, std::ios::binary);
    if (!file) {
      return UsageError(absl::StrCat("cannot read --", file_flag, " ", *path, ": ", std::strerror(errno)));
    }
    read = ReadBounded(file, /*one_line=*/false, absl::StrCat("--", file_flag, " ", *path), what);
  } else if (options_.stdin_is_terminal) {
    err_ << "Paste the " << what << " and press Enter (it is not shown): " << std::flush;
    {
      EchoOff quiet;
      read = ReadBounded(in_, /*one_line=*/true, "stdin", what);
    }
    err_ << "\n";  // the Enter the terminal did not echo
  } else {
    read = ReadBounded(in_, /*one_line=*/false, "stdin", what);
  }
  return read;
}

bool Context::Confirm(absl::string_view prompt, absl::string_view expected) {
  if (!options_.stdin_is_terminal) return false;
  err_ << prompt << std::flush;
  std::string line;
  if (!std::getline(in_, line)) return false;
  return absl::StripAsciiWhitespace(line) == expected;
}

std::shared_ptr<grpc::Channel> Context::Channel(Service service) {
  std::shared_ptr<grpc::Channel>& channel = channels_[service];
  if (channel == nullptr) {
    auto it = options_.addresses.find(service);
    std::string address =
        it != options_.addresses.end() ? it->second : InfoFor(service).default_address;
    // Local runs are plaintext; a cluster may serve TLS or mutual TLS (docs/security.md).
    channel = grpc::CreateChannel(address, options_.channel_credentials != nullptr
                                               ? options_.channel_credentials
                                               : grpc::InsecureChannelCredentials());
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
    // A TLS mismatch looks like an unreachable server; say what to check.
    absl::StrAppend(&line, options_.channel_credentials != nullptr
                               ? " Is its certificate signed by the --tls-ca-file CA and naming that host? "
                                 "Does it require a client certificate (--tls-cert-file, --tls-key-file)?"
                               : " If it serves TLS, set --tls-ca-file (BASTION_TLS_CA_FILE).");
  } else if (code == absl::StatusCode::kUnauthenticated && options_.admin_token.empty()) {
    absl::StrAppend(&line, "; set --admin-token or BASTION_ADMIN_TOKEN");
  }
  return absl::Status(code, line);
}

}  // namespace bastion::ctl
