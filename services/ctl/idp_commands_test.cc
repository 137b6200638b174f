// bastionctl's idp commands against the real tenant service and the vault's
// IdentityProviderService on a real Postgres, each on its own real port, with the identity
// provider played by the fake on loopback.
#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/caller.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/http/http_client.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"
#include "services/ctl/cli.h"
#include "services/tenant/client/tenant_client.h"
#include "services/tenant/testing/test_tenant_server.h"
#include "services/vault/envelope.h"
#include "services/vault/idp_grpc.h"
#include "services/vault/keyring.h"
#include "services/vault/pg_idp_store.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/testing/fake_idp.h"
#include "services/vault/vault_migrations.h"

namespace bastion::ctl {
namespace {

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kVaultToken[] = "vault-service-token";
constexpr char kClientSecret[] = "the-acme-idp-client-secret-9";

struct Result {
  int code;
  std::string out;
  std::string err;
};

class IdpCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = tenant::TestTenantServer::Start({kOperatorToken, {{"vault", kVaultToken}}});
    ASSERT_TRUE(server.ok()) << server.status();
    tenant_server_ = *std::move(server);

    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "vault", migrations::vault_migrations()).ok());
    vault_store_ = std::make_unique<vault::PgVaultStore>(*pool_);
    store_ = std::make_unique<vault::PgIdpStore>(*pool_);
    auto ring = vault::Keyring::Parse("1 " + crypto::Base64Encode(std::string(32, 'k')), "test");
    ASSERT_TRUE(ring.ok());
    keys_ = vault::KeyringSource::Fixed(*std::move(ring));
    envelope_ = std::make_unique<vault::Envelope>(*keys_, *vault_store_, RealClock::Get());
    ASSERT_TRUE(idp_.Start().ok());
    idp_.SetClient("bastion-acme", kClientSecret);

    tenant_client_ = std::make_unique<tenant::GrpcTenantClient>(
        grpc::CreateChannel(tenant_server_->address(), grpc::InsecureChannelCredentials()), kVaultToken);
    callers_ = std::make_unique<auth::CallerResolver>(
        kOperatorToken, grpcutil::ServiceIdentities(),
        [this](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
          auto id = tenant_client_->Authenticate(token);
          if (!id.ok()) return id.status();
          return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(), id->email(),
                                     id->role() == tenant::v1::ROLE_ADMIN};
        });
    vault::OidcOptions oo;
    oo.allow_http_loopback = true;
    oidc_ = std::make_unique<vault::OidcClient>(http_, RealClock::Get(), oo);
    directory_ = std::make_unique<vault::TenantDirectory>(*tenant_client_, RealClock::Get());
    logic_ = std::make_unique<vault::IdpService>(*store_, *envelope_, *directory_, *oidc_,
                                                 RealClock::Get(), registry_);
    executor_ = std::make_unique<Executor>(4, 100);
    runner_ = std::make_unique<grpcutil::CallRunner>("vault", *executor_, registry_);
    grpc_ = std::make_unique<vault::IdpGrpc>(*logic_, *runner_, *callers_);
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(grpc_.get());
    vault_server_ = b.BuildAndStart();
    ASSERT_NE(port, 0);
    vault_address_ = absl::StrCat("127.0.0.1:", port);

    Ok({"tenant", "create", "acme"});
    Ok({"tenant", "create", "globex"});
    Ok({"user", "create", "boss@acme.com", "--tenant", "acme", "--role", "admin"});
    Ok({"user", "create", "boss@globex.com", "--tenant", "globex", "--role", "admin"});
    acme_admin_ = IssueToken("boss@acme.com", "acme");
    globex_admin_ = IssueToken("boss@globex.com", "globex");
  }

  void TearDown() override {
    if (vault_server_ != nullptr) vault_server_->Shutdown();
    tenant_server_.reset();
    if (executor_ != nullptr) executor_->Shutdown();
    for (const char* secret : {kClientSecret, kOperatorToken}) {
      EXPECT_FALSE(absl::StrContains(transcript_, secret)) << secret << " was printed:\n" << transcript_;
    }
  }

  Result Ctl(const std::vector<std::string>& args, const std::string& in = "",
             const std::string& admin_token = kOperatorToken) {
    Env env{{{"BASTION_TENANT_ADDR", tenant_server_->address()}, {"BASTION_VAULT_ADDR", vault_address_}}};
    if (!admin_token.empty()) env.vars["BASTION_ADMIN_TOKEN"] = admin_token;
    std::istringstream stdin_stream(in);
    std::ostringstream out, err;
    int code = RunCli(args, stdin_stream, out, err, env);
    Result r{code, out.str(), err.str()};
    transcript_ += r.out + r.err;
    return r;
  }

  std::string Ok(const std::vector<std::string>& args, const std::string& in = "",
                 const std::string& admin_token = kOperatorToken) {
    Result r = Ctl(args, in, admin_token);
    EXPECT_EQ(r.code, 0) << absl::StrJoin(args, " ") << "\n" << r.err;
    return r.out;
  }

  std::string IssueToken(const std::string& email, const std::string& tenant) {
    std::string token = Ok({"token", "issue", email, "--tenant", tenant});
    if (!token.empty()) token.pop_back();
    return token;
  }

  std::vector<std::string> Set(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"idp", "set", "--tenant", "acme", "--issuer", idp_.issuer(),
                                     "--client-id", "bastion-acme"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  metrics::Registry registry_;
  http::CurlHttpClient http_;
  vault::FakeIdp idp_{RealClock::Get()};
  std::unique_ptr<tenant::TestTenantServer> tenant_server_;
  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<vault::PgVaultStore> vault_store_;
  std::unique_ptr<vault::PgIdpStore> store_;
  std::unique_ptr<vault::KeyringSource> keys_;
  std::unique_ptr<vault::Envelope> envelope_;
  std::unique_ptr<tenant::GrpcTenantClient> tenant_client_;
  std::unique_ptr<auth::CallerResolver> callers_;
  std::unique_ptr<vault::OidcClient> oidc_;
  std::unique_ptr<vault::TenantDirectory> directory_;
  std::unique_ptr<vault::IdpService> logic_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<grpcutil::CallRunner> runner_;
  std::unique_ptr<vault::IdpGrpc> grpc_;
  std::unique_ptr<grpc::Server> vault_server_;
  std::string vault_address_;
  std::string acme_admin_, globex_admin_;
  std::string transcript_;
};

TEST_F(IdpCommandsTest, AnAdminSetsTestsShowsAndDeletesTheIdentityProvider) {
  std::string stored = Ok(Set(), absl::StrCat(kClientSecret, "\n"), acme_admin_);
  EXPECT_EQ(stored, absl::StrCat("Stored the identity provider of tenant acme: issuer ", idp_.issuer(),
                                 ", client bastion-acme, client secret ****et-9.\n"
                                 "Check it: bastionctl idp test --tenant acme\n"));

  std::string info = Ok({"idp", "get", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(info, "client secret:  ****et-9\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "scopes:         openid email profile\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "last tested:    never\n")) << info;

  std::string tested = Ok({"idp", "test", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(tested, "its issuer is exactly")) << tested;
  EXPECT_TRUE(absl::StrContains(tested, "1 signing key(s)")) << tested;
  EXPECT_TRUE(absl::EndsWith(tested, "The identity provider is ready for sign-in.\n")) << tested;
  info = Ok({"idp", "get", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_FALSE(absl::StrContains(info, "last tested:    never")) << info;

  std::string rotated = Ok({"idp", "rotate-signing-key", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(rotated, "the previous key stays published")) << rotated;

  EXPECT_EQ(Ok({"idp", "delete", "--tenant", "acme"}, "", acme_admin_),
            "Deleted the identity provider of tenant acme; AI clients cannot sign in until one is set "
            "again (static tokens still work).\n");
  Result gone = Ctl({"idp", "get", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_EQ(gone.code, 1);
  EXPECT_TRUE(absl::StrContains(gone.err, "bastionctl idp set")) << gone.err;
}

TEST_F(IdpCommandsTest, ThePublicClientAndTheSecretFileAreAlternatives) {
  std::string stored = Ok(Set({"--public-client", "--scopes", "openid,email"}), "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(stored, "public client (PKCE only)")) << stored;
  std::string info = Ok({"idp", "get", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(info, "none (public client: PKCE only)")) << info;
  EXPECT_TRUE(absl::StrContains(info, "scopes:         openid email\n")) << info;

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/idp-secret-", ::getpid());
  std::ofstream(path) << kClientSecret << "\n";
  stored = Ok(Set({"--client-secret-file", path}), "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(stored, "client secret ****et-9")) << stored;

  Result both = Ctl(Set({"--public-client", "--client-secret-file", path}), "", acme_admin_);
  EXPECT_EQ(both.code, 2);
}

TEST_F(IdpCommandsTest, TheSecretIsNeverTakenFromTheCommandLine) {
  Result r = Ctl(Set({"--client-secret", kClientSecret}), "", acme_admin_);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--client-secret-file")) << r.err;
  EXPECT_EQ(Ctl({"idp", "get", "--tenant", "acme"}, "", acme_admin_).code, 1);  // nothing stored
}

TEST_F(IdpCommandsTest, AFailedTestExitsOneWithTheFindings) {
  Ok(Set(), kClientSecret, acme_admin_);
  idp_.SetDiscoveryIssuer("https://login.other.example");
  Result r = Ctl({"idp", "test", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.out, "names issuer 'https://login.other.example'")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "cannot be used for sign-in yet")) << r.out;
}

TEST_F(IdpCommandsTest, AnAdminOfAnotherTenantGetsNotFound) {
  Ok(Set(), kClientSecret, acme_admin_);
  Result r = Ctl({"idp", "get", "--tenant", "acme"}, "", globex_admin_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: tenant 'acme' not found (NOT_FOUND)\n");
  EXPECT_EQ(Ctl(Set(), kClientSecret, globex_admin_).code, 1);
}

}  // namespace
}  // namespace bastion::ctl
