#include "services/edge/concurrency_limiter.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::edge {
namespace {

using ::testing::HasSubstr;
using Refusal = ConcurrencyLimiter::Refusal;

TEST(ConcurrencyLimiterTest, UserOverTheLimitIsRefusedAtOnceAndAdmittedWhenOneFinishes) {
  ConcurrencyLimiter limiter(/*per_tenant=*/8, /*per_user=*/2);
  std::optional<ConcurrencyLimiter::Slot> first(limiter.TryAcquire("t1", "alice"));
  ConcurrencyLimiter::Slot second = limiter.TryAcquire("t1", "alice");
  ASSERT_TRUE(*first);
  ASSERT_TRUE(second);

  ConcurrencyLimiter::Slot third = limiter.TryAcquire("t1", "alice");
  EXPECT_FALSE(third);
  EXPECT_EQ(third.refusal(), Refusal::kUser);
  EXPECT_THAT(third.Message(), HasSubstr("You already have 2 tool calls running"));
  EXPECT_TRUE(limiter.TryAcquire("t1", "bob")) << "another user of the tenant still runs";

  first.reset();
  EXPECT_TRUE(limiter.TryAcquire("t1", "alice")) << "a finished call frees its place";
}

TEST(ConcurrencyLimiterTest, TenantLimitHoldsAcrossItsUsersButNotOtherTenants) {
  ConcurrencyLimiter limiter(/*per_tenant=*/3, /*per_user=*/4);
  std::vector<ConcurrencyLimiter::Slot> held;
  for (const char* user : {"a", "b", "c"}) {
    held.push_back(limiter.TryAcquire("abuser", user));
    ASSERT_TRUE(held.back());
  }
  EXPECT_EQ(limiter.InFlightForTenant("abuser"), 3);
  ConcurrencyLimiter::Slot refused = limiter.TryAcquire("abuser", "d");
  EXPECT_EQ(refused.refusal(), Refusal::kTenant);
  EXPECT_THAT(refused.Message(), HasSubstr("Your organization already has 3 tool calls"));
  EXPECT_TRUE(limiter.TryAcquire("neighbour", "a")) << "another tenant is not affected";

  held.clear();
  EXPECT_EQ(limiter.InFlightForTenant("abuser"), 0);
}

TEST(ConcurrencyLimiterTest, RefusedSlotReleasesNothing) {
  ConcurrencyLimiter limiter(/*per_tenant=*/1, /*per_user=*/1);
  ConcurrencyLimiter::Slot held = limiter.TryAcquire("t1", "alice");
  { ConcurrencyLimiter::Slot refused = limiter.TryAcquire("t1", "alice"); }
  EXPECT_EQ(limiter.InFlightForTenant("t1"), 1);
  EXPECT_FALSE(limiter.TryAcquire("t1", "bob"));
}

TEST(ConcurrencyLimiterTest, ZeroMeansUnlimited) {
  ConcurrencyLimiter limiter(0, 0);
  std::vector<ConcurrencyLimiter::Slot> held;
  for (int i = 0; i < 100; ++i) {
    held.push_back(limiter.TryAcquire("t1", "alice"));
    ASSERT_TRUE(held.back());
  }
}

TEST(ConcurrencyLimiterTest, ConcurrentCallsNeverExceedTheLimit) {
  ConcurrencyLimiter limiter(/*per_tenant=*/4, /*per_user=*/0);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        ConcurrencyLimiter::Slot slot = limiter.TryAcquire("t1", std::to_string(t));
        if (!slot) continue;
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --running;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most.load(), 4);
  EXPECT_EQ(limiter.InFlightForTenant("t1"), 0);
}

}  // namespace
}  // namespace bastion::edge
