// The OpenID Connect relying party against a fake identity provider on loopback (real HTTP).
#include "services/vault/oidc.h"

#include "common/http/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/vault/oauth.h"
#include "services/vault/testing/browser.h"
#include "services/vault/testing/fake_idp.h"

namespace bastion::vault {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kClientId[] = "bastion-acme";

class OidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(idp_.Start().ok());
    options_.allow_http_loopback = true;
    options_.fetch_timeout = absl::Seconds(5);
    oidc_ = std::make_unique<OidcClient>(http_, clock_, options_);
  }

  void Reset(OidcOptions options) { oidc_ = std::make_unique<OidcClient>(http_, clock_, options); }

  ProviderMetadata Provider() {
    auto p = oidc_->Discover(idp_.issuer());
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : ProviderMetadata{};
  }

  absl::StatusOr<json::object> Verify(const std::string& token, const std::string& nonce = "n-1") {
    return oidc_->VerifyIdToken(Provider(), token, {idp_.issuer(), kClientId, nonce});
  }

  FakeClock clock_{absl::Now()};
  FakeIdp idp_{clock_};
  http::CurlHttpClient http_;
  OidcOptions options_;
  std::unique_ptr<OidcClient> oidc_;
};

TEST(CheckProviderUrlTest, HttpsRequiredAndHttpOnlyToLoopbackWhenAllowed) {
  EXPECT_TRUE(CheckProviderUrl("https://login.acme.example", false, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("http://login.acme.example", true, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("http://127.0.0.1:8080", false, "issuer").ok());
  EXPECT_TRUE(CheckProviderUrl("http://127.0.0.1:8080/realm", true, "issuer").ok());
  EXPECT_TRUE(CheckProviderUrl("http://localhost:8080", true, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("http://127.0.0.1.evil.example", true, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("https://user@login.acme.example", false, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("https://login.acme.example/#x", false, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("ftp://login.acme.example", false, "issuer").ok());
  EXPECT_FALSE(CheckProviderUrl("https://", false, "issuer").ok());
}

TEST_F(OidcTest, DiscoveryReadsTheProvidersEndpoints) {
  ProviderMetadata p = Provider();
  EXPECT_EQ(p.issuer, idp_.issuer());
  EXPECT_EQ(p.authorization_endpoint, idp_.issuer() + "/authorize");
  EXPECT_EQ(p.token_endpoint, idp_.issuer() + "/token");
  EXPECT_EQ(p.jwks_uri, idp_.issuer() + "/jwks");
}

TEST_F(OidcTest, DiscoveryNamingAnotherIssuerIsRefused) {
  idp_.SetDiscoveryIssuer("https://evil.example");
  auto p = oidc_->Discover(idp_.issuer());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(p.status().message(), HasSubstr("names issuer 'https://evil.example'"));
}

TEST_F(OidcTest, PlainHttpProviderIsRefusedUnlessAllowedForLoopback) {
  OidcOptions strict;
  Reset(strict);
  auto p = oidc_->Discover(idp_.issuer());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("https"));
}

TEST_F(OidcTest, OversizedDiscoveryDocumentIsRefused) {
  idp_.SetDiscoveryPadding(100 * 1024);
  auto p = oidc_->Discover(idp_.issuer());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(p.status().message(), HasSubstr("larger than 65536 bytes"));
}

TEST_F(OidcTest, SlowDiscoveryGivesUpAtTheDeadline) {
  idp_.SetDiscoveryHeld(true);
  OidcOptions quick = options_;
  quick.fetch_timeout = absl::Milliseconds(300);
  Reset(quick);
  auto p = oidc_->Discover(idp_.issuer());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(p.status().message(), HasSubstr("did not arrive within"));
}

TEST_F(OidcTest, DiscoveryIsCached) {
  Provider();
  idp_.SetDiscoveryIssuer("https://changed.example");
  EXPECT_TRUE(oidc_->Discover(idp_.issuer()).ok());
  EXPECT_FALSE(oidc_->Discover(idp_.issuer(), OidcClient::Fetching::kFresh).ok());
}

TEST_F(OidcTest, AuthorizationUrlCarriesPkceStateAndNonce) {
  const std::string url = oidc_->AuthorizationUrl(
      Provider(), {kClientId, "https://edge.example/oauth/acme/callback",
                   {"openid", "email"}, "st", "nc", PkceChallenge("verifier")});
  auto q = QueryOf(url);
  EXPECT_EQ(url.rfind(idp_.issuer() + "/authorize?", 0), 0u);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["client_id"], kClientId);
  EXPECT_EQ(q["redirect_uri"], "https://edge.example/oauth/acme/callback");
  EXPECT_EQ(q["scope"], "openid email");
  EXPECT_EQ(q["state"], "st");
  EXPECT_EQ(q["nonce"], "nc");
  EXPECT_EQ(q["code_challenge"], PkceChallenge("verifier"));
  EXPECT_EQ(q["code_challenge_method"], "S256");
}

TEST_F(OidcTest, GoodIdTokenVerifies) {
  auto claims = Verify(idp_.MintIdToken(kClientId, "n-1"));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ((*claims)["email"].as_string(), "ana@acme.com");
}

TEST_F(OidcTest, Rs256IdTokenVerifies) {
  idp_.UseRsa();
  const std::string token = idp_.MintIdToken(kClientId, "n-1");
  auto claims = Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ((*claims)["sub"].as_string(), "idp-user-1");
}

TEST_F(OidcTest, IdTokenWithBadSignatureIsRefused) {
  idp_.SetForgedSignature(true);
  auto claims = Verify(idp_.MintIdToken(kClientId, "n-1"));
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, IdTokenForAnotherAudienceIsRefused) {
  auto claims = Verify(idp_.MintIdToken("another-client", "n-1"));
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, IdTokenWithWrongNonceIsRefused) {
  auto claims = Verify(idp_.MintIdToken(kClientId, "n-2"), "n-1");
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(claims.status().message(), HasSubstr("nonce"));
}

TEST_F(OidcTest, ExpiredIdTokenIsRefused) {
  const std::string token = idp_.MintIdToken(kClientId, "n-1");
  ProviderMetadata p = Provider();
  clock_.Advance(absl::Minutes(10));  // exp was 5 minutes after issue; leeway is 1 minute
  auto claims = oidc_->VerifyIdToken(p, token, {idp_.issuer(), kClientId, "n-1"});
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, IdTokenFromAnotherIssuerIsRefused) {
  idp_.SetClaimsTamper([](json::object& c) { c["iss"] = "https://evil.example"; });
  EXPECT_EQ(Verify(idp_.MintIdToken(kClientId, "n-1")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, SeveralAudiencesNeedAzpNamingThisClient) {
  idp_.SetClaimsTamper([](json::object& c) { c["aud"] = json::array{kClientId, "other"}; });
  EXPECT_FALSE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
  idp_.SetClaimsTamper([](json::object& c) {
    c["aud"] = json::array{kClientId, "other"};
    c["azp"] = "other";
  });
  EXPECT_FALSE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
  idp_.SetClaimsTamper([](json::object& c) {
    c["aud"] = json::array{kClientId, "other"};
    c["azp"] = kClientId;
  });
  EXPECT_TRUE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
}

TEST_F(OidcTest, IdTokenWithoutIatOrSubIsRefused) {
  idp_.SetClaimsTamper([](json::object& c) { c.erase("iat"); });
  EXPECT_FALSE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
  idp_.SetClaimsTamper([](json::object& c) { c.erase("sub"); });
  EXPECT_FALSE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
}

TEST_F(OidcTest, ProviderKeyRotationIsFollowedAndRefetchesAreRateLimited) {
  ASSERT_TRUE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
  EXPECT_EQ(idp_.jwks_fetches(), 1);
  clock_.Advance(absl::Seconds(31));
  idp_.RotateKey();
  // A token signed by a key the cache does not know: one refetch, then it verifies.
  ASSERT_TRUE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
  EXPECT_EQ(idp_.jwks_fetches(), 2);
  // Made-up key ids do not make the vault refetch again within jwks_min_refetch.
  idp_.RotateKey();
  EXPECT_FALSE(Verify(idp_.MintIdToken(kClientId, "n-1")).ok());
  EXPECT_EQ(idp_.jwks_fetches(), 2);
  clock_.Advance(absl::Seconds(31));
  auto later = Verify(idp_.MintIdToken(kClientId, "n-1"));
  EXPECT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(idp_.jwks_fetches(), 3);
}

TEST_F(OidcTest, ConfidentialClientAuthenticatesWithBasic) {
  idp_.SetClient(kClientId, "s3cret:with/odd+chars");
  ProviderMetadata p = Provider();
  const std::string verifier = "v-123456789";
  Redirect r = FollowAuthorizeUrl(
      http_, oidc_->AuthorizationUrl(p, {kClientId, "https://edge.example/cb", {"openid"}, "st",
                                         "n-1", PkceChallenge(verifier)}));
  ASSERT_EQ(r.status, 302);
  auto token = oidc_->ExchangeCode(p, kClientId, "s3cret:with/odd+chars", r.code,
                                   "https://edge.example/cb", verifier);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(idp_.last_authorization().rfind("Basic ", 0), 0u);
  // The code was used once.
  auto again = oidc_->ExchangeCode(p, kClientId, "s3cret:with/odd+chars", r.code, "https://edge.example/cb",
                                   verifier);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("invalid_grant"));
}

TEST_F(OidcTest, PublicClientSendsNoSecretAndAWrongVerifierFails) {
  ProviderMetadata p = Provider();
  Redirect r = FollowAuthorizeUrl(
      http_, oidc_->AuthorizationUrl(p, {kClientId, "https://edge.example/cb", {"openid"}, "st",
                                         "n-1", PkceChallenge("right-verifier")}));
  ASSERT_EQ(r.status, 302);
  auto bad = oidc_->ExchangeCode(p, kClientId, "", r.code, "https://edge.example/cb", "wrong");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(idp_.last_authorization(), "");
}

}  // namespace
}  // namespace bastion::vault
