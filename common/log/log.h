// Structured JSON log lines on stderr, one object per line, with the service name and the
// current request id. Never pass a secret as a field: log lines are read by many people.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include <boost/json/value.hpp>

namespace bastion::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// One key/value of a log line: strings, numbers and booleans.
struct Field {
  Field(absl::string_view k, const char* v) : key(k), value(v) {}
  Field(absl::string_view k, absl::string_view v) : key(k), value(boost::json::string_view(v.data(), v.size())) {}
  Field(absl::string_view k, const std::string& v) : key(k), value(boost::json::string_view(v.data(), v.size())) {}
  Field(absl::string_view k, bool v) : key(k), value(v) {}
  Field(absl::string_view k, int v) : key(k), value(v) {}
  Field(absl::string_view k, long v) : key(k), value(v) {}
  Field(absl::string_view k, long long v) : key(k), value(v) {}
  Field(absl::string_view k, unsigned long v) : key(k), value(v) {}
  Field(absl::string_view k, double v) : key(k), value(v) {}

  absl::string_view key;
  boost::json::value value;
};

// Names the process in every line; call once from main().
void Init(std::string service, Level min_level = Level::kInfo);
void SetMinLevel(Level level);
bool ParseLevel(absl::string_view text, Level* level);

// Replaces the stderr sink (tests capture lines with it). Pass nullptr to restore stderr.
void SetSinkForTesting(std::function<void(absl::string_view line)> sink);

void Write(Level level, absl::string_view msg, std::initializer_list<Field> fields = {});
inline void Debug(absl::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kDebug, msg, f); }
inline void Info(absl::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kInfo, msg, f); }
inline void Warn(absl::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kWarn, msg, f); }
inline void Error(absl::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kError, msg, f); }

// Sets the request id reported by log lines on this thread until the scope ends.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};
const std::string& CurrentRequestId();

// Logs and aborts: for broken invariants only, never for bad input from outside.
[[noreturn]] void Fatal(absl::string_view msg, const char* file, int line);

}  // namespace bastion::log

#define BASTION_CHECK(cond)                                                  \
  do {                                                                       \
    if (!(cond)) ::bastion::log::Fatal("check failed: " #cond, __FILE__, __LINE__); \
  } while (0)
