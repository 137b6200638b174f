// bastionctl against a tenant service that serves TLS, then mutual TLS (ServiceRunner, real
// Postgres, certificates made by the test): admin commands with a bearer token work once the CA
// (and, for mutual TLS, a client certificate) is given, and fail with a hint without them.
#include <sstream>

#include "absl/strings/match.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/testing/test_certs.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "common/service/service_runner.h"
#include "gtest/gtest.h"
#include "services/ctl/cli.h"
#include "services/tenant/pg_tenant_store.h"
#include "services/tenant/tenant_grpc.h"
#include "services/tenant/tenant_migrations.h"

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

    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "tenant", migrations::tenant_migrations()).ok());
    store_ = std::make_unique<tenant::PgTenantStore>(*pool_);
    logic_ = std::make_unique<tenant::TenantService>(*store_, RealClock::Get());
    executor_ = std::make_unique<Executor>(4, 100);
    runner_ = std::make_unique<grpcutil::CallRunner>("tenant", *executor_, registry_);
    grpcutil::ServiceIdentities ids;
    ids.Add("edge", "edge-token");
    service_ = std::make_unique<tenant::TenantGrpc>(*logic_, *runner_, kOperatorToken, ids);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (executor_) executor_->Shutdown();
  }

  void Serve(bool mutual) {
    ServiceRunnerOptions options{"tenant", "127.0.0.1:0", "127.0.0.1:0"};
    options.drain = absl::Milliseconds(100);
    options.tls = {server_files_.cert_file, server_files_.key_file, mutual ? ca_file_ : ""};
    server_ = std::make_unique<ServiceRunner>(options, registry_);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->grpc_port());
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
  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<tenant::PgTenantStore> store_;
  std::unique_ptr<tenant::TenantService> logic_;
  metrics::Registry registry_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<grpcutil::CallRunner> runner_;
  std::unique_ptr<tenant::TenantGrpc> service_;
  std::unique_ptr<ServiceRunner> server_;
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
