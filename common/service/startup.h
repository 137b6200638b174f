// What every Bastion service does at start-up, once: read its secrets and the list of services
// allowed to call it, open its database and apply its migrations, and keep a readiness probe of
// the database off the admin server's I/O thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/grpc/grpc_util.h"
#include "common/pg/migrate.h"
#include "common/pg/pool.h"
#include "common/service/periodic.h"

namespace bastion::startup {

// A secret given in a file (wins) or inline (a flag set from the environment); empty if neither.
absl::StatusOr<std::string> Secret(const std::string& inline_value, const std::string& file);

// The services allowed to call this one; none when `path` is empty. Under mutual TLS
// (`mutual_tls`: the gRPC server requires and verifies client certificates) a listed service may
// also be identified by its certificate; without it, a service listed with no token could never
// call, which is refused as a configuration error.
absl::StatusOr<grpcutil::ServiceIdentities> ServiceIdentitiesFrom(const std::string& path,
                                                                  bool mutual_tls = false);

// A bounded pool on `url` with the service's migrations applied to `schema`.
absl::StatusOr<std::unique_ptr<pg::Pool>> OpenDatabase(const std::string& url, int pool_size,
                                                       absl::string_view schema,
                                                       const std::vector<pg::Migration>& migrations);

// Pings the database every few seconds on its own thread; readiness checks read ok().
class DatabaseProbe {
 public:
  explicit DatabaseProbe(pg::Pool& pool);
  bool ok() const { return ok_.load(); }
  void Stop() { periodic_.Stop(); }

 private:
  std::atomic<bool> ok_{false};
  Periodic periodic_;
};

}  // namespace bastion::startup
