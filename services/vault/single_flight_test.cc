#include "services/vault/single_flight.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace bastion::vault {
namespace {

TEST(SingleFlightTest, CallersArrivingWhileTheWorkRunsShareItsResult) {
  SingleFlight<int> flight;
  std::atomic<int> runs{0};
  std::vector<int> results(20, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      results[i] = flight.Do("grant-1", [&] {
        // The work lasts until the 19 other callers wait for it (however slowly threads start,
        // e.g. under ThreadSanitizer), with a deadline so a defect fails rather than hangs.
        const absl::Time deadline = absl::Now() + absl::Seconds(30);
        while (flight.waiting("grant-1") < 19 && absl::Now() < deadline) {
          absl::SleepFor(absl::Milliseconds(1));
        }
        return ++runs;
      });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(runs.load(), 1);
  for (int r : results) EXPECT_EQ(r, 1);
  EXPECT_EQ(flight.in_flight(), 0);
}

TEST(SingleFlightTest, DifferentKeysAndLaterCallsRunTheirOwnWork) {
  SingleFlight<std::string> flight;
  EXPECT_EQ(flight.Do("a", [] { return std::string("first"); }), "first");
  EXPECT_EQ(flight.Do("a", [] { return std::string("second"); }), "second");
  EXPECT_EQ(flight.Do("b", [] { return std::string("other"); }), "other");
}

}  // namespace
}  // namespace bastion::vault
