// Drives the vault through a real gRPC channel, on a real Postgres, with callers resolved from
// metadata exactly as in production (service identities, operator token, tenant client tokens).
#include "services/vault/vault_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "common/http/http_client.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/testing/browser.h"
#include "services/vault/testing/grpc_fixture.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/testing/log_capture.h"
#include "services/vault/vault_migrations.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::vault {
namespace {

constexpr char kApiKey[] = "u+TheAcmeRestApiKeyX1";
constexpr char kClientSecret[] = "the-acme-oauth-client-secret";

class VaultGrpcTest : public VaultGrpcFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartBase());
    ASSERT_TRUE(sim_.Start().ok());
    VaultOptions options;
    options.authorize_url = sim_.base_url() + "/oauth/authorize";
    options.token_url = sim_.base_url() + "/oauth/token";
    options.redirect_url = "https://edge.example.com/oauth/callback";
    options.api_url_us = sim_.base_url();
    logic_ = std::make_unique<VaultService>(*vault_store_, *envelope_, tenants_, http_, RealClock::Get(),
                                            registry_, options);
    service_ = std::make_unique<VaultGrpc>(*logic_, *runner_, *callers_);
    stub_ = pb::VaultService::NewStub(Serve(*service_));
  }

  void TearDown() override {
    StopBase();
    // Every token the simulator mints starts with one of these prefixes.
    logs_.ExpectNoneOf({kApiKey, kClientSecret, kOperatorToken, kEdgeToken, kGovernanceToken,
                        kAcmeAdminToken, kGlobexAdminToken, kAnaToken, "pdus+_", "pdre+_"});
  }

  void PutApiKey() {
    pb::PutApiKeyCredentialRequest req;
    req.set_tenant("acme");
    req.set_server("pagerduty");
    req.set_api_key(kApiKey);
    req.set_actor_email("actor@acme.com");
    req.set_access(pb::ACCESS_FULL);
    pb::CredentialInfo info;
    grpc::Status s = stub_->PutApiKeyCredential(As(kAcmeAdminToken).get(), req, &info);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(info.SerializeAsString().find(kApiKey), std::string::npos);
    EXPECT_EQ(info.hint(), "eyX1");
  }

  grpc::Status GetUpstream(grpc::ClientContext* ctx, const std::string& server,
                           pb::UpstreamCredential* out, const std::string& user = "") {
    pb::GetUpstreamCredentialRequest req;
    req.set_tenant(acme_);
    req.set_server(server);
    req.set_user(user);
    return stub_->GetUpstreamCredential(ctx, req, out);
  }

  pagerduty_sim::Simulator sim_{[] {
    pagerduty_sim::SimulatorOptions o;
    o.oauth_clients = {{"client-1", kClientSecret}};
    return o;
  }()};
  http::CurlHttpClient http_;
  std::unique_ptr<VaultService> logic_;
  std::unique_ptr<VaultGrpc> service_;
  std::unique_ptr<pb::VaultService::Stub> stub_;
};

TEST_F(VaultGrpcTest, OnlyTheEdgesIdentityGetsTheUpstreamCredential) {
  PutApiKey();
  pb::UpstreamCredential up;
  grpc::Status s = GetUpstream(AsService(kEdgeToken).get(), "pagerduty", &up);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(up.authorization(), std::string("Token token=") + kApiKey);
  EXPECT_EQ(up.from_email(), "actor@acme.com");
  EXPECT_EQ(up.mode(), pb::AUTH_MODE_API_KEY);
  EXPECT_EQ(up.access(), pb::ACCESS_FULL);
  EXPECT_EQ(up.region(), pb::REGION_US);

  std::vector<std::unique_ptr<grpc::ClientContext>> others;
  others.push_back(AsService(kGovernanceToken));
  others.push_back(As(kOperatorToken));
  others.push_back(As(kAcmeAdminToken));
  others.push_back(As(kAnaToken));
  for (auto& ctx : others) {
    pb::UpstreamCredential denied;
    EXPECT_EQ(GetUpstream(ctx.get(), "pagerduty", &denied).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(denied.authorization().empty());
  }
  pb::UpstreamCredential none;
  EXPECT_EQ(GetUpstream(AsService("forged-edge-token").get(), "pagerduty", &none).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetUpstream(As("").get(), "pagerduty", &none).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(none.authorization().empty());
}

TEST_F(VaultGrpcTest, GovernanceAndTheTenantsAdminsReadMetadataOthersDoNot) {
  PutApiKey();
  pb::CredentialRef ref;
  ref.set_tenant("acme");
  ref.set_server("pagerduty");
  pb::CredentialInfo info;
  ASSERT_TRUE(stub_->GetCredentialInfo(AsService(kGovernanceToken).get(), ref, &info).ok());
  EXPECT_EQ(info.mode(), pb::AUTH_MODE_API_KEY);
  EXPECT_EQ(info.actor_email(), "actor@acme.com");
  EXPECT_EQ(info.version(), 1);
  EXPECT_EQ(info.SerializeAsString().find(kApiKey), std::string::npos);
  EXPECT_EQ(stub_->GetCredentialInfo(AsService(kEdgeToken).get(), ref, &info).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->GetCredentialInfo(As(kGlobexAdminToken).get(), ref, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->GetCredentialInfo(As(kAnaToken).get(), ref, &info).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->GetCredentialInfo(As("bst_unknown").get(), ref, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(VaultGrpcTest, AUserAuthorizesThroughTheEdgeAndGetsABearerToken) {
  pb::PutOAuthAppRequest app;
  app.set_tenant("acme");
  app.set_server("pagerduty");
  app.set_client_id("client-1");
  app.set_client_secret(kClientSecret);
  app.add_scopes("read");
  app.add_scopes("write");
  app.set_flavor(pb::OAUTH_FLAVOR_CLASSIC);
  pb::CredentialInfo info;
  ASSERT_TRUE(stub_->PutOAuthApp(As(kOperatorToken).get(), app, &info).ok());
  EXPECT_EQ(info.flavor(), pb::OAUTH_FLAVOR_CLASSIC);

  pb::UpstreamCredential up;
  grpc::Status before = GetUpstream(AsService(kEdgeToken).get(), "pagerduty", &up, ana_.id());
  EXPECT_EQ(before.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(before.error_message(), kNeedsAuthorizationMessage);

  pb::BeginUserAuthorizationRequest begin;
  begin.set_tenant("acme");
  begin.set_server("pagerduty");
  begin.set_user(ana_.id());
  pb::BeginUserAuthorizationResponse begun;
  ASSERT_TRUE(stub_->BeginUserAuthorization(AsService(kEdgeToken).get(), begin, &begun).ok());
  Redirect redirect = FollowAuthorizeUrl(http_, begun.authorize_url());
  ASSERT_EQ(redirect.status, 302);

  pb::CompleteUserAuthorizationRequest complete;
  complete.set_state(redirect.state);
  complete.set_code(redirect.code);
  pb::CompleteUserAuthorizationResponse done;
  EXPECT_EQ(stub_->CompleteUserAuthorization(As(kAnaToken).get(), complete, &done).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = stub_->CompleteUserAuthorization(AsService(kEdgeToken).get(), complete, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(done.tenant_slug(), "acme");
  EXPECT_EQ(done.grant().user_email(), "ana@acme.com");
  EXPECT_EQ(done.grant().status(), pb::GRANT_STATUS_ACTIVE);

  ASSERT_TRUE(GetUpstream(AsService(kEdgeToken).get(), "pagerduty", &up, ana_.id()).ok());
  EXPECT_TRUE(absl::StartsWith(up.authorization(), "Bearer pdus+_"));
  EXPECT_EQ(up.from_email(), "ana@acme.com");
  EXPECT_EQ(up.grant_status(), pb::GRANT_STATUS_ACTIVE);
  EXPECT_TRUE(up.has_expires_at());

  pb::ListUserGrantsRequest list;
  list.set_tenant("acme");
  pb::ListUserGrantsResponse grants;
  ASSERT_TRUE(stub_->ListUserGrants(As(kAnaToken).get(), list, &grants).ok());
  ASSERT_EQ(grants.grants_size(), 1);
  EXPECT_EQ(grants.grants(0).server(), "pagerduty");
  EXPECT_EQ(grants.SerializeAsString().find(up.authorization().substr(7)), std::string::npos);
}

TEST_F(VaultGrpcTest, UnsetEnumsAreInvalidArgumentsAndOnlyTheOperatorRotatesTheKek) {
  pb::PutApiKeyCredentialRequest req;
  req.set_tenant("acme");
  req.set_server("pagerduty");
  req.set_api_key(kApiKey);
  req.set_actor_email("actor@acme.com");
  pb::CredentialInfo info;
  grpc::Status s = stub_->PutApiKeyCredential(As(kAcmeAdminToken).get(), req, &info);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "access must be read_only or full");

  pb::RotateKekResponse r;
  EXPECT_EQ(stub_->RotateKek(As(kAcmeAdminToken).get(), {}, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->RotateKek(As(kOperatorToken).get(), {}, &r).ok());
  EXPECT_EQ(r.kek_version(), 1);
}

}  // namespace
}  // namespace bastion::vault
