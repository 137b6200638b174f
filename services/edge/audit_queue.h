// The edge's audit pipeline: tool-call events wait in a bounded in-memory queue and go to
// governance in batches from a background thread, off the request path. Nothing is dropped
// silently: when governance cannot take events (it is down, slow) they stay queued and are
// retried with backoff; once the queue is full the edge refuses new tool calls instead of running
// them unaudited. A batch governance refuses as invalid is split until the event(s) it cannot
// store are found; those are set aside (kept in a bounded list, logged by id, counted) so one bad
// event never blocks the others. Shutdown drains what it can within a deadline.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/types/span.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/registry.h"
#include "services/edge/backends.h"

namespace bastion::edge {

// OK when governance can store `event`: every text field is valid UTF-8 without NUL and within
// its length limit, and the ids it needs are present. The endpoint checks this before running a
// call, so no call runs whose event would be refused.
absl::Status ValidateAuditEvent(const AuditEvent& event);

class AuditQueue : public AuditSink {
 public:
  using Sender = std::function<absl::Status(const std::vector<AuditEvent>& batch)>;

  AuditQueue(Sender send, size_t capacity, size_t batch_size, metrics::Registry& registry,
             size_t rejected_capacity = 1000);
  ~AuditQueue() override;

  bool Record(AuditEvent event) override;
  bool HasRoom() const override;
  size_t depth() const;
  // Events governance refused as invalid, oldest first (at most `rejected_capacity`, the newest).
  std::vector<AuditEvent> rejected() const;
  // Stops the sender thread after trying to deliver everything queued, for at most `deadline`.
  void Drain(absl::Duration deadline);

 private:
  void Loop();
  // Sends `events` (the front of the queue), splitting a batch governance refuses as invalid
  // until the bad events stand alone and are set aside. Adds to `*settled` the events delivered
  // or set aside, in queue order; returns the first transient failure (the rest stay queued).
  absl::Status SendOrSplit(absl::Span<const AuditEvent> events, size_t* settled);
  void SetAside(const AuditEvent& event, const absl::Status& why);

  const Sender send_;
  const size_t capacity_;
  const size_t batch_size_;
  const size_t rejected_capacity_;
  metrics::Gauge& depth_gauge_;
  metrics::Counter& sent_;
  metrics::Counter& send_failures_;
  metrics::Counter& rejected_total_;
  mutable absl::Mutex mu_;
  std::deque<AuditEvent> queue_ ABSL_GUARDED_BY(mu_);
  std::deque<AuditEvent> rejected_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time give_up_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread thread_;
};

}  // namespace bastion::edge
