#include "services/edge/session_sync.h"

#include "common/status/status_macros.h"

namespace bastion::edge {

absl::Status EndedSessionSync::Poll() {
  absl::MutexLock lock(&mu_);
  while (true) {
    ASSIGN_OR_RETURN(std::vector<EndedSessionRecord> batch, ledger_.Since(cursor_));
    for (const EndedSessionRecord& r : batch) {
      sessions_.MarkEnded(r.session_hash, r.expires_at);
      cursor_ = std::max(cursor_, r.seq);
    }
    if (batch.size() < 1000) return absl::OkStatus();
  }
}

}  // namespace bastion::edge
