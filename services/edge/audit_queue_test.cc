#include "services/edge/audit_queue.h"

#include <atomic>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/metrics/text_serializer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::edge {
namespace {

AuditEvent Event(int i) {
  AuditEvent e;
  e.event_id = "e" + std::to_string(i);
  e.tenant_id = "t-acme";
  return e;
}

// Waits for `done` with a deadline, so a broken queue fails the test instead of hanging it.
bool WaitFor(const std::function<bool()>& done, absl::Duration deadline = absl::Seconds(20)) {
  const absl::Time until = absl::Now() + deadline;
  while (!done()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
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
  EXPECT_TRUE(q.rejected().empty());  // an outage never turns good events into rejected ones
}

// Governance as it answers: a batch holding any event it cannot store is refused whole as
// INVALID_ARGUMENT, and nothing of it is stored.
TEST(AuditQueue, APoisonEventIsSetAsideAndTheOthersKeepFlowing) {
  metrics::Registry registry;
  absl::Mutex mu;
  std::vector<std::string> stored;
  int calls = 0;
  AuditQueue q(
      [&](const std::vector<AuditEvent>& batch) {
        absl::MutexLock l(&mu);
        ++calls;
        for (const auto& e : batch) {
          if (absl::StrContains(e.request_id, "\xff")) {
            return absl::InvalidArgumentError("events[0].request_id: invalid UTF-8");
          }
        }
        for (const auto& e : batch) stored.push_back(e.event_id);
        return absl::OkStatus();
      },
      1000, 10, registry);
  for (int i = 0; i < 25; ++i) {
    AuditEvent e = Event(i);
    if (i == 13) e.request_id = "\xff\xfe";
    ASSERT_TRUE(q.Record(std::move(e)));
  }
  ASSERT_TRUE(WaitFor([&] { return q.depth() == 0; })) << "the queue is stuck behind the poison event";
  // Calls recorded after the poison one are delivered too: the queue keeps moving.
  for (int i = 25; i < 40; ++i) ASSERT_TRUE(q.Record(Event(i)));
  q.Drain(absl::Seconds(10));

  absl::MutexLock l(&mu);
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    if (i != 13) expected.push_back("e" + std::to_string(i));
  }
  EXPECT_EQ(stored, expected);  // every good event, once, in order
  ASSERT_EQ(q.rejected().size(), 1u);
  EXPECT_EQ(q.rejected()[0].event_id, "e13");
  EXPECT_THAT(metrics::SerializeText(registry), ::testing::HasSubstr("bastion_edge_audit_events_rejected_total 1"));
  EXPECT_LE(calls, 25);  // bisection: a few extra batches, not one call per event (40)
}

TEST(AuditQueue, TheSetAsideListIsBounded) {
  metrics::Registry registry;
  AuditQueue q([](const std::vector<AuditEvent>&) { return absl::InvalidArgumentError("tenant not found"); },
               1000, 10, registry, /*rejected_capacity=*/3);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(q.Record(Event(i)));
  q.Drain(absl::Seconds(10));
  ASSERT_EQ(q.rejected().size(), 3u);
  EXPECT_EQ(q.rejected().front().event_id, "e5");
  EXPECT_EQ(q.rejected().back().event_id, "e7");
  EXPECT_THAT(metrics::SerializeText(registry), ::testing::HasSubstr("bastion_edge_audit_events_rejected_total 8"));
}

TEST(ValidateAuditEvent, RefusesWhatGovernanceCannotStore) {
  EXPECT_TRUE(ValidateAuditEvent(Event(1)).ok());
  AuditEvent utf8 = Event(1);
  utf8.email = "ren\xc3\xa9" "e@acme.com";  // é is fine
  EXPECT_TRUE(ValidateAuditEvent(utf8).ok());

  auto with = [](std::function<void(AuditEvent&)> change) {
    AuditEvent e = Event(1);
    change(e);
    return ValidateAuditEvent(e).code();
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(with([](AuditEvent& e) { e.request_id = "\xff\xfe"; }), kInvalid);
  EXPECT_EQ(with([](AuditEvent& e) { e.server = std::string("pager\0duty", 10); }), kInvalid);
  EXPECT_EQ(with([](AuditEvent& e) { e.email = "\xc0\xaf"; }), kInvalid);        // overlong '/'
  EXPECT_EQ(with([](AuditEvent& e) { e.email = "\xed\xa0\x80"; }), kInvalid);    // a surrogate
  EXPECT_EQ(with([](AuditEvent& e) { e.email = "abc\xe2\x82"; }), kInvalid);      // truncated
  EXPECT_EQ(with([](AuditEvent& e) { e.request_id = std::string(129, 'r'); }), kInvalid);
  EXPECT_EQ(with([](AuditEvent& e) { e.event_id.clear(); }), kInvalid);
  EXPECT_EQ(with([](AuditEvent& e) { e.tenant_id.clear(); }), kInvalid);
}

}  // namespace
}  // namespace bastion::edge
