// The standard process_* metrics every Prometheus client exports (start time, resident memory,
// CPU time, open file descriptors), read from /proc at scrape time.
#pragma once

#include "common/metrics/registry.h"

namespace bastion::metrics {

// A metric whose /proc source cannot be read (not Linux, /proc not mounted) is left out of the
// scrape rather than reported as a made-up value.
void RegisterProcessMetrics(Registry& registry);

}  // namespace bastion::metrics
