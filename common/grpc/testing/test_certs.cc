#include "common/grpc/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"

namespace bastion::grpcutil::testing {
namespace {

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

absl::Status OpenSslError(absl::string_view what) {
  std::string detail = ERR_error_string(ERR_get_error(), nullptr);
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", detail));
}

absl::StatusOr<std::string> ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Makes and signs a certificate for `key`. Without an issuer it signs itself.
absl::StatusOr<X509Ptr> MakeCertificate(const std::string& common_name, EVP_PKEY* key, X509* issuer,
                                        EVP_PKEY* issuer_key,
                                        const std::vector<std::pair<int, std::string>>& extensions) {
  static std::atomic<long> serial{static_cast<long>(std::time(nullptr))};
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", value));
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) {
    return OpenSslError("X509_sign");
  }
  return cert;
}

absl::StatusOr<CertFiles> Write(const std::string& dir, const std::string& stem, X509* cert, EVP_PKEY* key) {
  CertFiles files{absl::StrCat(dir, "/", stem, ".crt"), absl::StrCat(dir, "/", stem, ".key")};
  ASSIGN_OR_RETURN(std::string cert_pem, ToPem(cert));
  ASSIGN_OR_RETURN(std::string key_pem, ToPem(key));
  RETURN_IF_ERROR(WriteFile(files.cert_file, cert_pem));
  RETURN_IF_ERROR(WriteFile(files.key_file, key_pem));
  return files;
}

}  // namespace

absl::StatusOr<TestCa> TestCa::Create(const std::string& dir, const std::string& name) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("EVP_EC_gen");
  ASSIGN_OR_RETURN(X509Ptr cert, MakeCertificate(absl::StrCat(name, " test CA"), key.get(), nullptr, nullptr,
                                                 {{NID_basic_constraints, "critical,CA:TRUE"},
                                                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                                  {NID_subject_key_identifier, "hash"}}));
  TestCa ca;
  ca.dir_ = dir;
  ASSIGN_OR_RETURN(ca.files_, Write(dir, absl::StrCat(name, "-ca"), cert.get(), key.get()));
  ASSIGN_OR_RETURN(ca.cert_pem_, ToPem(cert.get()));
  ASSIGN_OR_RETURN(ca.key_pem_, ToPem(key.get()));
  return ca;
}

absl::StatusOr<CertFiles> TestCa::Issue(const std::string& stem, const LeafSpec& spec) const {
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem_.data(), static_cast<int>(cert_pem_.size())));
  BioPtr key_bio(BIO_new_mem_buf(key_pem_.data(), static_cast<int>(key_pem_.size())));
  X509Ptr ca_cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) return OpenSslError("reading the test CA back");
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("EVP_EC_gen");
  std::vector<std::string> alt_names;
  for (const std::string& dns : spec.dns_names) alt_names.push_back(absl::StrCat("DNS:", dns));
  for (const std::string& ip : spec.ip_addresses) alt_names.push_back(absl::StrCat("IP:", ip));
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth,clientAuth"},
  };
  if (!alt_names.empty()) extensions.push_back({NID_subject_alt_name, absl::StrJoin(alt_names, ",")});
  ASSIGN_OR_RETURN(X509Ptr cert,
                   MakeCertificate(spec.common_name, key.get(), ca_cert.get(), ca_key.get(), extensions));
  return Write(dir_, stem, cert.get(), key.get());
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

}  // namespace bastion::grpcutil::testing
