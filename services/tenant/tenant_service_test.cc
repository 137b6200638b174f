#include "services/tenant/tenant_service.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/testing/fake_tenant_store.h"

namespace bastion::tenant {
namespace {

using ::testing::HasSubstr;

class TenantServiceTest : public ::testing::Test {
 protected:
  TenantServiceTest() : svc_(store_, clock_) {}

  Tenant MakeTenant(const std::string& slug) {
    auto t = svc_.CreateTenant(op_, slug, "");
    EXPECT_TRUE(t.ok()) << t.status();
    return *t;
  }
  User MakeUser(const std::string& tenant, const std::string& email, Role role = Role::kMember) {
    auto u = svc_.CreateUser(op_, tenant, email, "", role);
    EXPECT_TRUE(u.ok()) << u.status();
    return *u;
  }
  std::string Token(const std::string& tenant, const std::string& email,
                    ClientType type = ClientType::kPersonal) {
    auto t = svc_.IssueClientToken(op_, tenant, email, type, "", std::nullopt);
    EXPECT_TRUE(t.ok()) << t.status();
    return t->secret;
  }
  Caller AdminOf(const std::string& tenant, const std::string& email) {
    MakeUser(tenant, email, Role::kAdmin);
    auto c = svc_.CallerForToken(Token(tenant, email));
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }

  FakeTenantStore store_;
  FakeClock clock_;
  TenantService svc_;
  const Caller op_ = Caller::Operator();
  const Caller edge_ = Caller::Service("edge");
};

TEST_F(TenantServiceTest, ANewTenantIsInactiveAndCheckAccessGivesTheExactActivationMessage) {
  MakeTenant("acme");
  auto check = svc_.CheckAccess(edge_, "acme");
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->allowed);
  EXPECT_EQ(check->message,
            "Activation required. AI access management must be enabled for your tenant before "
            "you can use it.");
  ASSERT_TRUE(svc_.SetAiAccess(op_, "acme", true).ok());
  check = svc_.CheckAccess(edge_, "acme");
  EXPECT_TRUE(check->allowed);
  EXPECT_EQ(check->message, "");
}

TEST_F(TenantServiceTest, KillSwitchStopsAnActiveTenantAndBumpsItsVersion) {
  Tenant t = MakeTenant("acme");
  ASSERT_TRUE(svc_.SetAiAccess(op_, "acme", true).ok());
  auto on = svc_.SetKillSwitch(op_, "acme", true);
  ASSERT_TRUE(on.ok());
  EXPECT_GT(on->version, t.version);
  auto check = svc_.CheckAccess(edge_, "acme");
  EXPECT_FALSE(check->allowed);
  EXPECT_THAT(check->message, HasSubstr("kill switch"));
}

TEST_F(TenantServiceTest, AuthenticateResolvesTheUserTheirGroupsAndTheTenant) {
  MakeTenant("acme");
  User ana = MakeUser("acme", "Ana@Acme.com");
  auto g = svc_.CreateGroup(op_, "acme", "oncall");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(svc_.SetGroupMember(op_, "acme", "oncall", "ana@acme.com", true).ok());
  auto id = svc_.Authenticate(edge_, Token("acme", "ana@acme.com"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user_id, ana.id);
  EXPECT_EQ(id->email, "ana@acme.com");
  EXPECT_EQ(id->tenant_slug, "acme");
  EXPECT_THAT(id->group_ids, ::testing::ElementsAre(g->id));
}

TEST_F(TenantServiceTest, RevokedExpiredDisabledAndUnknownTokensAreRejected) {
  MakeTenant("acme");
  MakeUser("acme", "ana@acme.com");
  MakeUser("acme", "bo@acme.com");

  auto revoked = svc_.IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "", std::nullopt);
  ASSERT_TRUE(svc_.RevokeClientToken(op_, "acme", revoked->token.id).ok());
  EXPECT_EQ(svc_.Authenticate(edge_, revoked->secret).status().code(), absl::StatusCode::kUnauthenticated);

  auto expiring = svc_.IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "",
                                        clock_.Now() + absl::Hours(1));
  EXPECT_TRUE(svc_.Authenticate(edge_, expiring->secret).ok());
  clock_.Advance(absl::Hours(2));
  auto expired = svc_.Authenticate(edge_, expiring->secret);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));

  std::string bo = Token("acme", "bo@acme.com");
  ASSERT_TRUE(svc_.DisableUser(op_, "acme", "bo@acme.com").ok());
  EXPECT_EQ(svc_.Authenticate(edge_, bo).status().code(), absl::StatusCode::kUnauthenticated);

  EXPECT_EQ(svc_.Authenticate(edge_, "bst_doesnotexist").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(svc_.Authenticate(edge_, "").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TenantServiceTest, AClientTypeTheTenantDisallowsIsRejected) {
  MakeTenant("acme");
  MakeUser("acme", "ana@acme.com");
  std::string shared = Token("acme", "ana@acme.com", ClientType::kShared);
  EXPECT_TRUE(svc_.Authenticate(edge_, shared).ok());
  Settings s;
  s.allowed_client_types = {ClientType::kPersonal};
  ASSERT_TRUE(svc_.UpdateTenantSettings(op_, "acme", s, "").ok());
  auto denied = svc_.Authenticate(edge_, shared);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), HasSubstr("shared"));
}

TEST_F(TenantServiceTest, OnlyServicesMayAuthenticateTokensOrCheckAccess) {
  MakeTenant("acme");
  Caller admin = AdminOf("acme", "root@acme.com");
  EXPECT_EQ(svc_.Authenticate(admin, Token("acme", "root@acme.com")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_.CheckAccess(admin, "acme").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(TenantServiceTest, AnAdminOfOneTenantSeesNothingOfAnotherAndCannotTellItExists) {
  MakeTenant("acme");
  MakeTenant("globex");
  MakeUser("globex", "hank@globex.com");
  Caller acme_admin = AdminOf("acme", "root@acme.com");

  auto other = svc_.GetTenant(acme_admin, "globex");
  auto missing = svc_.GetTenant(acme_admin, "nosuch");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.status().message(), "tenant 'globex' not found");
  EXPECT_EQ(missing.status().message(), "tenant 'nosuch' not found");

  EXPECT_FALSE(svc_.ListUsers(acme_admin, "globex", 10, "").ok());
  EXPECT_FALSE(svc_.CreateUser(acme_admin, "globex", "evil@acme.com", "", Role::kAdmin).ok());
  EXPECT_FALSE(svc_.IssueClientToken(acme_admin, "globex", "hank@globex.com", ClientType::kPersonal, "",
                                     std::nullopt).ok());
  EXPECT_FALSE(svc_.SetAiAccess(acme_admin, "globex", true).ok());
  EXPECT_FALSE(svc_.SetKillSwitch(acme_admin, "globex", true).ok());
  EXPECT_FALSE(svc_.GetTenant(op_, "globex")->active);
  EXPECT_EQ(svc_.ListUsers(op_, "globex", 10, "")->users.size(), 1u);

  auto listed = svc_.ListTenants(acme_admin, 10, "");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->tenants.size(), 1u);
  EXPECT_EQ(listed->tenants[0].slug, "acme");

  // The admin can run their own tenant.
  EXPECT_TRUE(svc_.SetAiAccess(acme_admin, "acme", true).ok());
  EXPECT_TRUE(svc_.CreateUser(acme_admin, "acme", "new@acme.com", "", Role::kMember).ok());
}

TEST_F(TenantServiceTest, MembersAndAnonymousCallersCannotAdminister) {
  MakeTenant("acme");
  MakeUser("acme", "ana@acme.com");
  auto member = svc_.CallerForToken(Token("acme", "ana@acme.com"));
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(svc_.CreateUser(*member, "acme", "x@acme.com", "", Role::kAdmin).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_.GetTenant(Caller{}, "acme").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TenantServiceTest, OnlyTheOperatorCreatesTenantsAndChangesTheCatalog) {
  MakeTenant("acme");
  Caller admin = AdminOf("acme", "root@acme.com");
  EXPECT_EQ(svc_.CreateTenant(admin, "mine", "").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_.SetCatalogEntry(admin, "acme", "pagerduty", true).status().code(),
            absl::StatusCode::kPermissionDenied);

  auto entry = svc_.SetCatalogEntry(op_, "acme", "pagerduty", true);
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(entry->enabled);
  auto listed = svc_.ListCatalog(admin, "acme");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].enabled);
  EXPECT_EQ(svc_.SetCatalogEntry(op_, "acme", "jira", true).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TenantServiceTest, BadInputIsRejectedWithAClearMessageAndChangesNothing) {
  MakeTenant("acme");
  auto empty = svc_.CreateTenant(op_, "", "");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("must not be empty"));
  EXPECT_EQ(svc_.CreateTenant(op_, "Bad Slug!", "").status().code(), absl::StatusCode::kInvalidArgument);
  auto dup = svc_.CreateTenant(op_, "acme", "");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.status().message(), HasSubstr("acme"));
  EXPECT_EQ(svc_.ListTenants(op_, 10, "")->tenants.size(), 1u);

  auto bad_email = svc_.CreateUser(op_, "acme", "not-an-email", "", Role::kMember);
  EXPECT_EQ(bad_email.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_email.status().message(), HasSubstr("not a valid email"));
  MakeUser("acme", "ana@acme.com");
  EXPECT_EQ(svc_.CreateUser(op_, "acme", "ANA@acme.com", "", Role::kMember).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(svc_.ListUsers(op_, "acme", 10, "")->users.size(), 1u);

  EXPECT_EQ(svc_.GetUser(op_, "acme", "nobody@acme.com").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_.RevokeClientToken(op_, "acme", "no-such-id").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_.SetGroupMember(op_, "acme", "nogroup", "ana@acme.com", true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_.CreateGroup(op_, "acme", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_.ListTenants(op_, 10, "%%%").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_.IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "",
                                  clock_.Now() - absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(svc_.ListClientTokens(op_, "acme", "")->empty());
}

TEST_F(TenantServiceTest, IssuedTokensAreShownOnceAndListedOnlyAsMetadata) {
  MakeTenant("acme");
  MakeUser("acme", "ana@acme.com");
  auto issued = svc_.IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "laptop", std::nullopt);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->secret.rfind("bst_", 0), 0u);
  EXPECT_GE(issued->secret.size(), 40u);
  auto listed = svc_.ListClientTokens(op_, "acme", "ana@acme.com");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "laptop");
  EXPECT_EQ((*listed)[0].hint, issued->secret.substr(0, 8));
}

TEST_F(TenantServiceTest, LastUsedTimesAreWrittenInOneBatchNotPerCall) {
  MakeTenant("acme");
  MakeUser("acme", "ana@acme.com");
  std::string token = Token("acme", "ana@acme.com");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(svc_.Authenticate(edge_, token).ok());
  EXPECT_EQ(store_.touch_batches, 0);
  ASSERT_TRUE(svc_.FlushLastUsed().ok());
  EXPECT_EQ(store_.touch_batches, 1);
  EXPECT_TRUE(svc_.ListClientTokens(op_, "acme", "")->at(0).last_used_at.has_value());
}

TEST_F(TenantServiceTest, OnlyTheEdgeRecordsEndedSessionsAndHashesAreChecked) {
  const std::string hash(64, 'c');
  EXPECT_EQ(svc_.EndSession(op_, hash, clock_.Now() + absl::Hours(1)).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_.EndSession(Caller::Service("governance"), hash, clock_.Now() + absl::Hours(1)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_.EndSession(edge_, "not-a-hash", clock_.Now() + absl::Hours(1)).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(svc_.EndSession(edge_, hash, clock_.Now() + absl::Hours(1)).ok());
  EXPECT_EQ(svc_.ListEndedSessions(edge_, 0, 10)->size(), 1u);
  EXPECT_FALSE(svc_.ListEndedSessions(op_, 0, 10).ok());
}

TEST_F(TenantServiceTest, TenantsPageBySlug) {
  for (const char* slug : {"a1", "b2", "c3", "d4", "e5"}) MakeTenant(slug);
  auto first = svc_.ListTenants(op_, 2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->tenants.size(), 2u);
  EXPECT_FALSE(first->next_page_token.empty());
  auto second = svc_.ListTenants(op_, 2, first->next_page_token);
  EXPECT_EQ(second->tenants[0].slug, "c3");
  auto third = svc_.ListTenants(op_, 2, second->next_page_token);
  EXPECT_EQ(third->tenants.size(), 1u);
  EXPECT_TRUE(third->next_page_token.empty());
}

}  // namespace
}  // namespace bastion::tenant
