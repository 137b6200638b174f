#include "services/edge/audit_queue.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace bastion::edge {
namespace {

AuditEvent Event(int i) {
  AuditEvent e;
  e.event_id = "e" + std::to_string(i);
  return e;
}

TEST(AuditQueue, EveryRecordedEventIsDeliveredInOrderByShutdown) {
  metrics::Registry registry;
  absl::Mutex mu;
  std::vector<std::string> delivered;
  AuditQueue q(
      [&](const std::vector<AuditEvent>& batch) {
        absl::MutexLock l(&mu);
        for (const auto& e : batch) delivered.push_back(e.event_id);
        return absl::OkStatus();
      },
      1000, 10, registry);
  for (int i = 0; i < 95; ++i) ASSERT_TRUE(q.Record(Event(i)));
  q.Drain(absl::Seconds(10));
  absl::MutexLock l(&mu);
  ASSERT_EQ(delivered.size(), 95u);
  EXPECT_EQ(delivered.front(), "e0");
  EXPECT_EQ(delivered.back(), "e94");
}

TEST(AuditQueue, EventsSurviveAnOutageAndAFullQueueRefusesMore) {
  metrics::Registry registry;
  std::atomic<bool> governance_up{false};
  std::atomic<int> delivered{0};
  AuditQueue q(
      [&](const std::vector<AuditEvent>& batch) {
        if (!governance_up) return absl::UnavailableError("governance down");
        delivered += static_cast<int>(batch.size());
        return absl::OkStatus();
      },
      5, 2, registry);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Record(Event(i)));
  EXPECT_FALSE(q.HasRoom());
  EXPECT_FALSE(q.Record(Event(99)));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(q.depth(), 5u);  // nothing lost while governance is down
  governance_up = true;
  q.Drain(absl::Seconds(20));
  EXPECT_EQ(delivered.load(), 5);
}

}  // namespace
}  // namespace bastion::edge
