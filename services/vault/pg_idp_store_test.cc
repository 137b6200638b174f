// The vault's sign-in tables on a real Postgres: the store's contract (one take per sign-in,
// cascade on delete, one current key per tenant, rotation), and the logic over it with the fake
// identity provider, including what lands in the tables.
#include "services/vault/pg_idp_store.h"

#include <thread>

#include "absl/strings/match.h"
#include "common/http/http_client.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/idp_service.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/testing/browser.h"
#include "services/vault/testing/fake_idp.h"
#include "services/vault/vault_migrations.h"

namespace bastion::vault {
namespace {

constexpr char kClientSecret[] = "idp-client-secret-of-acme-77";

class PgIdpStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "vault", migrations::vault_migrations()).ok());
    store_ = std::make_unique<PgIdpStore>(*pool_);
    acme_ = tenants_.AddTenant("acme");
    globex_ = tenants_.AddTenant("globex");
  }

  IdpClient Client(const std::string& tenant_id) {
    IdpClient c;
    c.tenant_id = tenant_id;
    c.issuer = "https://login.acme.example";
    c.client_id = "bastion";
    c.client_secret_sealed = std::string("\x01\x02sealed") + '\0' + "bytes";
    c.client_secret_hint = "e-77";
    c.scopes = {"openid", "email"};
    c.created_at = c.updated_at = absl::FromUnixSeconds(1800000000);
    return c;
  }

  IdpSignIn SignIn(const std::string& tenant_id, const std::string& hash, absl::Time expires) {
    IdpSignIn s;
    s.state_hash = hash;
    s.tenant_id = tenant_id;
    s.issuer = "https://login.acme.example";
    s.client_id = "bastion";
    s.redirect_uri = "https://bastion.example/oauth/acme/callback";
    s.context = "authz-1";
    s.code_verifier_sealed = "verifier-sealed";
    s.nonce_sealed = "nonce-sealed";
    s.created_at = expires - absl::Minutes(10);
    s.expires_at = expires;
    return s;
  }

  TokenKey Key(const std::string& tenant_id, const std::string& kid, absl::Time at) {
    TokenKey k;
    k.tenant_id = tenant_id;
    k.kid = kid;
    k.private_key_sealed = "sealed-" + kid;
    k.public_jwk = "{\"kid\":\"" + kid + "\"}";
    k.created_at = at;
    return k;
  }

  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgIdpStore> store_;
  tenant::FakeTenantClient tenants_;
  std::string acme_, globex_;
};

TEST_F(PgIdpStoreTest, ClientRoundTripsAndReplacingClearsTheLastTest) {
  ASSERT_TRUE(store_->UpsertIdpClient(Client(acme_)).ok());
  auto got = store_->GetIdpClient(acme_);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->issuer, "https://login.acme.example");
  EXPECT_EQ(got->client_secret_sealed, std::string("\x01\x02sealed") + '\0' + "bytes");
  EXPECT_EQ(got->scopes, (std::vector<std::string>{"openid", "email"}));
  EXPECT_FALSE(got->last_tested_at.has_value());
  ASSERT_TRUE(store_->SetIdpClientTested(acme_, absl::FromUnixSeconds(1800000100)).ok());
  EXPECT_EQ(store_->GetIdpClient(acme_)->last_tested_at, absl::FromUnixSeconds(1800000100));

  IdpClient next = Client(acme_);
  next.client_secret_sealed.clear();  // now a public client
  next.client_secret_hint.clear();
  next.updated_at = absl::FromUnixSeconds(1800000200);
  ASSERT_TRUE(store_->UpsertIdpClient(next).ok());
  got = store_->GetIdpClient(acme_);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->client_secret_sealed.empty());
  EXPECT_EQ(got->created_at, absl::FromUnixSeconds(1800000000));
  EXPECT_EQ(got->updated_at, absl::FromUnixSeconds(1800000200));
  EXPECT_FALSE(got->last_tested_at.has_value());
  EXPECT_EQ(store_->GetIdpClient(globex_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetIdpClient("not-a-uuid").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgIdpStoreTest, SignInIsTakenOnceAndGoesWithItsClient) {
  ASSERT_TRUE(store_->UpsertIdpClient(Client(acme_)).ok());
  const absl::Time t = absl::FromUnixSeconds(1800000600);
  ASSERT_TRUE(store_->InsertIdpSignIn(SignIn(acme_, "h1", t)).ok());
  ASSERT_TRUE(store_->InsertIdpSignIn(SignIn(acme_, "h2", t)).ok());
  ASSERT_TRUE(store_->InsertIdpSignIn(SignIn(acme_, "h3", t - absl::Minutes(20))).ok());
  // A sign-in for a tenant without a client cannot be stored.
  EXPECT_FALSE(store_->InsertIdpSignIn(SignIn(globex_, "h4", t)).ok());

  auto taken = store_->TakeIdpSignIn("h1");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->context, "authz-1");
  EXPECT_EQ(taken->nonce_sealed, "nonce-sealed");
  EXPECT_EQ(taken->expires_at, t);
  EXPECT_EQ(store_->TakeIdpSignIn("h1").status().code(), absl::StatusCode::kNotFound);

  auto purged = store_->DeleteExpiredIdpSignIns(t - absl::Minutes(1));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);  // h3

  ASSERT_TRUE(store_->DeleteIdpClient(acme_).ok());
  EXPECT_EQ(store_->TakeIdpSignIn("h2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteIdpClient(acme_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgIdpStoreTest, OneCurrentKeyPerTenantAndRotationRetiresIt) {
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  ASSERT_TRUE(store_->InsertTokenKeyIfNoCurrent(Key(acme_, "k1", t0)).ok());
  // A replica racing to create the first key loses quietly.
  ASSERT_TRUE(store_->InsertTokenKeyIfNoCurrent(Key(acme_, "k1b", t0)).ok());
  auto keys = store_->ListTokenKeys(acme_);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().kid, "k1");
  EXPECT_EQ(keys->front().private_key_sealed, "sealed-k1");

  ASSERT_TRUE(store_->RotateTokenKey(Key(acme_, "k2", t0 + absl::Hours(1)), t0).ok());
  ASSERT_TRUE(store_->RotateTokenKey(Key(acme_, "k3", t0 + absl::Hours(30)),
                                     t0 + absl::Hours(6)).ok());  // forgets k1 (retired at 1 h)
  keys = store_->ListTokenKeys(acme_);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->at(0).kid, "k3");
  EXPECT_FALSE(keys->at(0).retired_at.has_value());
  EXPECT_EQ(keys->at(1).kid, "k2");
  EXPECT_EQ(keys->at(1).retired_at, t0 + absl::Hours(30));
  EXPECT_TRUE(store_->ListTokenKeys(globex_)->empty());
}

// The logic over Postgres: after a sign-in and a signed token, the tables hold ciphertext only,
// and a sealed value moved to another tenant's row does not open.
TEST_F(PgIdpStoreTest, TablesHoldCiphertextOnlyAndMovedSecretsDoNotOpen) {
  PgVaultStore vault_store(*pool_);
  auto ring = Keyring::Parse("1 " + crypto::Base64Encode(std::string(32, 'k')), "test");
  ASSERT_TRUE(ring.ok());
  auto keys = KeyringSource::Fixed(*std::move(ring));
  Envelope envelope(*keys, vault_store, RealClock::Get());
  FakeIdp idp(RealClock::Get());
  ASSERT_TRUE(idp.Start().ok());
  idp.SetClient("bastion-acme", kClientSecret);
  http::CurlHttpClient http;
  OidcOptions o;
  o.allow_http_loopback = true;
  OidcClient oidc(http, RealClock::Get(), o);
  TenantDirectory directory(tenants_, RealClock::Get());
  metrics::Registry registry;
  IdpService svc(*store_, envelope, directory, oidc, RealClock::Get(), registry);
  auth::Caller op;
  op.kind = auth::Caller::Kind::kOperator;
  auth::Caller edge;
  edge.kind = auth::Caller::Kind::kService;
  edge.service = "edge";

  ASSERT_TRUE(svc.PutIdpClient(op, "acme", idp.issuer(), "bastion-acme", kClientSecret, {}).ok());
  ASSERT_TRUE(svc.PutIdpClient(op, "globex", idp.issuer(), "bastion-globex", "", {}).ok());
  auto begun = svc.BeginIdpSignIn(edge, "acme", "http://127.0.0.1:1/cb", "ctx");
  ASSERT_TRUE(begun.ok()) << begun.status();
  ASSERT_TRUE(svc.SignAccessToken(edge, "acme", {"https://b.example/oauth/acme",
                                                 "https://b.example/mcp/acme/pagerduty", "u",
                                                 "client"}).ok());
  const std::string nonce = QueryOf(begun->authorization_url)["nonce"];
  const std::string state = QueryOf(begun->authorization_url)["state"];

  auto dump = pool_->Execute(
      pg::Statement{"test_dump_idp",
                    "SELECT coalesce(encode(client_secret_sealed, 'escape'), '') FROM "
                    "vault.idp_clients UNION ALL SELECT encode(nonce_sealed, 'escape') || "
                    "encode(code_verifier_sealed, 'escape') || state_hash FROM "
                    "vault.idp_sign_ins UNION ALL SELECT encode(private_key_sealed, 'escape') "
                    "FROM vault.token_keys"},
      {}, absl::Seconds(5));
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->rows(), 4);
  for (int i = 0; i < dump->rows(); ++i) {
    const std::string row = dump->GetString(i, 0).value_or("");
    EXPECT_FALSE(absl::StrContains(row, kClientSecret));
    EXPECT_FALSE(absl::StrContains(row, nonce));
    EXPECT_FALSE(absl::StrContains(row, state));
    EXPECT_FALSE(absl::StrContains(row, "PRIVATE KEY"));
  }

  // Copy acme's sealed client secret onto globex's row: it must not open there.
  ASSERT_TRUE(pool_->Execute(pg::Statement{"test_move_secret",
                                           "UPDATE vault.idp_clients SET client_secret_sealed = "
                                           "(SELECT client_secret_sealed FROM vault.idp_clients "
                                           "WHERE tenant_id = $1) WHERE tenant_id = $2"},
                             {acme_, globex_}, absl::Seconds(5))
                  .ok());
  auto moved = store_->GetIdpClient(globex_);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(envelope.Open(globex_, IdpClientAad(globex_), moved->client_secret_sealed).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace bastion::vault
