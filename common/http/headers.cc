#include "common/http/headers.h"

#include "absl/strings/match.h"

namespace bastion::http {

std::optional<absl::string_view> FindHeader(const Headers& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace bastion::http
