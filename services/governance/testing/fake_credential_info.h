// A CredentialInfoSource standing in for the vault: credential metadata per (tenant, server),
// a full-access API key unless a test says otherwise, and an outage switch.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "services/governance/credential_info.h"

namespace bastion::governance {

class FakeCredentialInfo : public CredentialInfoSource {
 public:
  FakeCredentialInfo() { default_.present = true; }

  void Set(const std::string& tenant_id, const std::string& server, CredentialInfo info) {
    absl::MutexLock l(&mu_);
    infos_[{tenant_id, server}] = std::move(info);
  }
  void SetUnavailable(bool down) {
    absl::MutexLock l(&mu_);
    down_ = down;
  }
  absl::StatusOr<CredentialInfo> GetCredentialInfo(const std::string& tenant_id,
                                                   const std::string& server) override {
    absl::MutexLock l(&mu_);
    ++calls;
    if (down_) return absl::UnavailableError("vault down");
    auto it = infos_.find({tenant_id, server});
    return it == infos_.end() ? default_ : it->second;
  }

  int calls = 0;

 private:
  absl::Mutex mu_;
  CredentialInfo default_;
  std::map<std::pair<std::string, std::string>, CredentialInfo> infos_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace bastion::governance
