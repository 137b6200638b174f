#include "services/ctl/cli.h"

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/grpc/tls.h"
#include "services/ctl/commands.h"

namespace bastion::ctl {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  bool help = false;
};

// A flag that takes no value in the command that declares it (FlagSpec::value ""). Switch names
// are known before the command is, so a name must not be a switch in one command and take a
// value in another.
bool IsSwitch(const std::string& name) {
  for (const Command& c : AllCommands()) {
    for (const FlagSpec& f : c.flags) {
      if (f.name == name) return f.value.empty();
    }
  }
  return false;
}

// `--flag value`, `--flag=value`, `--` ends flags; -h/--help anywhere asks for help. Every flag
// but --help and the switches take a value, which keeps the grammar free of per-command knowledge.
absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a == "-h" || a == "--help") {
      parsed.help = true;
      continue;
    }
    if (!absl::StartsWith(a, "-") || a == "-") {
      parsed.positional.push_back(a);
      continue;
    }
    if (!absl::StartsWith(a, "--")) return UsageError(absl::StrCat("unknown flag ", a));
    std::string name, value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      name = a.substr(2, eq - 2);
      value = a.substr(eq + 1);
    } else {
      name = a.substr(2);
      if (IsSwitch(name)) {
        value = "true";
      } else if (i + 1 >= args.size() || absl::StartsWith(args[i + 1], "--")) {
        return UsageError(absl::StrCat("flag --", name, " needs a value"));
      } else {
        value = args[++i];
      }
    }
    if (name.empty()) return UsageError(absl::StrCat("malformed flag ", a));
    if (!parsed.flags.emplace(name, value).second) {
      return UsageError(absl::StrCat("flag --", name, " given more than once"));
    }
  }
  return parsed;
}

bool IsGlobalFlag(const std::string& name) {
  if (name == "output" || name == "admin-token" || name == "timeout") return true;
  if (name == "tls-ca-file" || name == "tls-cert-file" || name == "tls-key-file") return true;
  for (const ServiceInfo& s : Services()) {
    if (name == s.flag) return true;
  }
  return false;
}

// Global flags first, then the environment, then defaults.
absl::StatusOr<GlobalOptions> ResolveGlobals(const std::map<std::string, std::string>& flags,
                                             const Env& env) {
  auto pick = [&](const std::string& flag, const std::string& var) -> std::optional<std::string> {
    if (auto it = flags.find(flag); it != flags.end()) return it->second;
    if (!var.empty()) return env.Get(var);
    return std::nullopt;
  };
  GlobalOptions o;
  std::string output = pick("output", "").value_or("table");
  if (output == "json") {
    o.output = Output::kJson;
  } else if (output != "table") {
    return UsageError(absl::StrCat("--output must be table or json, not '", output, "'"));
  }
  for (const ServiceInfo& s : Services()) {
    o.addresses[s.service] = pick(s.flag, s.env).value_or(s.default_address);
    if (o.addresses[s.service].empty()) {
      return UsageError(absl::StrCat("--", s.flag, " must not be empty"));
    }
  }
  o.admin_token = pick("admin-token", "BASTION_ADMIN_TOKEN").value_or("");
  o.stdin_is_terminal = env.stdin_is_terminal;
  grpcutil::ClientTlsFiles tls{pick("tls-ca-file", "BASTION_TLS_CA_FILE").value_or(""),
                               pick("tls-cert-file", "BASTION_TLS_CERT_FILE").value_or(""),
                               pick("tls-key-file", "BASTION_TLS_KEY_FILE").value_or("")};
  if (!tls.enabled() && (!tls.cert_file.empty() || !tls.key_file.empty())) {
    return UsageError(
        "--tls-cert-file and --tls-key-file need --tls-ca-file: the CA that signed the services' certificates");
  }
  if (tls.enabled()) {
    auto credentials = grpcutil::MakeChannelCredentials(tls);
    if (!credentials.ok()) return UsageError(credentials.status().message());
    o.channel_credentials = *std::move(credentials);
  }
  if (auto t = pick("timeout", ""); t.has_value()) {
    if (!absl::ParseDuration(*t, &o.timeout) || o.timeout <= absl::ZeroDuration()) {
      return UsageError(absl::StrCat("--timeout must be a positive duration like 10s or 1m, not '",
                                     *t, "'"));
    }
  }
  return o;
}

std::vector<std::string> Nouns() {
  std::vector<std::string> nouns;
  for (const Command& c : AllCommands()) {
    if (std::find(nouns.begin(), nouns.end(), c.noun) == nouns.end()) nouns.push_back(c.noun);
  }
  return nouns;
}

// Each command's usage, with its summary indented below: usages are too long for columns.
void PrintNounCommands(std::ostream& os, const std::string& noun) {
  for (const Command& c : AllCommands()) {
    if (c.noun == noun) os << "  " << c.Usage() << "\n      " << c.summary << "\n";
  }
}

constexpr char kShape[] = "bastionctl <noun> <verb> [object] [--flags]";

void PrintHelp(std::ostream& os) {
  os << "bastionctl: administer Bastion tenants, users, tokens and their AI access.\n\n"
     << "usage: " << kShape << "\n";
  for (const std::string& noun : Nouns()) {
    os << "\n" << noun << " commands:\n";
    PrintNounCommands(os, noun);
  }
  std::vector<std::pair<std::string, std::string>> globals = {
      {"--output table|json", "human-readable tables (default) or JSON for scripts"},
      {"--admin-token TOKEN", "operator token or a tenant admin's client token (env BASTION_ADMIN_TOKEN)"},
      {"--timeout DURATION", "deadline of each RPC (default 10s)"},
      {"--tls-ca-file PEM", "use TLS; trust services whose certificate this CA signed (env BASTION_TLS_CA_FILE)"},
      {"--tls-cert-file PEM", "client certificate, for mutual TLS (env BASTION_TLS_CERT_FILE)"},
      {"--tls-key-file PEM", "its private key (env BASTION_TLS_KEY_FILE)"},
  };
  for (const ServiceInfo& s : Services()) {
    globals.push_back({absl::StrCat("--", s.flag, " HOST:PORT"),
                       absl::StrCat(s.name, " service (env ", s.env, ", default ", s.default_address, ")")});
  }
  size_t width = 0;
  for (const auto& [flag, help] : globals) width = std::max(width, flag.size());
  os << "\nglobal flags (anywhere on the line; --flag value or --flag=value):\n";
  for (const auto& [flag, help] : globals) {
    os << "  " << flag << std::string(width - flag.size() + 2, ' ') << help << "\n";
  }
}

// For a mistyped noun: the shape and the nouns, not the whole help.
void PrintShortUsage(std::ostream& os) {
  os << "usage: " << kShape << "\n"
     << "nouns: " << absl::StrJoin(Nouns(), ", ") << "; run 'bastionctl help' for every command.\n";
}

void PrintNounHelp(std::ostream& os, const std::string& noun) {
  os << noun << " commands:\n";
  PrintNounCommands(os, noun);
  os << "\nrun 'bastionctl help' for the global flags.\n";
}

const Command* Find(const std::string& noun, const std::string& verb) {
  for (const Command& c : AllCommands()) {
    if (c.noun == noun && c.verb == verb) return &c;
  }
  return nullptr;
}

bool KnownNoun(const std::string& noun) {
  for (const Command& c : AllCommands()) {
    if (c.noun == noun) return true;
  }
  return false;
}

// --api-key, --client-secret, --token...: what someone trying to pass a secret would type.
bool LooksLikeSecretFlag(const std::string& name) {
  for (const char* word : {"key", "secret", "token", "password"}) {
    if (absl::StrContains(name, word)) return true;
  }
  return false;
}

// Arguments and flags against the command's spec; splits off the global flags.
absl::Status Validate(const Command& c, const ParsedArgs& parsed,
                      std::map<std::string, std::string>* command_flags,
                      std::map<std::string, std::string>* global_flags) {
  for (const auto& [name, value] : parsed.flags) {
    if (IsGlobalFlag(name)) {
      (*global_flags)[name] = value;
      continue;
    }
    bool known = false;
    for (const FlagSpec& f : c.flags) known = known || f.name == name;
    if (!known && !c.secret_input.empty() && LooksLikeSecretFlag(name)) {
      return UsageError(absl::StrCat("a secret is never taken from a flag like --", name,
                                     ", where shell history and ps can see it: ", c.secret_input));
    }
    if (!known) return UsageError(absl::StrCat("unknown flag --", name));
    if (IsSwitch(name) && value != "true" && value != "false") {
      return UsageError(absl::StrCat("--", name, " takes no value (or true|false), not '", value, "'"));
    }
    (*command_flags)[name] = value;
  }
  for (const FlagSpec& f : c.flags) {
    if (!f.required) continue;
    auto it = command_flags->find(f.name);
    if (it == command_flags->end()) return UsageError(absl::StrCat("missing --", f.name));
    if (it->second.empty()) return UsageError(absl::StrCat("--", f.name, " must not be empty"));
  }
  // "<tool>..." repeats, "[<tool>...]" may also be absent.
  const bool optional_tail = !c.args.empty() && absl::EndsWith(c.args.back(), "...]");
  const bool repeats = optional_tail || (!c.args.empty() && absl::EndsWith(c.args.back(), "..."));
  const size_t least = c.args.size() - (optional_tail ? 1 : 0);
  size_t given = parsed.positional.size() - 2;
  if (given < least || (!repeats && given > c.args.size())) {
    if (given < least) {
      return UsageError(absl::StrCat("missing ", c.args[given]));
    }
    if (!c.secret_input.empty()) {
      return UsageError(absl::StrCat("unexpected argument after ", c.args.empty() ? c.verb : c.args.back(),
                                     " (not shown: it may be a secret); ", c.secret_input));
    }
    return UsageError(absl::StrCat("unexpected argument '", parsed.positional[2 + c.args.size()], "'"));
  }
  for (size_t i = 2; i < parsed.positional.size(); ++i) {
    if (parsed.positional[i].empty()) {
      return UsageError(absl::StrCat(c.args[std::min(i - 2, c.args.size() - 1)], " must not be empty"));
    }
  }
  return absl::OkStatus();
}

int UsageFailure(std::ostream& err, const absl::Status& s, const std::string& usage) {
  err << "error: " << s.message() << "\n" << "usage: " << usage << "\n";
  return kUsage;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const Env& env) {
  std::istringstream empty;
  return RunCli(args, empty, out, err, env);
}

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
           const Env& env) {
  auto parsed = Parse(args);
  if (!parsed.ok()) {
    err << "error: " << parsed.status().message() << "\n";
    PrintShortUsage(err);
    return kUsage;
  }
  // A two-word noun ("oauth grants", "idp policy") reads as one.
  std::vector<std::string>& words = parsed->positional;
  if (words.size() >= 2 && KnownNoun(absl::StrCat(words[0], " ", words[1]))) {
    words[0] = absl::StrCat(words[0], " ", words[1]);
    words.erase(words.begin() + 1);
  }
  const std::vector<std::string>& pos = parsed->positional;

  if (pos.empty()) {
    if (parsed->help) {
      PrintHelp(out);
      return kOk;
    }
    PrintShortUsage(err);
    return kUsage;
  }
  if (pos[0] == "help") {
    if (pos.size() >= 2 && KnownNoun(pos[1])) {
      PrintNounHelp(out, pos[1]);
    } else {
      PrintHelp(out);
    }
    return kOk;
  }
  if (!KnownNoun(pos[0])) {
    err << "error: unknown command '" << pos[0] << "'\n";
    PrintShortUsage(err);
    return kUsage;
  }
  if (pos.size() == 1) {
    PrintNounHelp(out, pos[0]);
    return kOk;
  }
  const Command* command = Find(pos[0], pos[1]);
  if (command == nullptr) {
    err << "error: unknown command '" << pos[0] << " " << pos[1] << "'\n";
    PrintNounHelp(err, pos[0]);
    return kUsage;
  }
  if (parsed->help) {
    out << "usage: " << command->Usage() << "\n" << command->summary << "\n";
    return kOk;
  }

  std::map<std::string, std::string> command_flags, global_flags;
  if (absl::Status s = Validate(*command, *parsed, &command_flags, &global_flags); !s.ok()) {
    return UsageFailure(err, s, command->Usage());
  }
  auto globals = ResolveGlobals(global_flags, env);
  if (!globals.ok()) return UsageFailure(err, globals.status(), command->Usage());

  Context ctx(*std::move(globals), std::vector<std::string>(pos.begin() + 2, pos.end()),
              std::move(command_flags), in, out, err);
  absl::Status s = command->run(ctx);
  if (s.ok()) return kOk;
  if (IsUsageError(s)) return UsageFailure(err, s, command->Usage());
  err << "error: " << s.message() << "\n";
  return kFailed;
}

}  // namespace bastion::ctl
