// Small string helpers over std::string_view for this package. Debian's Abseil is built with its
// own absl::string_view, so absl::StrCat and friends take neither std::string_view nor Boost.JSON
// strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bastion::pagerduty::internal {

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

inline bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

inline std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string_view::npos; start = end + 1) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace bastion::pagerduty::internal
