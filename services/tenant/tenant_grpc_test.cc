// Drives the tenant service through a real gRPC channel, on a real Postgres.
#include "services/tenant/tenant_grpc.h"

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::tenant {
namespace {

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kVaultToken[] = "vault-service-token";
constexpr char kGovernanceToken[] = "governance-service-token";

class TenantGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestTenantServer::Start(
        {kOperatorToken, {{"edge", kEdgeToken}, {"vault", kVaultToken}, {"governance", kGovernanceToken}}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = pb::TenantService::NewStub(server_->InsecureChannel());
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  std::unique_ptr<grpc::ClientContext> AsEdge() { return AsService(kEdgeToken); }

  std::unique_ptr<grpc::ClientContext> AsService(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    grpcutil::PrepareClientContext(*ctx, token, absl::Seconds(10));
    return ctx;
  }

  // Creates a tenant with an admin; returns the admin's client token.
  std::string TenantWithAdmin(const std::string& slug) {
    pb::CreateTenantRequest ct;
    ct.set_slug(slug);
    pb::Tenant t;
    EXPECT_TRUE(stub_->CreateTenant(As(kOperatorToken).get(), ct, &t).ok());
    pb::CreateUserRequest cu;
    cu.set_tenant(slug);
    cu.set_email("admin@" + slug + ".com");
    cu.set_role(pb::ROLE_ADMIN);
    pb::User u;
    EXPECT_TRUE(stub_->CreateUser(As(kOperatorToken).get(), cu, &u).ok());
    pb::IssueClientTokenRequest it;
    it.set_tenant(slug);
    it.set_user(u.email());
    pb::IssueClientTokenResponse tok;
    EXPECT_TRUE(stub_->IssueClientToken(As(kOperatorToken).get(), it, &tok).ok());
    return tok.secret();
  }

  std::unique_ptr<TestTenantServer> server_;
  std::unique_ptr<pb::TenantService::Stub> stub_;
};

TEST_F(TenantGrpcTest, AdminRpcsNeedABearerToken) {
  pb::CreateTenantRequest req;
  req.set_slug("acme");
  pb::Tenant t;
  EXPECT_EQ(stub_->CreateTenant(As("").get(), req, &t).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->CreateTenant(As("bst_bogus").get(), req, &t).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->CreateTenant(As(kOperatorToken).get(), req, &t).ok());
  EXPECT_EQ(t.slug(), "acme");
  EXPECT_FALSE(t.ai_access_active());
}

TEST_F(TenantGrpcTest, TheEdgeSeesTheActivationMessageUntilAnAdminActivates) {
  std::string admin = TenantWithAdmin("acme");
  pb::TenantRef ref;
  ref.set_tenant("acme");
  pb::CheckAccessResponse check;
  ASSERT_TRUE(stub_->CheckAccess(AsEdge().get(), ref, &check).ok());
  EXPECT_FALSE(check.allowed());
  EXPECT_EQ(check.message(),
            "Activation required. AI access management must be enabled for your tenant before you "
            "can use it.");
  pb::Tenant t;
  ASSERT_TRUE(stub_->ActivateAiAccess(As(admin).get(), ref, &t).ok());
  ASSERT_TRUE(stub_->CheckAccess(AsEdge().get(), ref, &check).ok());
  EXPECT_TRUE(check.allowed());
}

TEST_F(TenantGrpcTest, OnlyAKnownServiceIdentityMayAuthenticateTokens) {
  std::string admin = TenantWithAdmin("acme");
  pb::AuthenticateRequest req;
  req.set_token(admin);
  pb::Identity id;
  EXPECT_EQ(stub_->Authenticate(As(admin).get(), req, &id).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto forged = std::make_unique<grpc::ClientContext>();
  grpcutil::PrepareClientContext(*forged, "not-the-edge-token", absl::Seconds(5));
  EXPECT_EQ(stub_->Authenticate(forged.get(), req, &id).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(stub_->Authenticate(AsEdge().get(), req, &id).ok());
  EXPECT_EQ(id.email(), "admin@acme.com");
  EXPECT_EQ(id.tenant_slug(), "acme");
}

// Issue 11, defect 1: a service token passed the admin check, so any service could mint an
// admin's token for any tenant, or change its settings, users and access.
TEST_F(TenantGrpcTest, ServiceIdentitiesAreNotTenantAdmins) {
  TenantWithAdmin("acme");
  for (const char* token : {kEdgeToken, kVaultToken, kGovernanceToken}) {
    SCOPED_TRACE(token);
    pb::IssueClientTokenRequest it;
    it.set_tenant("acme");
    it.set_user("admin@acme.com");
    pb::IssueClientTokenResponse issued;
    EXPECT_EQ(stub_->IssueClientToken(AsService(token).get(), it, &issued).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(issued.secret().empty());

    pb::TenantRef ref;
    ref.set_tenant("acme");
    pb::Tenant t;
    EXPECT_EQ(stub_->ActivateAiAccess(AsService(token).get(), ref, &t).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pb::SetKillSwitchRequest kill;
    kill.set_tenant("acme");
    kill.set_on(true);
    EXPECT_EQ(stub_->SetKillSwitch(AsService(token).get(), kill, &t).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pb::UpdateTenantSettingsRequest settings;
    settings.set_tenant("acme");
    settings.mutable_settings()->add_allowed_client_types(pb::CLIENT_TYPE_SERVICE);
    EXPECT_EQ(stub_->UpdateTenantSettings(AsService(token).get(), settings, &t).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pb::CreateUserRequest cu;
    cu.set_tenant("acme");
    cu.set_email("mallory@acme.com");
    cu.set_role(pb::ROLE_ADMIN);
    pb::User u;
    EXPECT_EQ(stub_->CreateUser(AsService(token).get(), cu, &u).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pb::ListClientTokensRequest lt;
    lt.set_tenant("acme");
    pb::ListClientTokensResponse tokens;
    EXPECT_EQ(stub_->ListClientTokens(AsService(token).get(), lt, &tokens).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Nothing changed: still one token, the tenant inactive, no kill switch, no new user.
  pb::ListClientTokensRequest lt;
  lt.set_tenant("acme");
  pb::ListClientTokensResponse tokens;
  ASSERT_TRUE(stub_->ListClientTokens(As(kOperatorToken).get(), lt, &tokens).ok());
  EXPECT_EQ(tokens.tokens_size(), 1);
  pb::GetTenantRequest get;
  get.set_tenant("acme");
  pb::Tenant t;
  ASSERT_TRUE(stub_->GetTenant(As(kOperatorToken).get(), get, &t).ok());
  EXPECT_FALSE(t.ai_access_active());
  EXPECT_FALSE(t.kill_switch());
  pb::GetUserRequest gu;
  gu.set_tenant("acme");
  gu.set_user("mallory@acme.com");
  pb::User u;
  EXPECT_EQ(stub_->GetUser(As(kOperatorToken).get(), gu, &u).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(TenantGrpcTest, EachServiceKeepsExactlyTheReadsItUses) {
  TenantWithAdmin("acme");
  pb::GetTenantRequest get;
  get.set_tenant("acme");
  pb::Tenant t;
  EXPECT_TRUE(stub_->GetTenant(AsService(kVaultToken).get(), get, &t).ok());
  EXPECT_TRUE(stub_->GetTenant(AsService(kGovernanceToken).get(), get, &t).ok());
  EXPECT_EQ(stub_->GetTenant(AsEdge().get(), get, &t).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  pb::GetUserRequest gu;
  gu.set_tenant("acme");
  gu.set_user("admin@acme.com");
  pb::User u;
  EXPECT_TRUE(stub_->GetUser(AsService(kVaultToken).get(), gu, &u).ok());
  EXPECT_TRUE(stub_->GetUser(AsEdge().get(), gu, &u).ok());  // signed-in users

  pb::ListGroupsRequest lg;
  lg.set_tenant("acme");
  pb::ListGroupsResponse groups;
  EXPECT_TRUE(stub_->ListGroups(AsService(kGovernanceToken).get(), lg, &groups).ok());
  EXPECT_EQ(stub_->ListGroups(AsService(kVaultToken).get(), lg, &groups).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  pb::TenantRef ref;
  ref.set_tenant("acme");
  pb::CheckAccessResponse check;
  EXPECT_EQ(stub_->CheckAccess(AsService(kVaultToken).get(), ref, &check).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::ListEndedSessionsRequest ended;
  pb::ListEndedSessionsResponse sessions;
  EXPECT_EQ(stub_->ListEndedSessions(AsService(kGovernanceToken).get(), ended, &sessions).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TenantGrpcTest, ATenantAdminGetsNothingOfAnotherTenant) {
  std::string acme_admin = TenantWithAdmin("acme");
  TenantWithAdmin("globex");
  pb::GetTenantRequest get;
  get.set_tenant("globex");
  pb::Tenant t;
  grpc::Status other = stub_->GetTenant(As(acme_admin).get(), get, &t);
  get.set_tenant("no-such-tenant");
  grpc::Status missing = stub_->GetTenant(As(acme_admin).get(), get, &t);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);

  pb::ListUsersRequest lu;
  lu.set_tenant("globex");
  pb::ListUsersResponse users;
  EXPECT_EQ(stub_->ListUsers(As(acme_admin).get(), lu, &users).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(users.users_size(), 0);
}

TEST_F(TenantGrpcTest, BadInputGetsInvalidArgumentWithAClearMessage) {
  pb::CreateTenantRequest req;
  pb::Tenant t;
  grpc::Status s = stub_->CreateTenant(As(kOperatorToken).get(), req, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "tenant slug must not be empty");

  TenantWithAdmin("acme");
  pb::IssueClientTokenRequest it;
  it.set_tenant("acme");
  it.set_user("admin@acme.com");
  it.set_client_type(static_cast<pb::ClientType>(42));
  pb::IssueClientTokenResponse tok;
  s = stub_->IssueClientToken(As(kOperatorToken).get(), it, &tok);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(tok.secret().empty());
}

}  // namespace
}  // namespace bastion::tenant
