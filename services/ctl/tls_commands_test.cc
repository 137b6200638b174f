// bastionctl against a tenant service that serves TLS, then mutual TLS (the server credentials
// every service uses, real Postgres, certificates made by the test): admin commands with a bearer
// token work once the CA (and, for mutual TLS, a client certificate) is given, and fail with a hint
// without them.
#include <sstream>

#include "absl/strings/match.h"
#include "common/grpc/testing/test_certs.h"
#include "common/grpc/tls.h"
#include "gtest/gtest.h"
#include "services/ctl/cli.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::ctl {
namespace {

using grpcutil::testing::CertFiles;
using grpcutil::testing::TestCa;

constexpr char kOperatorToken[] = "op-secret-token";

struct Result {
  int code;
  std::string out;
  std::string err;
};

class TlsCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = grpcutil::testing::TempDir();
    auto ca = TestCa::Create(dir, "ctl");
    auto rogue = TestCa::Create(dir, "ctl-rogue");
    ASSERT_TRUE(ca.ok() && rogue.ok());
    ca_file_ = ca->cert_file();
    rogue_ca_file_ = rogue->cert_file();
    auto server = ca->Issue("ctl-tenant", {"tenant", {"tenant.bastion.internal"}, {"127.0.0.1"}});
    auto ops = ca->Issue("ctl-ops", {"bastionctl", {"bastionctl.ops.example"}, {}});
    ASSERT_TRUE(server.ok() && ops.ok());
    server_files_ = *server;
    ops_ = *ops;
  }

  void Serve(bool mutual) {
    auto credentials = grpcutil::MakeServerCredentials(
        {server_files_.cert_file, server_files_.key_file, mutual ? ca_file_ : ""});
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    auto server = tenant::TestTenantServer::Start({kOperatorToken, {{"edge", "edge-token"}}, *credentials});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = server_->address();
  }

  // bastionctl as the operator, with `vars` added to its environment.
  Result Ctl(const std::vector<std::string>& args, std::map<std::string, std::string> vars = {}) {
    Env env{{{"BASTION_TENANT_ADDR", address_}, {"BASTION_ADMIN_TOKEN", kOperatorToken}}};
    for (auto& [k, v] : vars) env.vars[k] = v;
    std::ostringstream out, err;
    int code = RunCli(args, out, err, env);
    return {code, out.str(), err.str()};
  }

  std::string ca_file_, rogue_ca_file_;
  CertFiles server_files_, ops_;
  std::unique_ptr<tenant::TestTenantServer> server_;
  std::string address_;
};

TEST_F(TlsCommandsTest, OverTlsTheOperatorsCommandsWorkOnceTheCaIsGiven) {
  Serve(/*mutual=*/false);
  Result plaintext = Ctl({"tenant", "create", "acme"});
  EXPECT_EQ(plaintext.code, 1);
  EXPECT_TRUE(absl::StrContains(plaintext.err, "--tls-ca-file")) << plaintext.err;

  Result untrusted = Ctl({"tenant", "create", "acme"}, {{"BASTION_TLS_CA_FILE", rogue_ca_file_}});
  EXPECT_EQ(untrusted.code, 1) << untrusted.out;

  Result created = Ctl({"tenant", "create", "acme"}, {{"BASTION_TLS_CA_FILE", ca_file_}});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_TRUE(absl::StartsWith(created.out, "Created tenant acme")) << created.out;
  Result listed = Ctl({"tenant", "list", "--tls-ca-file", ca_file_});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.out, "acme")) << listed.out;
}

TEST_F(TlsCommandsTest, UnderMutualTlsBastionctlShowsItsCertificateAndActsByItsToken) {
  Serve(/*mutual=*/true);
  Result no_certificate = Ctl({"tenant", "create", "acme", "--tls-ca-file", ca_file_});
  EXPECT_EQ(no_certificate.code, 1) << no_certificate.out;

  const std::map<std::string, std::string> tls = {{"BASTION_TLS_CA_FILE", ca_file_},
                                                  {"BASTION_TLS_CERT_FILE", ops_.cert_file},
                                                  {"BASTION_TLS_KEY_FILE", ops_.key_file}};
  Result created = Ctl({"tenant", "create", "acme"}, tls);
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_TRUE(absl::StartsWith(created.out, "Created tenant acme")) << created.out;

  // The certificate only opens the connection: without a token the call is anonymous.
  std::map<std::string, std::string> without_token = tls;
  without_token["BASTION_ADMIN_TOKEN"] = "";
  Result anonymous = Ctl({"tenant", "list"}, without_token);
  EXPECT_EQ(anonymous.code, 1);
  EXPECT_TRUE(absl::StrContains(anonymous.err, "UNAUTHENTICATED")) << anonymous.err;
}

TEST_F(TlsCommandsTest, TlsFlagMistakesAreUsageErrors) {
  Serve(/*mutual=*/false);
  Result no_ca = Ctl({"tenant", "list", "--tls-cert-file", ops_.cert_file, "--tls-key-file", ops_.key_file});
  EXPECT_EQ(no_ca.code, 2);
  EXPECT_TRUE(absl::StrContains(no_ca.err, "--tls-ca-file")) << no_ca.err;
  Result missing = Ctl({"tenant", "list", "--tls-ca-file", "/nonexistent/ca.pem"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(absl::StrContains(missing.err, "/nonexistent/ca.pem")) << missing.err;
}

}  // namespace
}  // namespace bastion::ctl
