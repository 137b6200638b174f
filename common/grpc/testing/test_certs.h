// Certificates for TLS tests, made with OpenSSL while the test runs: a throwaway CA and the leaf
// certificates it signs, written as PEM files into the test's temporary directory.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace bastion::grpcutil::testing {

struct CertFiles {
  std::string cert_file;
  std::string key_file;
};

struct LeafSpec {
  std::string common_name;
  std::vector<std::string> dns_names;     // subject alternative names
  std::vector<std::string> ip_addresses;  // subject alternative names, e.g. "127.0.0.1"
};

class TestCa {
 public:
  // A self-signed CA whose files are <dir>/<name>-ca.crt and .key.
  static absl::StatusOr<TestCa> Create(const std::string& dir, const std::string& name);

  const std::string& cert_file() const { return files_.cert_file; }
  // A P-256 leaf certificate good for both server and client authentication, signed by this CA,
  // and its key: <dir>/<stem>.crt and .key.
  absl::StatusOr<CertFiles> Issue(const std::string& stem, const LeafSpec& spec) const;

 private:
  std::string dir_;
  CertFiles files_;
  std::string cert_pem_;
  std::string key_pem_;
};

// TEST_TMPDIR under Bazel, else /tmp.
std::string TempDir();

}  // namespace bastion::grpcutil::testing
