// A background thread that runs a task every `period` until destroyed: database readiness
// pings, batched writes. Stopping wakes it at once instead of waiting out the period.
#pragma once

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace bastion {

class Periodic {
 public:
  Periodic(absl::Duration period, std::function<void()> task)
      : thread_([this, period, task = std::move(task)] {
          do {
            task();
          } while (!stop_.WaitForNotificationWithTimeout(period));
        }) {}
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Stop() {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    if (thread_.joinable()) thread_.join();
  }

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace bastion
