#include "services/governance/credential_info.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace bastion::governance {
namespace {

CredentialFit CannotServe(std::string problem) { return CredentialFit{true, false, std::move(problem)}; }

bool Has(const std::vector<std::string>& scopes, const std::string& s) {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

}  // namespace

CredentialFit FitCredential(const absl::StatusOr<CredentialInfo>& info, const Server& server,
                            const Tool& tool) {
  if (!info.ok()) return CredentialFit{};
  if (!info->present) {
    return CannotServe(absl::StrCat("no credential is stored for server '", server.name,
                                    "'; an admin must add one"));
  }
  if (info->mode != server.auth_mode) {
    return CannotServe(absl::StrCat("server '", server.name, "' uses ", Name(server.auth_mode),
                                    " but its stored credential is ", Name(info->mode)));
  }
  if (info->mode == AuthMode::kApiKey) {
    if (info->read_only && tool.access == Access::kWrite) {
      return CannotServe("the server's API key is read-only and this tool writes");
    }
    return CredentialFit{true, true, ""};
  }
  if (info->classic_oauth) {
    const bool ok = Has(info->scopes, "write") || (tool.access == Access::kRead && Has(info->scopes, "read"));
    if (!ok) {
      return CannotServe(absl::StrCat("the server's OAuth app has scope '", absl::StrJoin(info->scopes, " "),
                                      "' and this tool needs ",
                                      tool.access == Access::kWrite ? "write" : "read"));
    }
    return CredentialFit{true, true, ""};
  }
  std::vector<std::string> missing;
  for (const std::string& s : tool.scopes) {
    if (!Has(info->scopes, s)) missing.push_back(s);
  }
  if (!missing.empty()) {
    return CannotServe(absl::StrCat("the server's OAuth app lacks scope(s) ",
                                    absl::StrJoin(missing, ", "), " that this tool needs"));
  }
  return CredentialFit{true, true, ""};
}

}  // namespace bastion::governance
