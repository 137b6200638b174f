#include "services/tenant/pg_signin_store.h"

#include <atomic>
#include <thread>

#include "common/crypto/crypto.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/pg_tenant_store.h"
#include "services/tenant/signin_service.h"
#include "services/tenant/tenant_migrations.h"
#include "services/tenant/tenant_service.h"

namespace bastion::tenant {
namespace {

using ::testing::ElementsAre;

constexpr char kRedirect[] = "http://127.0.0.1/callback";
constexpr char kResource[] = "https://bastion.example/mcp/acme/pagerduty";

class PgSignInStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    o.max_connections = 16;
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "tenant", migrations::tenant_migrations()).ok());
    tenant_store_ = std::make_unique<PgTenantStore>(*pool_);
    store_ = std::make_unique<PgSignInStore>(*pool_);
    tenants_ = std::make_unique<TenantService>(*tenant_store_, clock_);
    signin_ = std::make_unique<SignInService>(*tenant_store_, *store_, clock_);
    acme_ = *tenants_->CreateTenant(op_, "acme", "");
    ASSERT_TRUE(tenants_->SetAiAccess(op_, "acme", true).ok());
    ana_ = *tenants_->CreateUser(op_, "acme", "ana@acme.com", "Ana", Role::kMember);
    SignInPolicy p;
    p.issuer = "https://login.acme.example";
    p.allowed_domains = {"acme.com", "acme.io"};
    p.groups_claim = "groups";
    ASSERT_TRUE(signin_->SetPolicy(op_, "acme", p).ok());
    auto c = signin_->RegisterClient(edge_, {"acme", "Claude Code", {kRedirect, "com.example.app:/cb"}, "", ""});
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *c;
  }

  std::string Code() {
    BeginAuthorizationRequest r{"acme", client_.client_id, "http://127.0.0.1:40123/callback",
                                crypto::Base64UrlEncode(crypto::Sha256(verifier_)), "S256", "st", kResource,
                                "pagerduty", "", binding_};
    auto pending = signin_->BeginAuthorization(edge_, r);
    EXPECT_TRUE(pending.ok()) << pending.status();
    VerifiedSignIn v{pending->id, binding_, "https://login.acme.example", "sub", "ana@acme.com", true, "Ana",
                     R"({"groups":["oncall"]})"};
    auto prompt = signin_->CompleteSignIn(edge_, v);
    EXPECT_TRUE(prompt.ok()) << prompt.status();
    auto d = signin_->DecideConsent(edge_, pending->id, prompt->consent_token, binding_, true);
    EXPECT_TRUE(d.ok()) << d.status();
    return d->code;
  }

  RedeemCodeRequest Redeem(const std::string& code) {
    return {"acme", code, client_.client_id, "http://127.0.0.1:40123/callback", verifier_, kResource};
  }

  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgTenantStore> tenant_store_;
  std::unique_ptr<PgSignInStore> store_;
  FakeClock clock_;
  std::unique_ptr<TenantService> tenants_;
  std::unique_ptr<SignInService> signin_;
  const Caller op_ = Caller::Operator();
  const Caller edge_ = Caller::Service("edge");
  const std::string verifier_ = crypto::RandomToken("", 32);
  const std::string binding_ = crypto::HexEncode(crypto::Sha256("cookie"));
  Tenant acme_;
  User ana_;
  OAuthClient client_;
};

TEST_F(PgSignInStoreTest, PolicyAndClientsRoundTrip) {
  auto p = signin_->GetPolicy(op_, "acme");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->issuer, "https://login.acme.example");
  EXPECT_THAT(p->allowed_domains, ElementsAre("acme.com", "acme.io"));
  EXPECT_EQ(p->groups_claim, "groups");
  EXPECT_FALSE(p->jit_users);
  auto c = signin_->GetClient(edge_, "acme", client_.client_id);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->client_name, "Claude Code");
  EXPECT_THAT(c->redirect_uris, ElementsAre(kRedirect, "com.example.app:/cb"));
  EXPECT_EQ(c->kind, OAuthClientKind::kRegistration);
  EXPECT_EQ(c->expires_at, clock_.Now() + absl::Hours(24));

  OAuthClient doc;
  doc.client_id = "https://app.example/client.json";
  doc.client_name = "App";
  doc.redirect_uris = {"https://app.example/cb"};
  doc.expires_at = clock_.Now() + absl::Hours(1);
  ASSERT_TRUE(signin_->PutMetadataDocumentClient(edge_, "acme", doc).ok());
  ASSERT_TRUE(store_->ExtendClient(acme_.id, doc.client_id, clock_.Now() + absl::Hours(24 * 30)).ok());
  EXPECT_EQ(signin_->GetClient(edge_, "acme", doc.client_id)->expires_at, clock_.Now() + absl::Hours(1));
  doc.client_name = "App, renamed";
  ASSERT_TRUE(signin_->PutMetadataDocumentClient(edge_, "acme", doc).ok());
  EXPECT_EQ(signin_->GetClient(edge_, "acme", doc.client_id)->client_name, "App, renamed");
  // Other tenants do not see it.
  ASSERT_TRUE(tenants_->CreateTenant(op_, "globex", "").ok());
  EXPECT_FALSE(signin_->GetClient(edge_, "globex", doc.client_id).ok());
}

TEST_F(PgSignInStoreTest, UnusedRegistrationsExpireAndArePrunedUsedOnesStay) {
  const std::string code = Code();
  ASSERT_TRUE(signin_->RedeemCode(edge_, Redeem(code)).ok());
  auto unused = signin_->RegisterClient(edge_, {"acme", "Unused", {kRedirect}, "", ""});
  ASSERT_TRUE(unused.ok());
  clock_.Advance(absl::Hours(25));
  EXPECT_FALSE(signin_->GetClient(edge_, "acme", unused->client_id).ok());
  EXPECT_TRUE(signin_->GetClient(edge_, "acme", client_.client_id).ok());
  ASSERT_TRUE(signin_->RegisterClient(edge_, {"acme", "New", {kRedirect}, "", ""}).ok());  // prunes
  auto rows = pool_->Execute({"count_clients", "SELECT count(*) FROM tenant.oauth_clients"}, {}, absl::Seconds(5));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows->GetInt64(0, 0), 2);
}

TEST_F(PgSignInStoreTest, TheWholeFlowStoresOnlyHashesAndSyncsGroups) {
  Group oncall = *tenants_->CreateGroup(op_, "acme", "oncall");
  const std::string code = Code();
  auto g = signin_->RedeemCode(edge_, Redeem(code));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(g->identity.group_ids, ElementsAre(oncall.id));
  auto rows = pool_->Execute({"secrets", "SELECT (SELECT string_agg(code_hash, ',') FROM tenant.oauth_codes), "
                                         "(SELECT string_agg(token_hash, ',') FROM tenant.oauth_refresh_tokens)"},
                             {}, absl::Seconds(5));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows->GetString(0, 0), crypto::HexEncode(crypto::Sha256(code)));
  EXPECT_EQ(*rows->GetString(0, 1), crypto::HexEncode(crypto::Sha256(g->refresh_token)));

  auto listed = signin_->ListGrants(op_, "acme", "ana@acme.com", false);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().user_email, "ana@acme.com");
  EXPECT_EQ(listed->front().client_name, "Claude Code");
  EXPECT_EQ(listed->front().resource, kResource);
}

TEST_F(PgSignInStoreTest, ReusedCodeRevokesItsGrant) {
  const std::string code = Code();
  auto first = signin_->RedeemCode(edge_, Redeem(code));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(signin_->RedeemCode(edge_, Redeem(code)).status().code(), absl::StatusCode::kFailedPrecondition);
  auto grant = signin_->ListGrants(op_, "acme", "", true)->front();
  EXPECT_EQ(grant.revoked_reason, "code_reuse");
  auto feed = signin_->ListRevocations(edge_, 0, 10);
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ(feed->front().id, first->grant_id);
}

TEST_F(PgSignInStoreTest, ConcurrentRedemptionsOfOneCodeNeverYieldALiveGrant) {
  const std::string code = Code();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (signin_->RedeemCode(edge_, Redeem(code)).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(ok.load(), 1);
  // Someone redeemed it twice, so whatever was issued is revoked.
  EXPECT_TRUE(signin_->ListGrants(op_, "acme", "", false)->empty());
}

TEST_F(PgSignInStoreTest, RefreshRotatesAndReuseRevokesTheFamily) {
  auto g = signin_->RedeemCode(edge_, Redeem(Code()));
  ASSERT_TRUE(g.ok());
  auto next = signin_->RefreshGrant(edge_, {"acme", g->refresh_token, client_.client_id, ""});
  ASSERT_TRUE(next.ok()) << next.status();
  auto reuse = signin_->RefreshGrant(edge_, {"acme", g->refresh_token, client_.client_id, ""});
  EXPECT_EQ(reuse.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(signin_->RefreshGrant(edge_, {"acme", next->refresh_token, client_.client_id, ""}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(signin_->ListGrants(op_, "acme", "", true)->front().revoked_reason, "refresh_token_reuse");
}

TEST_F(PgSignInStoreTest, ConcurrentRefreshesWithOneTokenLetAtMostOneWin) {
  auto g = signin_->RedeemCode(edge_, Redeem(Code()));
  ASSERT_TRUE(g.ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (signin_->RefreshGrant(edge_, {"acme", g->refresh_token, client_.client_id, ""}).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(ok.load(), 1);
}

TEST_F(PgSignInStoreTest, RevocationFeedHoldsDisabledUsersForFifteenMinutes) {
  ASSERT_TRUE(tenants_->DisableUser(op_, "acme", "ana@acme.com").ok());
  auto feed = signin_->ListRevocations(edge_, 0, 10);
  ASSERT_TRUE(feed.ok()) << feed.status();
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ(feed->front().kind, Revocation::Kind::kUser);
  EXPECT_EQ(feed->front().id, ana_.id);
  EXPECT_EQ(feed->front().tenant_id, acme_.id);
  EXPECT_TRUE(signin_->ListRevocations(edge_, feed->front().seq, 10)->empty());
  clock_.Advance(absl::Minutes(16));
  EXPECT_TRUE(signin_->ListRevocations(edge_, 0, 10)->empty());
}

TEST_F(PgSignInStoreTest, ConsentIsUsedOnce) {
  BeginAuthorizationRequest r{"acme", client_.client_id, kRedirect, crypto::Base64UrlEncode(crypto::Sha256(verifier_)),
                              "S256", "", kResource, "pagerduty", "mcp", binding_};
  auto pending = signin_->BeginAuthorization(edge_, r);
  ASSERT_TRUE(pending.ok()) << pending.status();
  VerifiedSignIn v{pending->id, binding_, "https://login.acme.example", "sub", "ana@acme.com", true, "", "{}"};
  auto prompt = signin_->CompleteSignIn(edge_, v);
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  EXPECT_FALSE(signin_->CompleteSignIn(edge_, v).ok());
  ASSERT_TRUE(signin_->DecideConsent(edge_, pending->id, prompt->consent_token, binding_, true).ok());
  EXPECT_EQ(signin_->DecideConsent(edge_, pending->id, prompt->consent_token, binding_, true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bastion::tenant
