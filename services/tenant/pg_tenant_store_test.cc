#include "services/tenant/pg_tenant_store.h"

#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/tenant_migrations.h"
#include "services/tenant/tenant_service.h"

namespace bastion::tenant {
namespace {

class PgTenantStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "tenant", migrations::tenant_migrations()).ok());
    store_ = std::make_unique<PgTenantStore>(*pool_);
    svc_ = std::make_unique<TenantService>(*store_, clock_);
  }

  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgTenantStore> store_;
  FakeClock clock_;
  std::unique_ptr<TenantService> svc_;
  const Caller op_ = Caller::Operator();
};

TEST_F(PgTenantStoreTest, TenantsRoundTripWithSettingsAndVersion) {
  auto t = svc_->CreateTenant(op_, "acme", "Acme Corp");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->active);
  EXPECT_EQ(t->version, 1);
  Settings s;
  s.default_tool_state = ToolState::kApproved;
  s.auto_approve_read_only = true;
  s.allowed_client_types = {ClientType::kPersonal, ClientType::kService};
  ASSERT_TRUE(svc_->UpdateTenantSettings(op_, "acme", s, "").ok());
  auto got = store_->GetTenantBySlug("acme");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->display_name, "Acme Corp");
  EXPECT_EQ(got->settings.default_tool_state, ToolState::kApproved);
  EXPECT_TRUE(got->settings.auto_approve_read_only);
  EXPECT_THAT(got->settings.allowed_client_types,
              ::testing::ElementsAre(ClientType::kPersonal, ClientType::kService));
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(store_->GetTenantById(t->id)->slug, "acme");
}

TEST_F(PgTenantStoreTest, DuplicatesAreAlreadyExistsAndUnknownIdsAreNotFound) {
  ASSERT_TRUE(svc_->CreateTenant(op_, "acme", "").ok());
  EXPECT_EQ(svc_->CreateTenant(op_, "acme", "").status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(svc_->CreateUser(op_, "acme", "ana@acme.com", "", Role::kMember).ok());
  EXPECT_EQ(svc_->CreateUser(op_, "acme", "ana@acme.com", "", Role::kMember).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetTenantById("not-a-uuid").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTenantById("00000000-0000-4000-8000-000000000000").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->GetTenant(op_, "nosuch").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgTenantStoreTest, ATokenLookupBringsItsUserGroupsAndTenantInOneRead) {
  ASSERT_TRUE(svc_->CreateTenant(op_, "acme", "").ok());
  ASSERT_TRUE(svc_->SetAiAccess(op_, "acme", true).ok());
  auto ana = svc_->CreateUser(op_, "acme", "ana@acme.com", "Ana", Role::kAdmin);
  auto g1 = svc_->CreateGroup(op_, "acme", "sre");
  auto g2 = svc_->CreateGroup(op_, "acme", "oncall");
  ASSERT_TRUE(svc_->SetGroupMember(op_, "acme", "sre", "ana@acme.com", true).ok());
  ASSERT_TRUE(svc_->SetGroupMember(op_, "acme", "oncall", ana->id, true).ok());
  auto issued = svc_->IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "cli",
                                       clock_.Now() + absl::Hours(24));
  ASSERT_TRUE(issued.ok()) << issued.status();

  auto id = svc_->Authenticate(Caller::Service("edge"), issued->secret);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->email, "ana@acme.com");
  EXPECT_EQ(id->role, Role::kAdmin);
  EXPECT_THAT(id->group_ids, ::testing::UnorderedElementsAre(g1->id, g2->id));

  ASSERT_TRUE(svc_->FlushLastUsed().ok());
  auto tokens = svc_->ListClientTokens(op_, "acme", "");
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].last_used_at, clock_.Now());
  EXPECT_EQ((*tokens)[0].expires_at, clock_.Now() + absl::Hours(24));

  ASSERT_TRUE(svc_->RevokeClientToken(op_, "acme", issued->token.id).ok());
  EXPECT_EQ(svc_->Authenticate(Caller::Service("edge"), issued->secret).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(PgTenantStoreTest, NoColumnHoldsAClientTokenInTheClear) {
  ASSERT_TRUE(svc_->CreateTenant(op_, "acme", "").ok());
  ASSERT_TRUE(svc_->CreateUser(op_, "acme", "ana@acme.com", "", Role::kMember).ok());
  auto issued = svc_->IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  auto rows = pool_->Execute({"dump_tokens", "SELECT t::text FROM tenant.client_tokens t"}, {},
                             absl::Seconds(5));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows(), 1);
  const std::string row = *rows->GetString(0, 0);
  EXPECT_EQ(row.find(issued->secret), std::string::npos);
  EXPECT_EQ(row.find(issued->secret.substr(8)), std::string::npos);
}

TEST_F(PgTenantStoreTest, OneTenantsRowsAreInvisibleThroughAnother) {
  ASSERT_TRUE(svc_->CreateTenant(op_, "acme", "").ok());
  auto globex = svc_->CreateTenant(op_, "globex", "");
  auto hank = svc_->CreateUser(op_, "globex", "hank@globex.com", "", Role::kMember);
  auto acme = store_->GetTenantBySlug("acme");
  EXPECT_EQ(store_->GetUserById(acme->id, hank->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUserByEmail(acme->id, "hank@globex.com").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListUsers(acme->id, "", 10)->empty());
  EXPECT_EQ(store_->SetUserDisabled(acme->id, hank->id, true).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(store_->GetUserById(globex->id, hank->id)->disabled);
}

TEST_F(PgTenantStoreTest, CatalogEntriesAreEnabledPerTenant) {
  ASSERT_TRUE(svc_->CreateTenant(op_, "acme", "").ok());
  ASSERT_TRUE(svc_->CreateTenant(op_, "globex", "").ok());
  ASSERT_TRUE(svc_->SetCatalogEntry(op_, "acme", "pagerduty", true).ok());
  auto acme = svc_->ListCatalog(op_, "acme");
  auto globex = svc_->ListCatalog(op_, "globex");
  ASSERT_EQ(acme->size(), 1u);
  EXPECT_EQ((*acme)[0].key, "pagerduty");
  EXPECT_TRUE((*acme)[0].enabled);
  EXPECT_FALSE((*globex)[0].enabled);
  EXPECT_EQ(svc_->SetCatalogEntry(op_, "acme", "nosuch", true).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgTenantStoreTest, EndedSessionsAreListedInOrderOnceAndDropAfterExpiry) {
  const Caller edge = Caller::Service("edge");
  const std::string a(64, 'a'), b(64, 'b');
  ASSERT_TRUE(svc_->EndSession(edge, a, clock_.Now() + absl::Hours(1)).ok());
  ASSERT_TRUE(svc_->EndSession(edge, a, clock_.Now() + absl::Hours(1)).ok());  // idempotent
  ASSERT_TRUE(svc_->EndSession(edge, b, clock_.Now() + absl::Hours(3)).ok());
  auto all = svc_->ListEndedSessions(edge, 0, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].session_hash, a);
  auto after = svc_->ListEndedSessions(edge, (*all)[0].seq, 100);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].session_hash, b);
  clock_.Advance(absl::Hours(2));
  auto later = svc_->ListEndedSessions(edge, 0, 100);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].session_hash, b);
}

TEST_F(PgTenantStoreTest, ADeletedTenantsTokensStopAndItsSlugCanBeUsedAgain) {
  auto old = svc_->CreateTenant(op_, "acme", "");
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(svc_->SetAiAccess(op_, "acme", true).ok());
  ASSERT_TRUE(svc_->CreateUser(op_, "acme", "ana@acme.com", "", Role::kAdmin).ok());
  ASSERT_TRUE(svc_->CreateGroup(op_, "acme", "sre").ok());
  ASSERT_TRUE(svc_->SetGroupMember(op_, "acme", "sre", "ana@acme.com", true).ok());
  auto issued = svc_->IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "", std::nullopt);
  ASSERT_TRUE(issued.ok());

  // Only the operator, and only once AI access is off.
  auto admin = svc_->CallerForToken(issued->secret);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(svc_->DeleteTenant(*admin, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->DeleteTenant(op_, "acme").status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(svc_->SetAiAccess(op_, "acme", false).ok());
  ASSERT_TRUE(svc_->DeleteTenant(op_, "acme").ok());

  EXPECT_EQ(svc_->Authenticate(Caller::Service("edge"), issued->secret).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->GetTenantById(old->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUserByEmail(old->id, "ana@acme.com").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->DeleteTenant(op_, "acme").status().code(), absl::StatusCode::kNotFound);

  auto again = svc_->CreateTenant(op_, "acme", "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->id, old->id);
  EXPECT_TRUE(svc_->ListUsers(op_, "acme", 0, "")->users.empty());
}

}  // namespace
}  // namespace bastion::tenant
