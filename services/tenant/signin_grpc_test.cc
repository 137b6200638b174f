// Drives sign-in (SignInService) through a real gRPC channel on a real Postgres: the edge's
// whole authorization-code flow, the caller rules of the admin RPCs, and the revocation feed.
#include "services/tenant/signin_grpc.h"

#include <grpcpp/grpcpp.h>

#include "common/crypto/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::tenant {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kVaultToken[] = "vault-service-token";
constexpr char kIssuer[] = "https://login.acme.example";
constexpr char kRedirect[] = "https://claude.ai/api/mcp/auth_callback";
constexpr char kResource[] = "https://bastion.example/mcp/acme/pagerduty";

class SignInGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestTenantServer::Start({kOperatorToken, {{"edge", kEdgeToken}, {"vault", kVaultToken}}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    tenants_ = pb::TenantService::NewStub(server_->InsecureChannel());
    signin_ = pb::SignInService::NewStub(server_->InsecureChannel());
    acme_admin_ = TenantWithAdmin("acme");
    pb::TenantRef ref;
    ref.set_tenant("acme");
    pb::Tenant t;
    ASSERT_TRUE(tenants_->ActivateAiAccess(As(kOperatorToken).get(), ref, &t).ok());
    pb::CreateUserRequest cu;
    cu.set_tenant("acme");
    cu.set_email("ana@acme.com");
    pb::User u;
    ASSERT_TRUE(tenants_->CreateUser(As(kOperatorToken).get(), cu, &u).ok());
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  std::unique_ptr<grpc::ClientContext> AsService(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    grpcutil::PrepareClientContext(*ctx, token, absl::Seconds(10));
    return ctx;
  }

  std::string TenantWithAdmin(const std::string& slug) {
    pb::CreateTenantRequest ct;
    ct.set_slug(slug);
    pb::Tenant t;
    EXPECT_TRUE(tenants_->CreateTenant(As(kOperatorToken).get(), ct, &t).ok());
    pb::CreateUserRequest cu;
    cu.set_tenant(slug);
    cu.set_email("admin@" + slug + ".com");
    cu.set_role(pb::ROLE_ADMIN);
    pb::User u;
    EXPECT_TRUE(tenants_->CreateUser(As(kOperatorToken).get(), cu, &u).ok());
    pb::IssueClientTokenRequest it;
    it.set_tenant(slug);
    it.set_user(u.email());
    pb::IssueClientTokenResponse tok;
    EXPECT_TRUE(tenants_->IssueClientToken(As(kOperatorToken).get(), it, &tok).ok());
    return tok.secret();
  }

  pb::SetSignInPolicyRequest Policy() {
    pb::SetSignInPolicyRequest req;
    req.set_tenant("acme");
    req.mutable_policy()->set_issuer(kIssuer);
    req.mutable_policy()->add_allowed_domains("acme.com");
    return req;
  }

  std::unique_ptr<TestTenantServer> server_;
  std::unique_ptr<pb::TenantService::Stub> tenants_;
  std::unique_ptr<pb::SignInService::Stub> signin_;
  std::string acme_admin_;
};

TEST_F(SignInGrpcTest, ServiceIdentitiesMembersAndOtherTenantsAdminsAreRefusedOnAdminRpcs) {
  pb::SignInPolicy out;
  EXPECT_EQ(signin_->SetSignInPolicy(AsService(kEdgeToken).get(), Policy(), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(signin_->SetSignInPolicy(AsService(kVaultToken).get(), Policy(), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string globex_admin = TenantWithAdmin("globex");
  EXPECT_EQ(signin_->SetSignInPolicy(As(globex_admin).get(), Policy(), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(signin_->SetSignInPolicy(As("").get(), Policy(), &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  pb::ListOAuthGrantsRequest list;
  list.set_tenant("acme");
  pb::ListOAuthGrantsResponse grants;
  EXPECT_EQ(signin_->ListOAuthGrants(AsService(kEdgeToken).get(), list, &grants).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(signin_->ListOAuthGrants(As(globex_admin).get(), list, &grants).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::RevokeOAuthGrantRequest revoke;
  revoke.set_tenant("acme");
  revoke.set_grant_id("00000000-0000-4000-8000-000000000000");
  pb::OAuthGrant g;
  EXPECT_EQ(signin_->RevokeOAuthGrant(AsService(kEdgeToken).get(), revoke, &g).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The edge-only RPCs refuse admins and other services.
  pb::ListRevocationsRequest feed;
  pb::ListRevocationsResponse revs;
  EXPECT_EQ(signin_->ListRevocations(As(acme_admin_).get(), feed, &revs).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(signin_->ListRevocations(AsService(kVaultToken).get(), feed, &revs).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Nothing was set by any of them; the tenant's own admin can.
  pb::TenantRef ref;
  ref.set_tenant("acme");
  ASSERT_TRUE(signin_->GetSignInPolicy(As(acme_admin_).get(), ref, &out).ok());
  EXPECT_EQ(out.issuer(), "");
  ASSERT_TRUE(signin_->SetSignInPolicy(As(acme_admin_).get(), Policy(), &out).ok());
  EXPECT_EQ(out.issuer(), kIssuer);
}

TEST_F(SignInGrpcTest, TheEdgeRunsTheWholeFlowAndDisablingTheUserReachesTheFeed) {
  pb::SignInPolicy policy;
  ASSERT_TRUE(signin_->SetSignInPolicy(As(kOperatorToken).get(), Policy(), &policy).ok());

  pb::RegisterClientRequest reg;
  reg.set_tenant("acme");
  reg.set_client_name("Claude");
  reg.add_redirect_uris(kRedirect);
  pb::OAuthClient client;
  ASSERT_TRUE(signin_->RegisterClient(AsService(kEdgeToken).get(), reg, &client).ok());
  EXPECT_EQ(client.kind(), "registration");

  const std::string verifier = crypto::RandomToken("", 32);
  const std::string binding = crypto::HexEncode(crypto::Sha256("browser cookie"));
  pb::BeginAuthorizationRequest begin;
  begin.set_tenant("acme");
  begin.set_client_id(client.client_id());
  begin.set_redirect_uri(kRedirect);
  begin.set_code_challenge(crypto::Base64UrlEncode(crypto::Sha256(verifier)));
  begin.set_code_challenge_method("S256");
  begin.set_state("st8");
  begin.set_resource(kResource);
  begin.set_server("pagerduty");
  begin.set_browser_binding(binding);
  pb::PendingAuthorization pending;
  grpc::Status s = signin_->BeginAuthorization(AsService(kEdgeToken).get(), begin, &pending);
  ASSERT_TRUE(s.ok()) << s.error_message();

  pb::CompleteSignInRequest done;
  done.set_authorization_id(pending.authorization_id());
  done.set_browser_binding(binding);
  done.set_issuer(kIssuer);
  done.set_email("ana@acme.com");
  done.set_email_verified(true);
  done.set_claims_json("{}");
  pb::ConsentPrompt prompt;
  s = signin_->CompleteSignIn(AsService(kEdgeToken).get(), done, &prompt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(prompt.client().client_name(), "Claude");
  EXPECT_EQ(prompt.user().email(), "ana@acme.com");

  pb::DecideConsentRequest decide;
  decide.set_authorization_id(pending.authorization_id());
  decide.set_consent_token(prompt.consent_token());
  decide.set_browser_binding(binding);
  decide.set_approve(true);
  pb::ConsentDecision decision;
  ASSERT_TRUE(signin_->DecideConsent(AsService(kEdgeToken).get(), decide, &decision).ok());
  EXPECT_EQ(decision.state(), "st8");

  pb::RedeemCodeRequest redeem;
  redeem.set_tenant("acme");
  redeem.set_code(decision.code());
  redeem.set_client_id(client.client_id());
  redeem.set_redirect_uri(kRedirect);
  redeem.set_code_verifier("wrong-" + verifier);
  redeem.set_resource(kResource);
  pb::TokenGrant tokens;
  s = signin_->RedeemCode(AsService(kEdgeToken).get(), redeem, &tokens);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), StartsWith("invalid_grant: "));
  redeem.set_code_verifier(verifier);
  s = signin_->RedeemCode(AsService(kEdgeToken).get(), redeem, &tokens);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(tokens.refresh_token(), StartsWith("bsr_"));
  EXPECT_EQ(tokens.identity().email(), "ana@acme.com");
  EXPECT_EQ(tokens.identity().tenant_slug(), "acme");

  pb::RefreshGrantRequest refresh;
  refresh.set_tenant("acme");
  refresh.set_refresh_token(tokens.refresh_token());
  refresh.set_client_id(client.client_id());
  pb::TokenGrant rotated;
  ASSERT_TRUE(signin_->RefreshGrant(AsService(kEdgeToken).get(), refresh, &rotated).ok());
  EXPECT_NE(rotated.refresh_token(), tokens.refresh_token());

  pb::ListOAuthGrantsRequest list;
  list.set_tenant("acme");
  list.set_user("ana@acme.com");
  pb::ListOAuthGrantsResponse grants;
  ASSERT_TRUE(signin_->ListOAuthGrants(As(acme_admin_).get(), list, &grants).ok());
  ASSERT_EQ(grants.grants_size(), 1);
  EXPECT_EQ(grants.grants(0).id(), tokens.grant_id());

  pb::GetUserRequest disable;
  disable.set_tenant("acme");
  disable.set_user("ana@acme.com");
  pb::User disabled;
  ASSERT_TRUE(tenants_->DisableUser(As(acme_admin_).get(), disable, &disabled).ok());
  pb::ListRevocationsRequest feed;
  pb::ListRevocationsResponse revs;
  ASSERT_TRUE(signin_->ListRevocations(AsService(kEdgeToken).get(), feed, &revs).ok());
  ASSERT_EQ(revs.revocations_size(), 1);
  EXPECT_EQ(revs.revocations(0).kind(), pb::Revocation::KIND_USER);
  EXPECT_EQ(revs.revocations(0).id(), disabled.id());
  refresh.set_refresh_token(rotated.refresh_token());
  s = signin_->RefreshGrant(AsService(kEdgeToken).get(), refresh, &tokens);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("disabled"));

  pb::RevokeOAuthGrantRequest revoke;
  revoke.set_tenant("acme");
  revoke.set_grant_id(rotated.grant_id());
  pb::OAuthGrant revoked;
  ASSERT_TRUE(signin_->RevokeOAuthGrant(As(acme_admin_).get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.revoked_reason(), "admin");
  feed.set_after_seq(revs.revocations(0).seq());
  ASSERT_TRUE(signin_->ListRevocations(AsService(kEdgeToken).get(), feed, &revs).ok());
  ASSERT_EQ(revs.revocations_size(), 1);
  EXPECT_EQ(revs.revocations(0).kind(), pb::Revocation::KIND_GRANT);
}

}  // namespace
}  // namespace bastion::tenant
