// The vault's IdentityProviderService through a real gRPC channel, on a real Postgres, with
// callers resolved from metadata as in production, and the fake identity provider on loopback.
#include "services/vault/idp_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "common/exec/executor.h"
#include "common/http/http_client.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/pg_idp_store.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/testing/browser.h"
#include "services/vault/testing/fake_idp.h"
#include "services/vault/testing/grpc_fixture.h"
#include "services/vault/testing/log_capture.h"
#include "services/vault/vault_migrations.h"

namespace bastion::vault {
namespace {

constexpr char kClientSecret[] = "the-acme-idp-client-secret";
constexpr char kCallback[] = "http://127.0.0.1:8080/oauth/acme/callback";

class IdpGrpcTest : public VaultGrpcFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartBase());
    store_ = std::make_unique<PgIdpStore>(*pool_);
    ASSERT_TRUE(idp_.Start().ok());
    idp_.SetClient("bastion-acme", kClientSecret);
    OidcOptions oo;
    oo.allow_http_loopback = true;
    oidc_ = std::make_unique<OidcClient>(http_, RealClock::Get(), oo);
    directory_ = std::make_unique<TenantDirectory>(tenants_, RealClock::Get());
    logic_ = std::make_unique<IdpService>(*store_, *envelope_, *directory_, *oidc_,
                                          RealClock::Get(), registry_);
    service_ = std::make_unique<IdpGrpc>(*logic_, *runner_, *callers_);
    stub_ = idppb::IdentityProviderService::NewStub(Serve(*service_));
  }

  void TearDown() override {
    StopBase();
    std::vector<std::string> secrets = {kClientSecret, kOperatorToken, kEdgeToken, kGovernanceToken,
                                        kAcmeAdminToken, kGlobexAdminToken, kAnaToken};
    for (const auto& s : seen_) secrets.push_back(s);
    logs_.ExpectNoneOf(secrets);
  }

  grpc::Status Put(grpc::ClientContext* ctx, idppb::IdpClientInfo* info) {
    idppb::PutIdpClientRequest req;
    req.set_tenant("acme");
    req.set_issuer(idp_.issuer());
    req.set_client_id("bastion-acme");
    req.set_client_secret(kClientSecret);
    return stub_->PutIdpClient(ctx, req, info);
  }

  // Every admin RPC of the service, called with `ctx_for` contexts; returns their codes.
  std::vector<grpc::StatusCode> AdminCalls(
      const std::function<std::unique_ptr<grpc::ClientContext>()>& ctx_for) {
    std::vector<grpc::StatusCode> codes;
    idppb::IdpClientInfo info;
    codes.push_back(Put(ctx_for().get(), &info).error_code());
    idppb::IdpTenantRef ref;
    ref.set_tenant("acme");
    codes.push_back(stub_->GetIdpClientInfo(ctx_for().get(), ref, &info).error_code());
    idppb::TestIdpClientResponse test;
    codes.push_back(stub_->TestIdpClient(ctx_for().get(), ref, &test).error_code());
    idppb::TokenKeys keys;
    codes.push_back(stub_->RotateTokenKey(ctx_for().get(), ref, &keys).error_code());
    codes.push_back(stub_->DeleteIdpClient(ctx_for().get(), ref, &info).error_code());
    return codes;
  }

  std::unique_ptr<PgIdpStore> store_;
  FakeIdp idp_{RealClock::Get()};
  http::CurlHttpClient http_;
  std::unique_ptr<OidcClient> oidc_;
  std::unique_ptr<TenantDirectory> directory_;
  std::unique_ptr<IdpService> logic_;
  std::unique_ptr<IdpGrpc> service_;
  std::unique_ptr<idppb::IdentityProviderService::Stub> stub_;
  std::vector<std::string> seen_;
};

TEST_F(IdpGrpcTest, AdminSetsTheClientAndNoReplyCarriesTheSecret) {
  idppb::IdpClientInfo info;
  grpc::Status s = Put(As(kAcmeAdminToken).get(), &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.tenant_id(), acme_);
  EXPECT_TRUE(info.has_client_secret());
  EXPECT_EQ(info.client_secret_hint(), "cret");
  EXPECT_EQ(info.SerializeAsString().find(kClientSecret), std::string::npos);
  idppb::IdpTenantRef ref;
  ref.set_tenant("acme");
  idppb::TestIdpClientResponse test;
  s = stub_->TestIdpClient(As(kOperatorToken).get(), ref, &test);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(test.ok());
  EXPECT_EQ(test.signing_keys(), 1);
  EXPECT_EQ(test.token_endpoint(), idp_.issuer() + "/token");
  s = stub_->GetIdpClientInfo(As(kAcmeAdminToken).get(), ref, &info);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(info.has_last_tested_at());
  EXPECT_EQ(info.SerializeAsString().find(kClientSecret), std::string::npos);
}

TEST_F(IdpGrpcTest, ServiceIdentitiesAreRefusedOnTheAdminRpcs) {
  idppb::IdpClientInfo info;
  ASSERT_TRUE(Put(As(kOperatorToken).get(), &info).ok());
  for (const char* token : {kEdgeToken, kGovernanceToken}) {
    for (grpc::StatusCode code : AdminCalls([&] { return AsService(token); })) {
      EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << token;
    }
  }
  idppb::IdpTenantRef ref;
  ref.set_tenant("acme");
  EXPECT_TRUE(stub_->GetIdpClientInfo(As(kOperatorToken).get(), ref, &info).ok());  // still there
}

TEST_F(IdpGrpcTest, AnAdminOfAnotherTenantAndAMemberAreRefused) {
  idppb::IdpClientInfo info;
  ASSERT_TRUE(Put(As(kOperatorToken).get(), &info).ok());
  for (grpc::StatusCode code : AdminCalls([&] { return As(kGlobexAdminToken); })) {
    EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  }
  for (grpc::StatusCode code : AdminCalls([&] { return As(kAnaToken); })) {
    EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED);
  }
  for (grpc::StatusCode code : AdminCalls([&] { return As(""); })) {
    EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(IdpGrpcTest, TheEdgeRunsASignInAndSignsAccessTokens) {
  idppb::IdpClientInfo info;
  ASSERT_TRUE(Put(As(kAcmeAdminToken).get(), &info).ok());

  idppb::BeginIdpSignInRequest begin;
  begin.set_tenant("acme");
  begin.set_redirect_uri(kCallback);
  begin.set_context("authz-7");
  idppb::BeginIdpSignInResponse begun;
  // An admin's token is not the edge.
  EXPECT_EQ(stub_->BeginIdpSignIn(As(kAcmeAdminToken).get(), begin, &begun).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = stub_->BeginIdpSignIn(AsService(kEdgeToken).get(), begin, &begun);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(begun.has_expires_at());
  Redirect r = FollowAuthorizeUrl(http_, begun.authorization_url());
  ASSERT_EQ(r.status, 302);
  seen_ = {r.state, r.code};

  idppb::CompleteIdpSignInRequest complete;
  complete.set_state(r.state);
  complete.set_code(r.code);
  idppb::VerifiedIdentity id;
  s = stub_->CompleteIdpSignIn(AsService(kEdgeToken).get(), complete, &id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(id.tenant_id(), acme_);
  EXPECT_EQ(id.context(), "authz-7");
  EXPECT_EQ(id.email(), "ana@acme.com");
  EXPECT_TRUE(id.email_verified());
  EXPECT_EQ(id.subject(), "idp-user-1");
  // The same state again: refused, in words.
  s = stub_->CompleteIdpSignIn(AsService(kEdgeToken).get(), complete, &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  idppb::SignAccessTokenRequest sign;
  sign.set_tenant("acme");
  sign.set_issuer("http://127.0.0.1:8080/oauth/acme");
  sign.set_audience("http://127.0.0.1:8080/mcp/acme/pagerduty");
  sign.set_subject("user-1");
  sign.set_client_id("client-1");
  sign.set_scope("mcp");
  sign.set_lifetime_seconds(120);
  idppb::SignAccessTokenResponse token;
  s = stub_->SignAccessToken(AsService(kEdgeToken).get(), sign, &token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  idppb::IdpTenantRef ref;
  ref.set_tenant("acme");
  idppb::TokenKeys keys;
  ASSERT_TRUE(stub_->GetTokenKeys(AsService(kEdgeToken).get(), ref, &keys).ok());
  auto set = jose::KeySet::FromJwks(keys.jwks_json());
  ASSERT_TRUE(set.ok());
  auto v = jose::Verify(token.access_token(), *set, {jose::Algorithm::kEs256});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->header["kid"].as_string(), keys.current_kid());
  EXPECT_EQ(v->claims["tid"].as_string(), acme_);
  EXPECT_EQ(v->claims["exp"].to_number<int64_t>() - v->claims["iat"].to_number<int64_t>(), 120);
  EXPECT_EQ(stub_->GetTokenKeys(As(kAcmeAdminToken).get(), ref, &keys).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace bastion::vault
