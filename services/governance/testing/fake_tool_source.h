// A ToolSource whose tool list a test sets and changes between discovery runs.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/governance/tool_source.h"

namespace bastion::governance {

// A tool as the connector would describe it; `description` doubles as the definition's text.
inline DiscoveredTool MakeTool(const std::string& name, Access access,
                               const std::vector<std::string>& scopes = {},
                               const std::string& description = "") {
  DiscoveredTool t;
  t.name = name;
  t.title = name;
  t.description = description.empty() ? absl::StrCat("Does ", name) : description;
  t.access = access;
  t.annotations.read_only = access == Access::kRead;
  t.annotations.destructive = access == Access::kWrite;
  t.scopes = scopes;
  t.definition_json = absl::StrCat(
      R"({"description":")", t.description,
      R"(","inputSchema":{"type":"object","properties":{}},"annotations":{"readOnlyHint":)",
      t.annotations.read_only ? "true" : "false", "}}");
  return t;
}

class FakeToolSource : public ToolSource {
 public:
  void Set(std::vector<DiscoveredTool> tools) {
    absl::MutexLock l(&mu_);
    tools_ = std::move(tools);
  }
  absl::StatusOr<std::vector<DiscoveredTool>> ListTools(ServerType) override {
    absl::MutexLock l(&mu_);
    return tools_;
  }

 private:
  absl::Mutex mu_;
  std::vector<DiscoveredTool> tools_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::governance
