// The tenant service behind mutual TLS, wired as its main() wires it (ServiceRunner, the
// identities file): the edge is known by its client certificate alone, a certificate naming a
// service the file does not list is refused, and admins still act through their bearer tokens.
#include <fstream>

#include <grpcpp/grpcpp.h>

#include "common/grpc/testing/test_certs.h"
#include "common/grpc/tls.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "common/service/service_runner.h"
#include "common/service/startup.h"
#include "gtest/gtest.h"
#include "services/tenant/pg_tenant_store.h"
#include "services/tenant/tenant_grpc.h"
#include "services/tenant/tenant_migrations.h"

namespace bastion::tenant {
namespace {

using grpcutil::testing::CertFiles;
using grpcutil::testing::TestCa;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kVaultToken[] = "vault-service-token";

class TenantGrpcTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = grpcutil::testing::TempDir();
    auto ca = TestCa::Create(dir, "tenant-tls");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_file_ = ca->cert_file();
    auto server = ca->Issue("tenant-tls-server", {"tenant", {"tenant.bastion.internal"}, {"127.0.0.1"}});
    auto edge = ca->Issue("tenant-tls-edge", {"edge", {"edge.bastion.internal"}, {}});
    auto vault = ca->Issue("tenant-tls-vault", {"vault", {"vault.bastion.internal"}, {}});
    auto governance = ca->Issue("tenant-tls-governance", {"governance", {"governance.bastion.internal"}, {}});
    auto ops = ca->Issue("tenant-tls-ops", {"bastionctl", {"bastionctl.ops.example"}, {}});
    ASSERT_TRUE(server.ok() && edge.ok() && vault.ok() && governance.ok() && ops.ok());
    edge_ = *edge;
    vault_ = *vault;
    governance_ = *governance;
    ops_ = *ops;

    // The edge by certificate only; the vault keeps its token line. Governance is not listed.
    const std::string identities = dir + "/tenant-tls.identities";
    std::ofstream(identities) << "edge\nvault " << kVaultToken << "\n";
    auto ids = startup::ServiceIdentitiesFrom(identities, /*mutual_tls=*/true);
    ASSERT_TRUE(ids.ok()) << ids.status();

    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "tenant", migrations::tenant_migrations()).ok());
    store_ = std::make_unique<PgTenantStore>(*pool_);
    logic_ = std::make_unique<TenantService>(*store_, RealClock::Get());
    executor_ = std::make_unique<Executor>(4, 100);
    runner_ = std::make_unique<grpcutil::CallRunner>("tenant", *executor_, registry_);
    service_ = std::make_unique<TenantGrpc>(*logic_, *runner_, kOperatorToken, *std::move(ids));

    ServiceRunnerOptions options{"tenant", "127.0.0.1:0", "127.0.0.1:0"};
    options.drain = absl::Milliseconds(100);
    options.tls = {server->cert_file, server->key_file, ca_file_};
    server_ = std::make_unique<ServiceRunner>(options, registry_);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->grpc_port());
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (executor_) executor_->Shutdown();
  }

  std::unique_ptr<pb::TenantService::Stub> StubAs(const CertFiles& client) {
    auto credentials = grpcutil::MakeChannelCredentials({ca_file_, client.cert_file, client.key_file});
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return pb::TenantService::NewStub(grpc::CreateChannel(address_, *credentials));
  }

  static std::unique_ptr<grpc::ClientContext> Call(const std::string& bearer = "",
                                                   const std::string& service_token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
    grpcutil::PrepareClientContext(*ctx, service_token, absl::Seconds(10));
    return ctx;
  }

  // The operator, through bastionctl's certificate, makes a tenant and an admin; returns the
  // admin's client token.
  std::string TenantWithAdmin(const std::string& slug) {
    auto ops = StubAs(ops_);
    pb::CreateTenantRequest ct;
    ct.set_slug(slug);
    pb::Tenant t;
    grpc::Status created = ops->CreateTenant(Call(kOperatorToken).get(), ct, &t);
    EXPECT_TRUE(created.ok()) << created.error_message();
    pb::CreateUserRequest cu;
    cu.set_tenant(slug);
    cu.set_email("admin@" + slug + ".com");
    cu.set_role(pb::ROLE_ADMIN);
    pb::User u;
    EXPECT_TRUE(ops->CreateUser(Call(kOperatorToken).get(), cu, &u).ok());
    pb::IssueClientTokenRequest it;
    it.set_tenant(slug);
    it.set_user(u.email());
    pb::IssueClientTokenResponse tok;
    EXPECT_TRUE(ops->IssueClientToken(Call(kOperatorToken).get(), it, &tok).ok());
    return tok.secret();
  }

  std::string ca_file_;
  CertFiles edge_, vault_, governance_, ops_;
  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgTenantStore> store_;
  std::unique_ptr<TenantService> logic_;
  metrics::Registry registry_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<grpcutil::CallRunner> runner_;
  std::unique_ptr<TenantGrpc> service_;
  std::unique_ptr<ServiceRunner> server_;
  std::string address_;
};

TEST_F(TenantGrpcTlsTest, TheEdgeAuthenticatesUsersWithItsCertificateAndNoServiceToken) {
  const std::string admin = TenantWithAdmin("acme");
  pb::AuthenticateRequest req;
  req.set_token(admin);
  pb::Identity id;
  grpc::Status s = StubAs(edge_)->Authenticate(Call().get(), req, &id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(id.email(), "admin@acme.com");
  EXPECT_EQ(id.tenant_slug(), "acme");
}

TEST_F(TenantGrpcTlsTest, ACertificateNamingAServiceNotListedIsRefused) {
  const std::string admin = TenantWithAdmin("acme");
  pb::AuthenticateRequest req;
  req.set_token(admin);
  pb::Identity id;
  grpc::Status governance = StubAs(governance_)->Authenticate(Call().get(), req, &id);
  EXPECT_EQ(governance.error_code(), grpc::StatusCode::UNAUTHENTICATED) << governance.error_message();
  EXPECT_EQ(id.email(), "");
  grpc::Status ops = StubAs(ops_)->Authenticate(Call().get(), req, &id);
  EXPECT_EQ(ops.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ops.error_message();
  pb::TenantRef ref;
  ref.set_tenant("acme");
  pb::CheckAccessResponse check;
  EXPECT_EQ(StubAs(governance_)->CheckAccess(Call().get(), ref, &check).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TenantGrpcTlsTest, ServiceTokensStillWorkAndAWrongOneIsRefusedDespiteAGoodCertificate) {
  const std::string admin = TenantWithAdmin("acme");
  pb::AuthenticateRequest req;
  req.set_token(admin);
  pb::Identity id;
  EXPECT_TRUE(StubAs(vault_)->Authenticate(Call("", kVaultToken).get(), req, &id).ok());
  EXPECT_EQ(StubAs(edge_)->Authenticate(Call("", "not-a-token").get(), req, &id).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TenantGrpcTlsTest, AdminsActThroughTheirBearerTokensWhateverCertificateTheirClientShows) {
  const std::string admin = TenantWithAdmin("acme");
  pb::GetTenantRequest get;
  get.set_tenant("acme");
  pb::Tenant t;
  // Even from the edge's certificate, a bearer token makes the call the admin's, not the edge's.
  grpc::Status s = StubAs(edge_)->GetTenant(Call(admin).get(), get, &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(t.slug(), "acme");
  EXPECT_EQ(StubAs(ops_)->GetTenant(Call().get(), get, &t).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace bastion::tenant
