#include "common/metrics/process_metrics.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace bastion::metrics {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The fields of /proc/self/stat we use, converted to seconds and bytes (see proc(5)).
struct ProcStat {
  double cpu_seconds = 0;
  double start_seconds_since_boot = 0;
  double resident_bytes = 0;
};

std::optional<ProcStat> ReadProcStat() {
  std::optional<std::string> stat = ReadFile("/proc/self/stat");
  if (!stat) return std::nullopt;
  // Field 2 is the command name in parentheses and may itself hold spaces or ')'; fields after
  // the last ')' are plain numbers, starting with field 3.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close + 1), ' ', absl::SkipWhitespace());
  if (fields.size() < 22) return std::nullopt;
  auto field = [&fields](int number) { return fields[number - 3]; };
  std::uint64_t utime, stime, starttime;
  std::int64_t rss;
  if (!absl::SimpleAtoi(field(14), &utime) || !absl::SimpleAtoi(field(15), &stime) ||
      !absl::SimpleAtoi(field(22), &starttime) || !absl::SimpleAtoi(field(24), &rss)) {
    return std::nullopt;
  }
  const double ticks_per_second = sysconf(_SC_CLK_TCK);
  return ProcStat{(utime + stime) / ticks_per_second, starttime / ticks_per_second,
                  static_cast<double>(rss) * sysconf(_SC_PAGESIZE)};
}

// Seconds since the epoch at which the machine booted: the "btime" line of /proc/stat.
std::optional<double> ReadBootTime() {
  std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    std::int64_t boot_time;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtoi(line, &boot_time)) {
      return boot_time;
    }
  }
  return std::nullopt;
}

std::optional<double> CountOpenFds() {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/self/fd", error);
  double count = 0;
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) ++count;
  if (error) return std::nullopt;
  return count;
}

MetricFamily OneValue(std::string name, std::string help, MetricType type, double value) {
  ClientMetric metric;
  metric.value = value;
  return MetricFamily{std::move(name), std::move(help), type, {metric}};
}

std::vector<MetricFamily> CollectProcessMetrics() {
  std::vector<MetricFamily> families;
  if (std::optional<ProcStat> stat = ReadProcStat()) {
    families.push_back(OneValue("process_cpu_seconds_total",
                                "Total user and system CPU time spent in seconds.",
                                MetricType::kCounter, stat->cpu_seconds));
    families.push_back(OneValue("process_resident_memory_bytes", "Resident memory size in bytes.",
                                MetricType::kGauge, stat->resident_bytes));
    if (std::optional<double> boot_time = ReadBootTime()) {
      families.push_back(OneValue("process_start_time_seconds",
                                  "Start time of the process since unix epoch in seconds.",
                                  MetricType::kGauge,
                                  *boot_time + stat->start_seconds_since_boot));
    }
  }
  if (std::optional<double> fds = CountOpenFds()) {
    families.push_back(OneValue("process_open_fds", "Number of open file descriptors.",
                                MetricType::kGauge, *fds));
  }
  return families;
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) {
  registry.RegisterCollectable(CollectProcessMetrics);
}

}  // namespace bastion::metrics
