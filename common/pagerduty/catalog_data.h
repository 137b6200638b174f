// The tool data files (common/pagerduty/tools/*.json), embedded at build time by embed_json.sh.
#pragma once

#include <string_view>
#include <vector>

namespace bastion::pagerduty::internal {

struct EmbeddedFile {
  std::string_view name;  // base name, e.g. "incidents.json"
  std::string_view text;
};

// Sorted by name; "_defs.json" (shared schema fragments) comes first.
const std::vector<EmbeddedFile>& CatalogFiles();

}  // namespace bastion::pagerduty::internal
