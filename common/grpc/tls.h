// TLS and mutual TLS on the gRPC links between Bastion's services: server and channel credentials
// from PEM files (plaintext when none are given), and the names in a verified client certificate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bastion::grpcutil {

// A gRPC server's TLS files. No certificate and key: plaintext. Both: TLS. A client CA as well:
// mutual TLS, where every caller must present a certificate that CA signed.
struct ServerTlsFiles {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key of the leaf
  std::string client_ca_file;  // PEM CA certificate(s) that sign the callers' certificates

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
  bool mutual() const { return !client_ca_file.empty(); }
  // "plaintext", "tls" or "mutual_tls", for start-up logs.
  const char* mode() const;
};

// Checks the files (readable, PEM, the key belongs to the certificate) so that a mistake stops
// start-up with a message naming the file, instead of failing every handshake later.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const ServerTlsFiles& files);

// A gRPC client's TLS files. No CA: plaintext. A CA: TLS, trusting only servers whose certificate
// that CA signed and which names the host dialled (DNS or IP subject alternative name). A
// certificate and key as well: the client presents them, as a mutual-TLS server requires; without
// a CA they are not used (a service's own --tls_cert_file may serve only its server side).
struct ClientTlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !ca_file.empty(); }
  bool presents_certificate() const { return enabled() && !cert_file.empty(); }
};

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const ClientTlsFiles& files);

// The names of the client certificate the TLS handshake of this call verified: its DNS subject
// alternative names, or its common name when it has none. Empty for a call without a verified
// client certificate (plaintext, or a TLS server that does not ask for one).
std::vector<std::string> VerifiedPeerNames(const grpc::ServerContextBase& ctx);
std::vector<std::string> VerifiedPeerNames(const grpc::AuthContext& auth);

// The Bastion service a certificate name stands for: its first DNS label, lower-cased
// ("edge.bastion.internal" -> "edge", "Vault" -> "vault").
std::string ServiceNameOf(absl::string_view certificate_name);

}  // namespace bastion::grpcutil
