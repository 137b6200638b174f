#include "common/log/log.h"

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include <boost/json/serialize.hpp>

namespace bastion::log {
namespace {

struct State {
  absl::Mutex mu;
  std::string service ABSL_GUARDED_BY(mu) = "bastion";
  std::function<void(absl::string_view)> sink ABSL_GUARDED_BY(mu);
};

State& GetState() {
  static State* state = new State();
  return *state;
}

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
thread_local std::string t_request_id;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void Init(std::string service, Level min_level) {
  State& s = GetState();
  absl::MutexLock lock(&s.mu);
  s.service = std::move(service);
  g_min_level = static_cast<int>(min_level);
}

void SetMinLevel(Level level) { g_min_level = static_cast<int>(level); }

bool ParseLevel(absl::string_view text, Level* level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void SetSinkForTesting(std::function<void(absl::string_view)> sink) {
  State& s = GetState();
  absl::MutexLock lock(&s.mu);
  s.sink = std::move(sink);
}

void Write(Level level, absl::string_view msg, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  boost::json::object line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["msg"] = boost::json::string_view(msg.data(), msg.size());
  if (!t_request_id.empty()) line["request_id"] = t_request_id;
  for (const Field& f : fields) line[boost::json::string_view(f.key.data(), f.key.size())] = f.value;
  State& s = GetState();
  absl::MutexLock lock(&s.mu);
  line["service"] = s.service;
  std::string text = boost::json::serialize(line);
  if (s.sink) {
    s.sink(text);
    return;
  }
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

ScopedRequestId::ScopedRequestId(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

ScopedRequestId::~ScopedRequestId() { t_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return t_request_id; }

void Fatal(absl::string_view msg, const char* file, int line) {
  Write(Level::kError, msg, {{"file", file}, {"line", line}});
  std::abort();
}

}  // namespace bastion::log
