#include "common/grpc/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace bastion::grpcutil {
namespace {

// Far above any certificate chain or key; only stops a wrong path from being read whole.
constexpr size_t kMaxPemBytes = 1 << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// Never prompt for a passphrase: gRPC cannot use an encrypted key anyway.
int NoPassphrase(char*, int, int, void*) { return 0; }

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the ", what, " ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " ", path, " is larger than ",
                                                   kMaxPemBytes, " bytes; is it the right file?"));
  }
  return text.str();
}

// The first certificate of a PEM file, which must hold at least one.
absl::StatusOr<X509Ptr> FirstCertificate(const std::string& pem, const std::string& path,
                                         absl::string_view what) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " ", path, " holds no PEM certificate"));
  }
  return cert;
}

absl::StatusOr<std::string> ReadCertificates(const std::string& path, absl::string_view what) {
  ASSIGN_OR_RETURN(std::string pem, ReadPemFile(path, what));
  RETURN_IF_ERROR(FirstCertificate(pem, path, what).status());
  return pem;
}

struct KeyPair {
  std::string cert_chain;
  std::string private_key;
};

absl::StatusOr<KeyPair> ReadKeyPair(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS needs both a certificate file and its private key file; only the ",
        cert_file.empty() ? "key" : "certificate", " was given"));
  }
  KeyPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPemFile(cert_file, "TLS certificate file"));
  ASSIGN_OR_RETURN(X509Ptr leaf, FirstCertificate(pair.cert_chain, cert_file, "TLS certificate file"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPemFile(key_file, "TLS key file"));
  BioPtr bio = MemoryBio(pair.private_key);
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the TLS key file ", key_file, " holds no unencrypted PEM private key"));
  }
  const bool matches = X509_check_private_key(leaf.get(), key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat("the TLS key file ", key_file,
                                                   " does not belong to the first certificate of ",
                                                   cert_file));
  }
  return pair;
}

std::string ToString(const grpc::string_ref& s) { return std::string(s.data(), s.size()); }

}  // namespace

const char* ServerTlsFiles::mode() const {
  if (!enabled()) return "plaintext";
  return mutual() ? "mutual_tls" : "tls";
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const ServerTlsFiles& files) {
  if (!files.enabled()) {
    if (files.mutual()) {
      return absl::InvalidArgumentError(
          "a client CA file turns on mutual TLS, which also needs the server's own TLS certificate "
          "and key files");
    }
    return grpc::InsecureServerCredentials();
  }
  ASSIGN_OR_RETURN(KeyPair pair, ReadKeyPair(files.cert_file, files.key_file));
  grpc::SslServerCredentialsOptions options(
      files.mutual() ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                     : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({pair.private_key, pair.cert_chain});
  if (files.mutual()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadCertificates(files.client_ca_file, "TLS client CA file"));
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const ClientTlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  ASSIGN_OR_RETURN(options.pem_root_certs, ReadCertificates(files.ca_file, "TLS CA file"));
  if (!files.cert_file.empty() || !files.key_file.empty()) {
    ASSIGN_OR_RETURN(KeyPair pair, ReadKeyPair(files.cert_file, files.key_file));
    options.pem_cert_chain = std::move(pair.cert_chain);
    options.pem_private_key = std::move(pair.private_key);
  }
  return grpc::SslCredentials(options);
}

std::vector<std::string> VerifiedPeerNames(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr) return {};
  return VerifiedPeerNames(*auth);
}

std::vector<std::string> VerifiedPeerNames(const grpc::AuthContext& auth) {
  // A peer identity exists only once the handshake has verified a certificate; the servers here
  // either require and verify client certificates or do not ask for them at all.
  if (!auth.IsPeerAuthenticated()) return {};
  std::vector<grpc::string_ref> type = auth.FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  if (type.empty() || ToString(type.front()) != GRPC_SSL_TRANSPORT_SECURITY_TYPE) return {};
  std::vector<std::string> names;
  for (const grpc::string_ref& dns : auth.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    names.push_back(ToString(dns));
  }
  if (names.empty()) {
    for (const grpc::string_ref& cn : auth.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
      names.push_back(ToString(cn));
    }
  }
  return names;
}

std::string ServiceNameOf(absl::string_view certificate_name) {
  return absl::AsciiStrToLower(certificate_name.substr(0, certificate_name.find('.')));
}

}  // namespace bastion::grpcutil
