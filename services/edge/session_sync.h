// Keeps ended MCP sessions ended on every edge replica: each replica publishes the sessions it
// ends to the tenant service and polls for the ones others ended (a cursor over a sequence),
// so a client that deleted its session cannot resume it on another replica.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/edge/session.h"

namespace bastion::edge {

struct EndedSessionRecord {
  int64_t seq = 0;
  std::string session_hash;
  absl::Time expires_at;
};

class SessionLedger {
 public:
  virtual ~SessionLedger() = default;
  virtual absl::Status Publish(const std::string& session_hash, absl::Time expires_at) = 0;
  virtual absl::StatusOr<std::vector<EndedSessionRecord>> Since(int64_t after_seq) = 0;
};

class EndedSessionSync {
 public:
  EndedSessionSync(SessionCodec& sessions, SessionLedger& ledger) : sessions_(sessions), ledger_(ledger) {}
  // Learns what other replicas ended since the last poll. Call it every second or so.
  absl::Status Poll();

 private:
  SessionCodec& sessions_;
  SessionLedger& ledger_;
  absl::Mutex mu_;
  int64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace bastion::edge
