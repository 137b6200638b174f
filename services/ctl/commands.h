// bastionctl's command registry: one entry per `<noun> <verb>`, contributed by one file per
// service (tenant_commands.cc, vault_commands.cc, later governance...), dispatched by cli.cc.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/ctl/context.h"

namespace bastion::ctl {

struct FlagSpec {
  std::string name;   // without the leading --, e.g. "tenant"
  std::string value;  // how usage shows its value, e.g. "T" or "admin|member"; "" for a switch
                      // that takes no value (--all-read-only means --all-read-only=true)
  bool required = false;
};

struct Command {
  std::string noun;
  std::string verb;
  // Positional arguments as usage shows them, e.g. {"<slug>", "on|off"}; all are required. The
  // last may repeat: "<tool>..." (one or more) or "[<tool>...]" (any number).
  std::vector<std::string> args;
  std::vector<FlagSpec> flags;
  std::string summary;
  // Returns UsageError(...) for bad arguments, Context::Call's status for a failed RPC.
  std::function<absl::Status(Context&)> run;
  // For a command that reads a secret (see Context::ReadSecret), how it takes it, e.g. "the API
  // key is read from stdin or --key-file PATH". Such a command never echoes a stray argument in
  // an error, and answers a flag like --api-key with this: either may be the secret itself.
  std::string secret_input;

  // "bastionctl tenant create <slug> [--display-name N]"
  std::string Usage() const;
};

// The shared flag every tenant-scoped command takes.
inline FlagSpec TenantFlag() { return {"tenant", "T", true}; }

// Per-service command sets, each defined in its own <service>_commands.cc.
std::vector<Command> TenantCommands();
std::vector<Command> SignInCommands();
std::vector<Command> VaultCommands();
std::vector<Command> IdpCommands();
std::vector<Command> GovernanceCommands();

// Every command, in the order help lists them.
const std::vector<Command>& AllCommands();

}  // namespace bastion::ctl
