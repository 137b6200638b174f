#include "services/ctl/commands.h"

#include "absl/strings/str_cat.h"

namespace bastion::ctl {

std::string Command::Usage() const {
  std::string usage = absl::StrCat("bastionctl ", noun, " ", verb);
  for (const std::string& a : args) absl::StrAppend(&usage, " ", a);
  for (const FlagSpec& f : flags) {
    if (f.required) {
      absl::StrAppend(&usage, " --", f.name, " ", f.value);
    } else {
      absl::StrAppend(&usage, " [--", f.name, f.value.empty() ? "" : " ", f.value, "]");
    }
  }
  return usage;
}

const std::vector<Command>& AllCommands() {
  static const auto* all = [] {
    auto* commands = new std::vector<Command>();
    for (Command& c : TenantCommands()) commands->push_back(std::move(c));
    for (Command& c : SignInCommands()) commands->push_back(std::move(c));
    for (Command& c : VaultCommands()) commands->push_back(std::move(c));
    for (Command& c : IdpCommands()) commands->push_back(std::move(c));
    for (Command& c : GovernanceCommands()) commands->push_back(std::move(c));
    return commands;
  }();
  return *all;
}

}  // namespace bastion::ctl
