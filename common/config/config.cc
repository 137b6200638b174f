#include "common/config/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace bastion::config {

std::string EnvVarForFlag(absl::string_view name) {
  return absl::StrCat("BASTION_", absl::AsciiStrToUpper(name));
}

absl::Status ApplyEnvOverrides() {
  for (auto& [name, flag] : absl::GetAllFlags()) {
    const std::string var = EnvVarForFlag(name);
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", var, " is not a valid value for --", name));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> Parse(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  if (absl::Status s = ApplyEnvOverrides(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    std::exit(2);
  }
  return absl::ParseCommandLine(argc, argv);
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read secret file ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  if (s.empty()) return absl::InvalidArgumentError(absl::StrCat("secret file ", path, " is empty"));
  return s;
}

}  // namespace bastion::config
