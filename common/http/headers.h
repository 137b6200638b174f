// Header lists shared by Bastion's HTTP server and client. HTTP header names are
// case-insensitive, so look them up with FindHeader rather than comparing names directly.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace bastion::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` in any letter case, or nullopt.
std::optional<absl::string_view> FindHeader(const Headers& headers, absl::string_view name);

}  // namespace bastion::http
