// bastionctl's command registry: one entry per `<noun> <verb>`, contributed by one file per
// service (tenant_commands.cc, later vault, governance...), dispatched by cli.cc.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/ctl/context.h"

namespace bastion::ctl {

struct FlagSpec {
  std::string name;   // without the leading --, e.g. "tenant"
  std::string value;  // how usage shows its value, e.g. "T" or "admin|member"
  bool required = false;
};

struct Command {
  std::string noun;
  std::string verb;
  // Positional arguments as usage shows them, e.g. {"<slug>", "on|off"}; all are required.
  std::vector<std::string> args;
  std::vector<FlagSpec> flags;
  std::string summary;
  // Returns UsageError(...) for bad arguments, Context::Call's status for a failed RPC.
  std::function<absl::Status(Context&)> run;

  // "bastionctl tenant create <slug> [--display-name N]"
  std::string Usage() const;
};

// The shared flag every tenant-scoped command takes.
inline FlagSpec TenantFlag() { return {"tenant", "T", true}; }

// Per-service command sets, each defined in its own <service>_commands.cc.
std::vector<Command> TenantCommands();

// Every command, in the order help lists them.
const std::vector<Command>& AllCommands();

}  // namespace bastion::ctl
