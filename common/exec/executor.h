// A bounded thread pool for blocking work (libpq, libcurl waits) so gRPC and HTTP I/O threads
// never block. A full queue refuses work instead of growing without limit.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace bastion {

class Executor {
 public:
  Executor(int threads, int max_queue);
  ~Executor();  // Runs what is queued, then joins.
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // False when the queue is full or the executor is shutting down: the caller answers
  // RESOURCE_EXHAUSTED / 503 rather than wait.
  bool TrySubmit(std::function<void()> work);
  void Shutdown();
  int queued() const;

 private:
  void Loop();

  const int max_queue_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace bastion
