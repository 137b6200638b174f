// bastionctl command lines: one argument per input line (stdin is the input after a NUL byte).
// Every service address points at a port where nothing listens, so a command that gets past its
// argument checks fails its RPC at once. Nothing may crash; the exit code is 0, 1 or 2.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/ctl/cli.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bastion::ctl;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::vector<std::string> args = absl::StrSplit(input.substr(0, nul), '\n');
  if (args.size() > 64) return 0;
  std::istringstream in(nul == absl::string_view::npos ? std::string() : std::string(input.substr(nul + 1)));
  std::ostringstream out, err;
  Env env;
  for (const char* var : {"BASTION_TENANT_ADDR", "BASTION_VAULT_ADDR", "BASTION_GOVERNANCE_ADDR"}) {
    env.vars[var] = "127.0.0.1:1";
  }
  env.vars["BASTION_ADMIN_TOKEN"] = "bst_operator_fuzz";
  const int code = RunCli(args, in, out, err, env);
  if (code < 0 || code > 2) __builtin_trap();
  return 0;
}
