// The edge's audit pipeline: tool-call events wait in a bounded in-memory queue and go to
// governance in batches from a background thread, off the request path. Nothing is dropped:
// when governance cannot take events they stay queued (and are retried with backoff); once the
// queue is full the edge refuses new tool calls instead of running them unaudited. Shutdown
// drains what it can within a deadline.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/metrics/registry.h"
#include "services/edge/backends.h"

namespace bastion::edge {

class AuditQueue : public AuditSink {
 public:
  using Sender = std::function<absl::Status(const std::vector<AuditEvent>& batch)>;

  AuditQueue(Sender send, size_t capacity, size_t batch_size, metrics::Registry& registry);
  ~AuditQueue() override;

  bool Record(AuditEvent event) override;
  bool HasRoom() const override;
  size_t depth() const;
  // Stops the sender thread after trying to deliver everything queued, for at most `deadline`.
  void Drain(absl::Duration deadline);

 private:
  void Loop();

  const Sender send_;
  const size_t capacity_;
  const size_t batch_size_;
  metrics::Gauge& depth_gauge_;
  metrics::Counter& sent_;
  metrics::Counter& send_failures_;
  mutable absl::Mutex mu_;
  std::deque<AuditEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time give_up_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread thread_;
};

}  // namespace bastion::edge
