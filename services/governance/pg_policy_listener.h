// Hears committed policy versions from every replica: LISTEN governance_policy on a connection
// of its own, passing each '<tenant id>:<version>' notification on. After every (re)connect it
// reports that notifications may have been missed, so the caller can re-read the versions it
// cares about; a dead connection is noticed by a periodic ping and replaced.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/pg/connection.h"

namespace bastion::governance {

class PgPolicyListener {
 public:
  using OnVersion = std::function<void(const std::string& tenant_id, int64_t version)>;
  using OnConnected = std::function<void()>;

  PgPolicyListener(pg::ConnectOptions options, OnVersion on_version, OnConnected on_connected,
                   absl::Duration ping_interval = absl::Seconds(30));
  ~PgPolicyListener();
  PgPolicyListener(const PgPolicyListener&) = delete;
  PgPolicyListener& operator=(const PgPolicyListener&) = delete;

  void Start();
  void Stop();
  // True while LISTEN is active on a live connection.
  bool listening() const { return listening_; }

 private:
  void Run();
  // Waits for notifications until the connection fails or Stop is called.
  void Listen(pg::Connection& conn);
  void Deliver(const char* payload);

  const pg::ConnectOptions options_;
  const OnVersion on_version_;
  const OnConnected on_connected_;
  const absl::Duration ping_interval_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace bastion::governance
