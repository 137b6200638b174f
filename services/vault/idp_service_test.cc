// The vault's sign-in side with in-memory stores and tenant directory, a fake clock, and a fake
// identity provider on loopback (real HTTP) that a browser-like helper signs in at.
#include "services/vault/idp_service.h"

#include <thread>

#include "absl/strings/match.h"
#include "common/http/http_client.h"
#include "common/metrics/text_serializer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/testing/browser.h"
#include "services/vault/testing/fake_idp.h"
#include "services/vault/testing/fake_idp_store.h"
#include "services/vault/testing/fake_vault_store.h"
#include "services/vault/testing/log_capture.h"

namespace bastion::vault {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kClientId[] = "bastion-acme";
constexpr char kClientSecret[] = "idp-client-secret-of-acme-77";
constexpr char kCallback[] = "https://bastion.example/oauth/acme/callback";

auth::Caller Service(const std::string& name) {
  auth::Caller c;
  c.kind = auth::Caller::Kind::kService;
  c.service = name;
  return c;
}

auth::Caller Operator() {
  auth::Caller c;
  c.kind = auth::Caller::Kind::kOperator;
  return c;
}

auth::Caller Member(const std::string& tenant_id, const std::string& slug, bool admin) {
  auth::Caller c;
  c.kind = admin ? auth::Caller::Kind::kTenantAdmin : auth::Caller::Kind::kTenantMember;
  c.tenant_id = tenant_id;
  c.tenant_slug = slug;
  c.user_id = crypto::NewUuid();
  c.email = "someone@" + slug + ".com";
  return c;
}

class IdpServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(idp_.Start().ok());
    idp_.SetClient(kClientId, kClientSecret);
    acme_ = tenants_.AddTenant("acme");
    globex_ = tenants_.AddTenant("globex");
    acme_admin_ = Member(acme_, "acme", true);
    acme_member_ = Member(acme_, "acme", false);
    globex_admin_ = Member(globex_, "globex", true);
    auto ring = Keyring::Parse("1 " + crypto::Base64Encode(std::string(32, 'k')), "test");
    ASSERT_TRUE(ring.ok());
    keys_ = KeyringSource::Fixed(*std::move(ring));
    envelope_ = std::make_unique<Envelope>(*keys_, vault_store_, clock_);
    OidcOptions o;
    o.allow_http_loopback = true;
    oidc_ = std::make_unique<OidcClient>(http_, clock_, o);
    svc_ = std::make_unique<IdpService>(store_, *envelope_, directory_, *oidc_, clock_, registry_);
  }

  void TearDown() override {
    std::vector<std::string> secrets = {kClientSecret};
    for (const auto& s : seen_) secrets.push_back(s);
    logs_.ExpectNoneOf(secrets);
  }

  void PutClient(const std::string& secret = kClientSecret) {
    auto c = svc_->PutIdpClient(acme_admin_, "acme", idp_.issuer(), kClientId, secret, {});
    ASSERT_TRUE(c.ok()) << c.status();
  }

  // Begins a sign-in as the edge and signs in at the fake provider as a browser would.
  Redirect SignInAtIdp(const std::string& context = "authz-1") {
    auto begun = svc_->BeginIdpSignIn(edge_, "acme", kCallback, context);
    EXPECT_TRUE(begun.ok()) << begun.status();
    if (!begun.ok()) return {};
    Redirect r = FollowAuthorizeUrl(http_, begun->authorization_url);
    EXPECT_EQ(r.status, 302);
    EXPECT_TRUE(absl::StartsWith(r.location, std::string(kCallback) + "?")) << r.location;
    seen_.push_back(r.state);
    seen_.push_back(r.code);
    return r;
  }

  FakeClock clock_{absl::Now()};
  LogCapture logs_;
  FakeIdp idp_{clock_};
  tenant::FakeTenantClient tenants_;
  TenantDirectory directory_{tenants_, clock_};
  FakeVaultStore vault_store_;
  FakeIdpStore store_;
  std::unique_ptr<KeyringSource> keys_;
  std::unique_ptr<Envelope> envelope_;
  http::CurlHttpClient http_;
  std::unique_ptr<OidcClient> oidc_;
  metrics::Registry registry_;
  std::unique_ptr<IdpService> svc_;
  std::string acme_, globex_;
  auth::Caller acme_admin_, acme_member_, globex_admin_;
  const auth::Caller edge_ = Service("edge");
  std::vector<std::string> seen_;
};

TEST_F(IdpServiceTest, ClientSecretIsSealedAndOnlyItsHintComesBack) {
  auto c = svc_->PutIdpClient(acme_admin_, "acme", idp_.issuer(), kClientId, kClientSecret, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->has_client_secret);
  EXPECT_EQ(c->client_secret_hint, "e-77");
  EXPECT_TRUE(c->client_secret_sealed.empty());
  EXPECT_EQ(c->scopes, (std::vector<std::string>{"openid", "email", "profile"}));
  auto stored = store_.GetIdpClient(acme_);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(absl::StrContains(stored->client_secret_sealed, kClientSecret));
  // Sealed for this tenant's client row only.
  EXPECT_TRUE(envelope_->Open(acme_, IdpClientAad(acme_), stored->client_secret_sealed).ok());
  EXPECT_FALSE(envelope_->Open(acme_, IdpClientAad(globex_), stored->client_secret_sealed).ok());
  auto info = svc_->GetIdpClientInfo(Operator(), "acme");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->client_secret_sealed.empty());
  EXPECT_EQ(info->issuer, idp_.issuer());
}

TEST_F(IdpServiceTest, BadClientSettingsAreRefusedWithReasons) {
  auto no_openid = svc_->PutIdpClient(acme_admin_, "acme", idp_.issuer(), kClientId, "", {"email"});
  EXPECT_THAT(no_openid.status().message(), HasSubstr("openid"));
  auto http_issuer =
      svc_->PutIdpClient(acme_admin_, "acme", "http://login.acme.example", kClientId, "", {});
  EXPECT_EQ(http_issuer.status().code(), absl::StatusCode::kInvalidArgument);
  auto spaced = svc_->PutIdpClient(acme_admin_, "acme", idp_.issuer(), kClientId, "sec ret\n", {});
  EXPECT_EQ(spaced.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(spaced.status().message(), "sec ret"));
  EXPECT_EQ(store_.GetIdpClient(acme_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IdpServiceTest, ServiceIdentitiesAreRefusedOnEveryAdminCall) {
  PutClient();
  for (const auth::Caller& s : {Service("edge"), Service("governance"), Service("tenant")}) {
    EXPECT_EQ(svc_->PutIdpClient(s, "acme", idp_.issuer(), kClientId, "", {}).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->GetIdpClientInfo(s, "acme").status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->TestIdpClient(s, "acme").status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->RotateTokenKey(s, "acme").status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->DeleteIdpClient(s, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  }
  EXPECT_TRUE(store_.GetIdpClient(acme_).ok());
}

TEST_F(IdpServiceTest, OnlyTheTenantsAdminsOrTheOperatorAdministerIt) {
  PutClient();
  EXPECT_EQ(svc_->GetIdpClientInfo(globex_admin_, "acme").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->GetIdpClientInfo(globex_admin_, acme_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->DeleteIdpClient(globex_admin_, "acme").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->GetIdpClientInfo(acme_member_, "acme").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->GetIdpClientInfo(auth::Caller{}, "acme").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(svc_->GetIdpClientInfo(Operator(), "acme").ok());
  EXPECT_TRUE(svc_->GetIdpClientInfo(acme_admin_, acme_).ok());
}

TEST_F(IdpServiceTest, OnlyTheEdgeRunsSignInsAndSignsTokens) {
  PutClient();
  for (const auth::Caller& c : {Operator(), acme_admin_, Service("governance")}) {
    EXPECT_EQ(svc_->BeginIdpSignIn(c, "acme", kCallback, "x").status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->CompleteIdpSignIn(c, "s", "c").status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->SignAccessToken(c, "acme", {"i", "a", "s", "c"}).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(svc_->GetTokenKeys(c, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  }
}

TEST_F(IdpServiceTest, SignInCompletesWithTheVerifiedIdentityAndContext) {
  PutClient();
  Redirect r = SignInAtIdp("authz-42");
  auto id = svc_->CompleteIdpSignIn(edge_, r.state, r.code);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->tenant_id, acme_);
  EXPECT_EQ(id->context, "authz-42");
  EXPECT_EQ(id->issuer, idp_.issuer());
  EXPECT_EQ(id->subject, "idp-user-1");
  EXPECT_EQ(id->email, "ana@acme.com");
  EXPECT_TRUE(id->email_verified);
  EXPECT_EQ(id->name, "Ana Example");
  EXPECT_THAT(id->claims_json, HasSubstr("\"groups\":[\"oncall\",\"sre\"]"));
  // The client authenticated with its secret.
  EXPECT_EQ(idp_.last_authorization().rfind("Basic ", 0), 0u);
  EXPECT_THAT(metrics::SerializeText(registry_),
              HasSubstr("bastion_vault_idp_sign_ins_total{outcome=\"ok\",step=\"complete\"} 1"));
}

TEST_F(IdpServiceTest, PublicClientSignsInWithPkceAlone) {
  idp_.SetClient(kClientId, "");
  PutClient("");
  Redirect r = SignInAtIdp();
  auto id = svc_->CompleteIdpSignIn(edge_, r.state, r.code);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(idp_.last_authorization(), "");
}

TEST_F(IdpServiceTest, ReplayedStateIsRefused) {
  PutClient();
  Redirect r = SignInAtIdp();
  ASSERT_TRUE(svc_->CompleteIdpSignIn(edge_, r.state, r.code).ok());
  const int exchanges = idp_.token_requests();
  auto again = svc_->CompleteIdpSignIn(edge_, r.state, r.code);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("already used"));
  EXPECT_EQ(idp_.token_requests(), exchanges);  // refused before reaching the provider
}

TEST_F(IdpServiceTest, UnknownStateIsRefused) {
  PutClient();
  auto id = svc_->CompleteIdpSignIn(edge_, "made-up-state", "code");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IdpServiceTest, SignInOlderThanTenMinutesIsRefused) {
  PutClient();
  Redirect r = SignInAtIdp();
  clock_.Advance(absl::Minutes(10) + absl::Seconds(1));
  auto id = svc_->CompleteIdpSignIn(edge_, r.state, r.code);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(id.status().message(), HasSubstr("10 minutes"));
}

TEST_F(IdpServiceTest, IdTokenWithWrongNonceIsRefused) {
  PutClient();
  idp_.SetClaimsTamper([](json::object& c) { c["nonce"] = "replayed-from-another-sign-in"; });
  Redirect r = SignInAtIdp();
  auto id = svc_->CompleteIdpSignIn(edge_, r.state, r.code);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(id.status().message(), HasSubstr("nonce"));
}

TEST_F(IdpServiceTest, IdTokenWithBadSignatureIsRefused) {
  PutClient();
  idp_.SetForgedSignature(true);
  Redirect r = SignInAtIdp();
  EXPECT_EQ(svc_->CompleteIdpSignIn(edge_, r.state, r.code).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(IdpServiceTest, IdTokenForAnotherClientIsRefused) {
  PutClient();
  idp_.SetClaimsTamper([](json::object& c) { c["aud"] = "some-other-app"; });
  Redirect r = SignInAtIdp();
  EXPECT_EQ(svc_->CompleteIdpSignIn(edge_, r.state, r.code).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(IdpServiceTest, ExpiredIdTokenIsRefused) {
  PutClient();
  idp_.SetClaimsTamper([this](json::object& c) {
    c["exp"] = absl::ToUnixSeconds(clock_.Now() - absl::Minutes(5));
  });
  Redirect r = SignInAtIdp();
  EXPECT_EQ(svc_->CompleteIdpSignIn(edge_, r.state, r.code).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(IdpServiceTest, SignInStartedBeforeTheClientChangedIsRefused) {
  PutClient();
  Redirect r = SignInAtIdp();
  ASSERT_TRUE(
      svc_->PutIdpClient(acme_admin_, "acme", idp_.issuer(), "another-client", kClientSecret, {}).ok());
  auto id = svc_->CompleteIdpSignIn(edge_, r.state, r.code);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(id.status().message(), HasSubstr("changed"));
}

TEST_F(IdpServiceTest, TenantWithoutIdpCannotStartASignIn) {
  auto begun = svc_->BeginIdpSignIn(edge_, "acme", kCallback, "x");
  EXPECT_EQ(begun.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(begun.status().message(), HasSubstr("bastionctl idp set"));
}

TEST_F(IdpServiceTest, TestReportsWhatItFoundInWords) {
  PutClient();
  auto ok = svc_->TestIdpClient(acme_admin_, "acme");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->signing_keys, 1);
  EXPECT_EQ(ok->provider.jwks_uri, idp_.issuer() + "/jwks");
  EXPECT_THAT(ok->findings[0], HasSubstr("issuer is exactly"));
  EXPECT_TRUE(store_.GetIdpClient(acme_)->last_tested_at.has_value());

  idp_.SetDiscoveryIssuer("https://login.other.example");
  auto bad = svc_->TestIdpClient(acme_admin_, "acme");
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_FALSE(bad->ok);
  ASSERT_EQ(bad->findings.size(), 1u);
  EXPECT_THAT(bad->findings[0], HasSubstr("names issuer 'https://login.other.example'"));
}

TEST_F(IdpServiceTest, DeletedClientEndsPendingSignIns) {
  PutClient();
  Redirect r = SignInAtIdp();
  auto gone = svc_->DeleteIdpClient(acme_admin_, "acme");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(svc_->CompleteIdpSignIn(edge_, r.state, r.code).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc_->GetIdpClientInfo(acme_admin_, "acme").status().code(), absl::StatusCode::kNotFound);
}

AccessTokenRequest TokenFor(const std::string& subject) {
  AccessTokenRequest r;
  r.issuer = "https://bastion.example/oauth/acme";
  r.audience = "https://bastion.example/mcp/acme/pagerduty";
  r.subject = subject;
  r.client_id = "https://claude.ai/oauth/mcp-client-metadata";
  r.scope = "mcp";
  r.grant_id = "grant-1";
  r.email = "ana@acme.com";
  return r;
}

absl::StatusOr<jose::Verified> VerifyWith(const std::string& token, const PublishedKeys& keys) {
  auto set = jose::KeySet::FromJwks(keys.jwks_json);
  if (!set.ok()) return set.status();
  return jose::Verify(token, *set, {jose::Algorithm::kEs256});
}

TEST_F(IdpServiceTest, AccessTokenCarriesRfc9068ClaimsAndVerifiesWithThePublishedKeys) {
  auto signed_token = svc_->SignAccessToken(edge_, "acme", TokenFor("user-1"));
  ASSERT_TRUE(signed_token.ok()) << signed_token.status();
  auto keys = svc_->GetTokenKeys(edge_, "acme");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_THAT(keys->jwks_json, ::testing::Not(HasSubstr("\"d\"")));  // public members only
  auto v = VerifyWith(signed_token->token, *keys);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->header["typ"].as_string(), "at+jwt");
  EXPECT_EQ(v->header["kid"].as_string(), keys->current_kid);
  json::object& c = v->claims;
  EXPECT_EQ(c["iss"].as_string(), "https://bastion.example/oauth/acme");
  EXPECT_EQ(c["aud"].as_string(), "https://bastion.example/mcp/acme/pagerduty");
  EXPECT_EQ(c["sub"].as_string(), "user-1");
  EXPECT_EQ(c["client_id"].as_string(), "https://claude.ai/oauth/mcp-client-metadata");
  EXPECT_EQ(c["scope"].as_string(), "mcp");
  EXPECT_EQ(c["tid"].as_string(), acme_);
  EXPECT_EQ(c["gid"].as_string(), "grant-1");
  EXPECT_EQ(c["email"].as_string(), "ana@acme.com");
  EXPECT_FALSE(c["jti"].as_string().empty());
  EXPECT_EQ(c["exp"].to_number<int64_t>() - c["iat"].to_number<int64_t>(), 300);
  EXPECT_EQ(signed_token->expires_at, absl::FromUnixSeconds(c["exp"].to_number<int64_t>()));
  // Another tenant's keys do not verify it.
  auto globex_keys = svc_->GetTokenKeys(edge_, "globex");
  ASSERT_TRUE(globex_keys.ok());
  EXPECT_FALSE(VerifyWith(signed_token->token, *globex_keys).ok());
}

TEST_F(IdpServiceTest, TokenLifetimeIsAtMostAnHour) {
  AccessTokenRequest r = TokenFor("user-1");
  r.lifetime = absl::Seconds(3601);
  EXPECT_EQ(svc_->SignAccessToken(edge_, "acme", r).status().code(), absl::StatusCode::kInvalidArgument);
  r.lifetime = absl::Seconds(-5);
  EXPECT_EQ(svc_->SignAccessToken(edge_, "acme", r).status().code(), absl::StatusCode::kInvalidArgument);
  r.lifetime = absl::Seconds(3600);
  EXPECT_TRUE(svc_->SignAccessToken(edge_, "acme", r).ok());
  AccessTokenRequest no_sub = TokenFor("");
  EXPECT_EQ(svc_->SignAccessToken(edge_, "acme", no_sub).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IdpServiceTest, SigningKeyIsCreatedOnceAndSealed) {
  ASSERT_TRUE(svc_->SignAccessToken(edge_, "acme", TokenFor("u")).ok());
  ASSERT_TRUE(svc_->SignAccessToken(edge_, "acme", TokenFor("u")).ok());
  auto stored = store_.ListTokenKeys(acme_);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_FALSE(absl::StrContains(stored->front().private_key_sealed, "PRIVATE KEY"));
  EXPECT_TRUE(envelope_->Open(acme_, TokenKeyAad(acme_, stored->front().kid),
                              stored->front().private_key_sealed)
                  .ok());
  // A second replica (another service over the same store) uses the same key.
  metrics::Registry other_registry;
  IdpService other(store_, *envelope_, directory_, *oidc_, clock_, other_registry);
  auto t = other.SignAccessToken(edge_, "acme", TokenFor("u"));
  ASSERT_TRUE(t.ok());
  auto keys = svc_->GetTokenKeys(edge_, "acme");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(VerifyWith(t->token, *keys).ok());
}

TEST_F(IdpServiceTest, RotationKeepsThePreviousKeyPublishedUntilItsTokensExpire) {
  auto before = svc_->SignAccessToken(edge_, "acme", TokenFor("u"));
  ASSERT_TRUE(before.ok());
  auto old_keys = svc_->GetTokenKeys(edge_, "acme");
  ASSERT_TRUE(old_keys.ok());
  EXPECT_EQ(svc_->RotateTokenKey(acme_member_, "acme").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto rotated = svc_->RotateTokenKey(acme_admin_, "acme");
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_NE(rotated->current_kid, old_keys->current_kid);
  auto after = svc_->SignAccessToken(edge_, "acme", TokenFor("u"));
  ASSERT_TRUE(after.ok());
  auto keys = svc_->GetTokenKeys(edge_, "acme");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->current_kid, rotated->current_kid);
  auto v = VerifyWith(after->token, *keys);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->header["kid"].as_string(), rotated->current_kid);
  EXPECT_TRUE(VerifyWith(before->token, *keys).ok());  // the previous key is still published
  // Once every token of the old key has expired, it is no longer published.
  clock_.Advance(absl::Hours(2));
  auto later = svc_->GetTokenKeys(edge_, "acme");
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(VerifyWith(before->token, *later).ok());
  EXPECT_THAT(later->jwks_json, HasSubstr(rotated->current_kid));
}

}  // namespace
}  // namespace bastion::vault
