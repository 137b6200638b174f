#include "services/edge/audit_queue.h"

#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace bastion::edge {
namespace {

constexpr size_t kMaxIdLength = 128;     // governance's limit on event_id; request ids match it
constexpr size_t kMaxTextLength = 1024;  // every other field: names, emails, ids, codes

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without NUL.
bool IsStorableText(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

absl::Status CheckField(const char* name, absl::string_view value, size_t max, bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  if (value.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is longer than ", max, " bytes"));
  }
  if (!IsStorableText(value)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not valid UTF-8 text without NUL"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAuditEvent(const AuditEvent& e) {
  const struct {
    const char* name;
    const std::string& value;
    size_t max;
    bool required;
  } fields[] = {
      {"event_id", e.event_id, kMaxIdLength, true},
      {"tenant_id", e.tenant_id, kMaxTextLength, true},
      {"user_id", e.user_id, kMaxTextLength, false},
      {"email", e.email, kMaxTextLength, false},
      {"client_type", e.client_type, kMaxTextLength, false},
      {"token_id", e.token_id, kMaxTextLength, false},
      {"server", e.server, kMaxTextLength, false},
      {"tool", e.tool, kMaxTextLength, false},
      {"reason", e.reason, kMaxTextLength, false},
      {"outcome", e.outcome, kMaxTextLength, false},
      {"request_id", e.request_id, kMaxIdLength, false},
      {"arguments_digest", e.arguments_digest, kMaxTextLength, false},
  };
  for (const auto& f : fields) {
    if (absl::Status s = CheckField(f.name, f.value, f.max, f.required); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("audit event cannot be stored: ", s.message()));
    }
  }
  return absl::OkStatus();
}

AuditQueue::AuditQueue(Sender send, size_t capacity, size_t batch_size, metrics::Registry& registry,
                       size_t rejected_capacity)
    : send_(std::move(send)),
      capacity_(capacity),
      batch_size_(batch_size),
      rejected_capacity_(rejected_capacity),
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
                         .Add({})),
      rejected_total_(metrics::BuildCounter()
                          .Name("bastion_edge_audit_events_rejected_total")
                          .Help("Audit events governance refused as invalid; set aside, never stored.")
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

std::vector<AuditEvent> AuditQueue::rejected() const {
  absl::MutexLock lock(&mu_);
  return std::vector<AuditEvent>(rejected_.begin(), rejected_.end());
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

void AuditQueue::SetAside(const AuditEvent& e, const absl::Status& why) {
  rejected_total_.Increment();
  // Ids only: the event holds no arguments, and its free-text fields may be what was wrong.
  log::Error("governance refused an audit event as invalid; it is set aside and not stored",
             {{"event_id", e.event_id},
              {"tenant_id", e.tenant_id},
              {"user_id", e.user_id},
              {"token_id", e.token_id},
              {"error", why.message()}});
  absl::MutexLock lock(&mu_);
  rejected_.push_back(e);
  while (rejected_.size() > rejected_capacity_) rejected_.pop_front();
}

absl::Status AuditQueue::SendOrSplit(absl::Span<const AuditEvent> events, size_t* settled) {
  absl::Status s = send_(std::vector<AuditEvent>(events.begin(), events.end()));
  if (s.ok()) {
    sent_.Increment(static_cast<double>(events.size()));
    *settled += events.size();
    return s;
  }
  // Only a refusal of the content is split: a transient failure would fail every half too, and
  // must never turn good events into rejected ones.
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  if (events.size() == 1) {
    SetAside(events[0], s);
    *settled += 1;
    return absl::OkStatus();
  }
  const size_t half = events.size() / 2;
  if (absl::Status first = SendOrSplit(events.subspan(0, half), settled); !first.ok()) return first;
  return SendOrSplit(events.subspan(half), settled);
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
    size_t settled = 0;
    absl::Status s = SendOrSplit(batch, &settled);
    {
      // Only this thread removes events, and new ones go to the back: the batch is still the
      // queue's front, and its first `settled` events are done with.
      absl::MutexLock lock(&mu_);
      queue_.erase(queue_.begin(), queue_.begin() + settled);
      depth_gauge_.Set(static_cast<double>(queue_.size()));
    }
    if (s.ok()) {
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
