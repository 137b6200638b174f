// Captures every log line written while it lives (all levels), so tests can prove that no
// secret ever reaches the logs.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "gtest/gtest.h"

namespace bastion::vault {

class LogCapture {
 public:
  LogCapture() {
    log::SetMinLevel(log::Level::kDebug);
    log::SetSinkForTesting([this](absl::string_view line) {
      absl::MutexLock l(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() {
    log::SetSinkForTesting(nullptr);
    log::SetMinLevel(log::Level::kInfo);
  }

  std::vector<std::string> lines() {
    absl::MutexLock l(&mu_);
    return lines_;
  }

  // Fails the test for each secret found in a captured line (naming the line, which is then
  // already compromised anyway).
  void ExpectNoneOf(const std::vector<std::string>& secrets) {
    absl::MutexLock l(&mu_);
    for (const std::string& secret : secrets) {
      if (secret.empty()) continue;
      for (const std::string& line : lines_) {
        EXPECT_FALSE(absl::StrContains(line, secret)) << "a secret reached the log: " << line;
      }
    }
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
