#include "common/grpc/tls_flags.h"

#include <string>

#include "absl/flags/flag.h"

// One certificate serves both sides of a service: it is the server certificate on its own port
// and the client certificate it presents to the services it calls, so its names must cover the
// address callers dial and the service's identity (docs/security.md).
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of this service. With --tls_key_file it turns TLS on for the gRPC "
          "server; with --tls_ca_file it is also the client certificate shown to other services");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file (unencrypted)");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA that signs callers' client certificates. Turns on mutual TLS: every caller must "
          "present one, and a service listed in --service_identities_file is identified by it");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA that signs the other services' certificates. Turns on TLS for calls to them");

namespace bastion::grpcutil {

ServerTlsFiles ServerTlsFilesFromFlags() {
  return {absl::GetFlag(FLAGS_tls_cert_file), absl::GetFlag(FLAGS_tls_key_file),
          absl::GetFlag(FLAGS_tls_client_ca_file)};
}

ClientTlsFiles ClientTlsFilesFromFlags() {
  return {absl::GetFlag(FLAGS_tls_ca_file), absl::GetFlag(FLAGS_tls_cert_file),
          absl::GetFlag(FLAGS_tls_key_file)};
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFlags() {
  return MakeChannelCredentials(ClientTlsFilesFromFlags());
}

}  // namespace bastion::grpcutil
