#include "common/service/startup.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/config.h"
#include "common/status/status_macros.h"

namespace bastion::startup {

absl::StatusOr<std::string> Secret(const std::string& inline_value, const std::string& file) {
  if (file.empty()) return inline_value;
  return config::ReadSecretFile(file);
}

absl::StatusOr<grpcutil::ServiceIdentities> ServiceIdentitiesFrom(const std::string& path, bool mutual_tls) {
  grpcutil::ServiceIdentities ids;
  if (!path.empty()) {
    ASSIGN_OR_RETURN(ids, grpcutil::ServiceIdentities::FromFile(path));
  }
  if (mutual_tls) {
    ids.TrustClientCertificates();
  } else if (std::vector<std::string> names = ids.CertificateOnlyNames(); !names.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " lists ", absl::StrJoin(names, ", "),
        " without a token, so only a client certificate could identify it, but mutual TLS is off: "
        "set --tls_client_ca_file (with --tls_cert_file and --tls_key_file) or give it a token"));
  }
  return ids;
}

absl::StatusOr<std::unique_ptr<pg::Pool>> OpenDatabase(const std::string& url, int pool_size,
                                                       absl::string_view schema,
                                                       const std::vector<pg::Migration>& migrations) {
  if (url.empty()) return absl::InvalidArgumentError("--database_url (or BASTION_DATABASE_URL) is required");
  pg::PoolOptions options;
  options.url = url;
  options.max_connections = pool_size;
  auto pool = std::make_unique<pg::Pool>(options);
  if (absl::Status s = pg::Migrate(*pool, schema, migrations); !s.ok()) return s;
  return pool;
}

DatabaseProbe::DatabaseProbe(pg::Pool& pool)
    : periodic_(absl::Seconds(5), [this, &pool] {
        ok_ = pool.Execute({"ready_ping", "SELECT 1"}, {}, absl::Seconds(1)).ok();
      }) {}

}  // namespace bastion::startup
