// Process configuration: absl flags, each overridable by an environment variable
// BASTION_<FLAG_NAME> (command-line flags win over the environment), and secret files.
#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bastion::config {

// The environment variable that sets flag `name`: "database_url" -> "BASTION_DATABASE_URL".
std::string EnvVarForFlag(absl::string_view name);

// Sets every registered flag whose BASTION_* variable is present in the environment.
// A value that does not parse is an error naming the variable (never its value).
absl::Status ApplyEnvOverrides();

// Applies env overrides, then parses argv (flags win). Exits with a clear message on error.
std::vector<char*> Parse(int argc, char** argv, absl::string_view usage);

// Reads a secret (token, key) from a file, trimming one trailing newline. The error names the
// path, never the contents.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace bastion::config
