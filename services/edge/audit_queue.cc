#include "services/edge/audit_queue.h"

#include "common/log/log.h"

namespace bastion::edge {

AuditQueue::AuditQueue(Sender send, size_t capacity, size_t batch_size, metrics::Registry& registry)
    : send_(std::move(send)),
      capacity_(capacity),
      batch_size_(batch_size),
      depth_gauge_(metrics::BuildGauge()
                       .Name("bastion_edge_audit_queue_depth")
                       .Help("Tool-call audit events waiting to be sent to governance.")
                       .Register(registry)
                       .Add({})),
      sent_(metrics::BuildCounter()
                .Name("bastion_edge_audit_events_sent_total")
                .Help("Audit events governance accepted.")
                .Register(registry)
                .Add({})),
      send_failures_(metrics::BuildCounter()
                         .Name("bastion_edge_audit_send_failures_total")
                         .Help("Audit batches governance did not accept (they are retried).")
                         .Register(registry)
                         .Add({})) {
  thread_ = std::thread([this] { Loop(); });
}

AuditQueue::~AuditQueue() { Drain(absl::Seconds(5)); }

bool AuditQueue::Record(AuditEvent event) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= capacity_) return false;
  queue_.push_back(std::move(event));
  depth_gauge_.Set(static_cast<double>(queue_.size()));
  return true;
}

bool AuditQueue::HasRoom() const {
  absl::MutexLock lock(&mu_);
  return queue_.size() < capacity_;
}

size_t AuditQueue::depth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void AuditQueue::Drain(absl::Duration deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    give_up_at_ = absl::Now() + deadline;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  if (!queue_.empty()) {
    log::Error("audit events could not be delivered before shutdown",
               {{"count", static_cast<long>(queue_.size())}});
  }
}

void AuditQueue::Loop() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    std::vector<AuditEvent> batch;
    {
      absl::MutexLock lock(&mu_);
      // Wake for a full batch, shutdown, or every 200 ms to send a partial one.
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](AuditQueue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) {
                                 return q->stopping_ || q->queue_.size() >= q->batch_size_;
                               },
                               this),
                           absl::Milliseconds(200));
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      if (stopping_ && absl::Now() > give_up_at_) return;
      const size_t n = std::min(batch_size_, queue_.size());
      batch.assign(queue_.begin(), queue_.begin() + n);
    }
    absl::Status s = send_(batch);
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      queue_.erase(queue_.begin(), queue_.begin() + batch.size());
      depth_gauge_.Set(static_cast<double>(queue_.size()));
      sent_.Increment(static_cast<double>(batch.size()));
      backoff = absl::Milliseconds(100);
      continue;
    }
    send_failures_.Increment();
    log::Warn("governance did not accept audit events; retrying", {{"error", s.message()}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
    absl::MutexLock lock(&mu_);
    if (stopping_ && absl::Now() > give_up_at_) return;
  }
}

}  // namespace bastion::edge
