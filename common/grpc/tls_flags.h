// The --tls_* flags every Bastion service binary shares, for its gRPC server and for its calls to
// the other services. Only binaries link this; libraries and tests take grpcutil::*TlsFiles.
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/grpc/tls.h"

namespace bastion::grpcutil {

// --tls_cert_file, --tls_key_file, --tls_client_ca_file.
ServerTlsFiles ServerTlsFilesFromFlags();
// --tls_ca_file, with --tls_cert_file and --tls_key_file as the client certificate.
ClientTlsFiles ClientTlsFilesFromFlags();
// Credentials for every channel to another service: plaintext unless --tls_ca_file is set.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFlags();

}  // namespace bastion::grpcutil
