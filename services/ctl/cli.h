// bastionctl's entry point, separate from main() so tests can run whole command lines with an
// injected environment and captured output.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "services/ctl/context.h"

namespace bastion::ctl {

// Runs one command line (without the program name); commands that take a secret read it from
// `in` (stdin). Returns the exit code: 0 success, 1 a failed RPC, 2 a usage error (the relevant
// usage is printed on `err`).
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
           const Env& env);
// The same with nothing on stdin.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const Env& env);

}  // namespace bastion::ctl
