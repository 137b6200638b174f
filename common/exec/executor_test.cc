#include "common/exec/executor.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace bastion {
namespace {

TEST(Executor, RunsEverySubmittedTaskBeforeShutdownReturns) {
  std::atomic<int> done{0};
  {
    Executor ex(2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(ex.TrySubmit([&] { done++; }));
  }
  EXPECT_EQ(done.load(), 500);
}

TEST(Executor, AFullQueueRefusesWorkInsteadOfGrowing) {
  Executor ex(1, 2);
  absl::Notification release;
  absl::Notification started;
  ASSERT_TRUE(ex.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  EXPECT_TRUE(ex.TrySubmit([] {}));
  EXPECT_TRUE(ex.TrySubmit([] {}));
  EXPECT_FALSE(ex.TrySubmit([] {}));
  release.Notify();
}

TEST(Executor, RefusesWorkAfterShutdown) {
  Executor ex(1, 10);
  ex.Shutdown();
  EXPECT_FALSE(ex.TrySubmit([] {}));
}

}  // namespace
}  // namespace bastion
