// The Postgres store on a real database: policy round trips, optimistic versions, the audit
// chain under concurrent appends and hand-made SQL edits, tenant scoping, and replicas hearing
// each other's changes through LISTEN/NOTIFY.
#include "services/governance/pg_governance_store.h"

#include <thread>

#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/governance/governance_migrations.h"
#include "services/governance/governance_service.h"
#include "services/governance/pg_policy_listener.h"
#include "services/governance/testing/fake_credential_info.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/governance/testing/fake_tool_source.h"

namespace bastion::governance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<DiscoveredTool> Tools() {
  return {MakeTool("create_incident", Access::kWrite, {"incidents.write"}),
          MakeTool("list_incidents", Access::kRead, {"incidents.read", "services.read"}),
          MakeTool("list_users", Access::kRead, {"users.read"})};
}

class PgGovernanceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "governance", migrations::governance_migrations()).ok());
    store_ = std::make_unique<PgGovernanceStore>(*pool_);
    acme_ = tenants_.AddTenant("acme");
    globex_ = tenants_.AddTenant("globex");
    tools_.Set(Tools());
    svc_ = NewService();
    op_.kind = auth::Caller::Kind::kOperator;
    edge_.kind = auth::Caller::Kind::kService;
    edge_.service = "edge";
  }

  std::unique_ptr<GovernanceService> NewService() {
    return std::make_unique<GovernanceService>(*store_, clock_, tenants_, tools_, creds_);
  }

  absl::Status Sql(const std::string& sql) {
    return pool_->Execute({"", sql}, {}, absl::Seconds(5)).status();
  }

  void Register(const std::string& tenant) {
    ServerSpec spec;
    spec.name = "pagerduty";
    spec.region = Region::kEu;
    spec.auth_mode = AuthMode::kOAuth;
    spec.tool_policy = ToolPolicy::kApproveReadOnly;
    auto r = svc_->RegisterServer(op_, tenant, spec);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  ToolCallRecord Call(const std::string& id, const std::string& user = "ana@acme.com",
                      Outcome outcome = Outcome::kSuccess) {
    ToolCallRecord r;
    r.tenant = "acme";
    r.event.event_id = id;
    r.event.time = clock_.Now() + absl::Nanoseconds(123456789);  // sub-microsecond part is dropped
    r.event.user_id = "id-" + user;
    r.event.user_email = user;
    r.event.client = "personal:tok";
    r.event.server = "pagerduty";
    r.event.tool = "list_incidents";
    r.event.outcome = outcome;
    r.event.decision = outcome == Outcome::kDenied ? Decision::kDeny : Decision::kAllow;
    r.event.reason = outcome == Outcome::kDenied ? DenyReason::kNotGranted : DenyReason::kNone;
    r.event.upstream_status = 200;
    r.event.latency_ms = 17;
    r.event.request_id = "req-" + id;
    r.event.arguments_digest = "digest";
    return r;
  }

  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgGovernanceStore> store_;
  FakeClock clock_;
  tenant::FakeTenantClient tenants_;
  FakeToolSource tools_;
  FakeCredentialInfo creds_;
  std::unique_ptr<GovernanceService> svc_;
  std::string acme_, globex_;
  auth::Caller op_, edge_;
};

TEST_F(PgGovernanceStoreTest, APolicyRoundTripsWithEveryField) {
  Register("acme");
  const std::string ana = tenants_.AddUser(acme_, "ana@acme.com").id();
  const std::string sre = tenants_.AddGroup(acme_, "sre, \"night\" shift");
  ASSERT_TRUE(svc_->SetToolKillSwitch(op_, "acme", "pagerduty", "list_users", true).ok());
  ASSERT_TRUE(svc_->CreateToolset(op_, "acme", {"oncall", "first responders", "pagerduty",
                                                {"list_incidents", "create_incident"}})
                  .ok());
  const absl::Time expiry = clock_.Now() + absl::Hours(48);
  auto profile = svc_->CreateAccessProfile(
      op_, "acme", {"responders", "", {"oncall", "approved-read-only"},
                    {"user:ana@acme.com", "group:sre, \"night\" shift"}, expiry});
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_TRUE(svc_->UpdateAuditSettings(op_, "acme", {true}).ok());

  auto p = store_->LoadPolicy(acme_);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->version, 5);
  EXPECT_TRUE(p->audit_settings.store_arguments);
  ASSERT_EQ(p->servers.size(), 1u);
  const Server& s = p->servers[0];
  EXPECT_EQ(s.name, "pagerduty");
  EXPECT_EQ(s.region, Region::kEu);
  EXPECT_EQ(s.auth_mode, AuthMode::kOAuth);
  EXPECT_EQ(s.tool_policy, ToolPolicy::kApproveReadOnly);
  EXPECT_EQ(s.created_at, clock_.Now());
  EXPECT_EQ(s.last_synced_at, clock_.Now());

  ASSERT_EQ(p->tools.size(), 3u);
  const Tool& list = p->tools[1];
  EXPECT_EQ(list.name, "list_incidents");
  EXPECT_EQ(list.state, ToolState::kApproved);
  EXPECT_EQ(list.access, Access::kRead);
  EXPECT_TRUE(list.annotations.read_only);
  EXPECT_FALSE(list.annotations.destructive);
  EXPECT_THAT(list.scopes, ElementsAre("incidents.read", "services.read"));
  EXPECT_THAT(list.definition_json, HasSubstr("\"inputSchema\""));
  EXPECT_EQ(list.digest.size(), 64u);
  EXPECT_EQ(list.state_changed_by, "discovery");
  EXPECT_EQ(p->tools[0].state, ToolState::kPendingReview);  // create_incident writes
  EXPECT_TRUE(p->tools[2].kill_switch);

  ASSERT_EQ(p->toolsets.size(), 1u);
  EXPECT_EQ(p->toolsets[0].description, "first responders");
  EXPECT_THAT(p->toolsets[0].tools, ElementsAre("create_incident", "list_incidents"));

  ASSERT_EQ(p->profiles.size(), 1u);
  const AccessProfile& a = p->profiles[0];
  EXPECT_THAT(a.toolsets, ElementsAre(p->toolsets[0].id, "approved-read-only"));
  ASSERT_EQ(a.members.size(), 2u);
  EXPECT_EQ(a.members[0].id, ana);
  EXPECT_EQ(a.members[0].label, "ana@acme.com");
  EXPECT_EQ(a.members[1].kind, Member::Kind::kGroup);
  EXPECT_EQ(a.members[1].id, sre);
  EXPECT_EQ(a.members[1].label, "sre, \"night\" shift");
  EXPECT_EQ(a.expires_at, expiry);
}

TEST_F(PgGovernanceStoreTest, AChangeFromAStaleVersionIsAbortedAndChangesNothing) {
  Register("acme");
  auto p = store_->LoadPolicy(acme_);
  PolicyChange c;
  c.tenant_id = acme_;
  c.expected_version = p->version - 1;
  Tool t = p->tools[0];
  t.state = ToolState::kApproved;
  c.upsert_tools.push_back(t);
  c.audit.event_id = "stale";
  c.audit.kind = AuditKind::kAdminChange;
  EXPECT_EQ(store_->ApplyChange(c).status().code(), absl::StatusCode::kAborted);
  auto after = store_->LoadPolicy(acme_);
  EXPECT_EQ(after->version, p->version);
  EXPECT_EQ(after->tools[0].state, p->tools[0].state);
  EXPECT_EQ(store_->GetAuditHead(acme_)->seq, 1);  // only the registration
}

TEST_F(PgGovernanceStoreTest, NamesAreUniquePerTenantOnly) {
  Register("acme");
  Register("globex");
  auto p = store_->LoadPolicy(acme_);
  PolicyChange c;
  c.tenant_id = acme_;
  c.expected_version = p->version;
  Server dup = p->servers[0];
  dup.id = "00000000-0000-4000-8000-000000000001";
  c.upsert_servers.push_back(dup);
  c.audit.event_id = "dup";
  EXPECT_EQ(store_->ApplyChange(c).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(PgGovernanceStoreTest, OneTenantsRowsAreInvisibleAndUntouchableThroughAnother) {
  Register("globex");
  auto theirs = store_->LoadPolicy(globex_);
  auto ours = store_->LoadPolicy(acme_);
  EXPECT_EQ(ours->version, 0);
  EXPECT_THAT(ours->servers, IsEmpty());
  EXPECT_THAT(ours->tools, IsEmpty());

  // A change filed under acme that names globex's rows does not reach them.
  PolicyChange c;
  c.tenant_id = acme_;
  c.expected_version = 0;
  c.delete_server_ids.push_back(theirs->servers[0].id);
  Tool t = theirs->tools[0];
  t.state = ToolState::kDisabled;
  c.upsert_tools.push_back(t);
  c.audit.event_id = "sneaky";
  const int64_t globex_events = store_->GetAuditHead(globex_)->seq;
  store_->ApplyChange(c).IgnoreError();
  auto still = store_->LoadPolicy(globex_);
  EXPECT_EQ(still->servers.size(), 1u);
  EXPECT_EQ(still->tools[0].state, theirs->tools[0].state);
  EXPECT_EQ(still->version, theirs->version);
  EXPECT_EQ(store_->GetAuditHead(globex_)->seq, globex_events);
}

TEST_F(PgGovernanceStoreTest, TheSameAuditEventRecordedTwiceIsStoredOnce) {
  auto first = svc_->RecordToolCalls(edge_, {Call("e1")});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->recorded, 1);
  auto again = svc_->RecordToolCalls(edge_, {Call("e1"), Call("e2"), Call("e2")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->recorded, 1);
  EXPECT_EQ(again->duplicates, 2);
  auto rows = pool_->Execute({"", "SELECT count(*) FROM governance.audit_events WHERE event_id = 'e1'"}, {},
                             absl::Seconds(5));
  EXPECT_EQ(*rows->GetInt64(0, 0), 1);
  auto events = store_->QueryAudit(acme_, {}, AuditOrder::kOldestFirst, 0, 10);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].time, absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now() + absl::Nanoseconds(123456789))));
  EXPECT_EQ((*events)[0].latency_ms, 17);
  EXPECT_EQ((*events)[0].arguments_digest, "digest");
  EXPECT_TRUE(svc_->VerifyAuditChain(op_, "acme")->ok);
}

TEST_F(PgGovernanceStoreTest, TheLogRefusesUpdatesAndDeletesFromTheService) {
  ASSERT_TRUE(svc_->RecordToolCalls(edge_, {Call("e1")}).ok());
  absl::Status update = Sql("UPDATE governance.audit_events SET tool = 'x'");
  EXPECT_FALSE(update.ok());
  EXPECT_THAT(update.message(), HasSubstr("append-only"));
  EXPECT_FALSE(Sql("DELETE FROM governance.audit_events").ok());
}

TEST_F(PgGovernanceStoreTest, EditingAStoredEventWithSqlMakesVerifyFailAtThatEvent) {
  std::vector<ToolCallRecord> calls;
  for (int i = 1; i <= 5; ++i) calls.push_back(Call(absl::StrCat("e", i)));
  ASSERT_TRUE(svc_->RecordToolCalls(edge_, calls).ok());
  ASSERT_TRUE(svc_->VerifyAuditChain(op_, "acme")->ok);

  // What someone with the database's owner rights could do.
  ASSERT_TRUE(Sql("ALTER TABLE governance.audit_events DISABLE TRIGGER audit_events_append_only").ok());
  ASSERT_TRUE(Sql("UPDATE governance.audit_events SET outcome = 'error' WHERE seq = 3").ok());
  auto check = svc_->VerifyAuditChain(op_, "acme");
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_FALSE(check->ok);
  EXPECT_EQ(check->first_broken_seq, 3);
  EXPECT_EQ(check->first_broken_event_id, "e3");
  EXPECT_THAT(check->problem, HasSubstr("altered"));

  // Recomputing that event's hash to hide the edit breaks the link to the next one instead.
  auto stored = store_->ReadAuditChain(acme_, 2, 1);
  ASSERT_EQ(stored->size(), 1u);
  ASSERT_TRUE(pool_->Execute({"", "UPDATE governance.audit_events SET hash = $1 WHERE seq = 3"},
                             {EventHash((*stored)[0])}, absl::Seconds(5))
                  .ok());
  check = svc_->VerifyAuditChain(op_, "acme");
  EXPECT_EQ(check->first_broken_seq, 4);
  EXPECT_THAT(check->problem, HasSubstr("does not link"));

  // A value no event could hold counts as an edit too.
  ASSERT_TRUE(Sql("UPDATE governance.audit_events SET decision = 'maybe' WHERE seq = 2").ok());
  EXPECT_EQ(svc_->VerifyAuditChain(op_, "acme")->first_broken_seq, 2);
}

TEST_F(PgGovernanceStoreTest, DeletingAStoredEventWithSqlMakesVerifyFailAtThatEvent) {
  std::vector<ToolCallRecord> calls;
  for (int i = 1; i <= 5; ++i) calls.push_back(Call(absl::StrCat("e", i)));
  ASSERT_TRUE(svc_->RecordToolCalls(edge_, calls).ok());
  ASSERT_TRUE(Sql("ALTER TABLE governance.audit_events DISABLE TRIGGER audit_events_append_only").ok());
  ASSERT_TRUE(Sql("DELETE FROM governance.audit_events WHERE seq = 4").ok());
  auto check = svc_->VerifyAuditChain(op_, "acme");
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->ok);
  EXPECT_EQ(check->first_broken_seq, 4);
  EXPECT_THAT(check->problem, HasSubstr("missing"));

  ASSERT_TRUE(Sql("DELETE FROM governance.audit_events WHERE seq >= 4").ok());
  check = svc_->VerifyAuditChain(op_, "acme");
  EXPECT_EQ(check->first_broken_seq, 4);
  EXPECT_THAT(check->problem, HasSubstr("missing from the end"));
}

TEST_F(PgGovernanceStoreTest, ConcurrentAppendsAndAdminChangesKeepOneUnbrokenChain) {
  Register("acme");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto r = svc_->RecordToolCalls(edge_, {Call(absl::StrCat("t", t, "-", i))});
        EXPECT_TRUE(r.ok()) << r.status();
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 5; ++i) {
      auto r = svc_->SetToolKillSwitch(op_, "acme", "pagerduty", "list_users", i % 2 == 0);
      EXPECT_TRUE(r.ok()) << r.status();
    }
  });
  for (auto& t : threads) t.join();
  auto check = svc_->VerifyAuditChain(op_, "acme");
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok) << check->problem;
  EXPECT_EQ(check->events_checked, 1 + 60 + 5);
}

TEST_F(PgGovernanceStoreTest, QueriesFilterAndPageNewestFirst) {
  Register("acme");  // one admin change in the log
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(svc_->RecordToolCalls(edge_, {Call(absl::StrCat("e", i), i < 4 ? "bo@acme.com" : "ana@acme.com",
                                                   i % 4 == 0 ? Outcome::kDenied : Outcome::kSuccess)})
                    .ok());
    clock_.Advance(absl::Minutes(1));
  }
  AuditFilter f;
  f.user = "bo@acme.com";
  EXPECT_EQ(store_->QueryAudit(acme_, f, AuditOrder::kNewestFirst, 0, 100)->size(), 4u);
  AuditFilter ok;
  ok.outcome = Outcome::kSuccess;  // admin changes have no outcome
  EXPECT_EQ(store_->QueryAudit(acme_, ok, AuditOrder::kNewestFirst, 0, 100)->size(), 9u);
  AuditFilter admin;
  admin.kind = AuditKind::kAdminChange;
  auto changes = store_->QueryAudit(acme_, admin, AuditOrder::kNewestFirst, 0, 100);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].action, "server.register");
  AuditFilter window;
  window.since = FakeClock().Now() + absl::Minutes(2);
  window.until = FakeClock().Now() + absl::Minutes(5);
  auto in = store_->QueryAudit(acme_, window, AuditOrder::kOldestFirst, 0, 100);
  ASSERT_EQ(in->size(), 3u);
  EXPECT_EQ((*in)[0].event_id, "e2");

  auto page1 = svc_->QueryAudit(op_, "acme", {}, 5, "");
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->events.size(), 5u);
  EXPECT_EQ(page1->events[0].event_id, "e11");
  auto page2 = svc_->QueryAudit(op_, "acme", {}, 5, page1->next_page_token);
  EXPECT_EQ(page2->events[0].event_id, "e6");
  auto page3 = svc_->QueryAudit(op_, "acme", {}, 5, page2->next_page_token);
  ASSERT_EQ(page3->events.size(), 3u);
  EXPECT_EQ(page3->events[2].action, "server.register");
  EXPECT_TRUE(page3->next_page_token.empty());
}

TEST_F(PgGovernanceStoreTest, AnotherReplicaHearsAChangeThroughListenNotify) {
  Register("acme");
  ASSERT_TRUE(svc_->SetToolState(op_, "acme", "pagerduty", {"list_users"}, ToolState::kApproved).ok());
  tenants_.AddUser(acme_, "ana@acme.com").id();
  auto profile = svc_->CreateAccessProfile(op_, "acme", {"all", "", {"all-approved"}, {"user:ana@acme.com"}, {}});
  ASSERT_TRUE(profile.ok());
  const std::string ana = profile->profile.members[0].id;

  CredentialInfo app;
  app.present = true;
  app.mode = AuthMode::kOAuth;
  app.scopes = {"users.read"};
  creds_.Set(acme_, "pagerduty", app);
  auto replica = NewService();
  pg::ConnectOptions listen;
  listen.url = db_->url();
  std::atomic<int> connects{0};
  PgPolicyListener listener(
      listen, [&](const std::string& t, int64_t v) { replica->OnPolicyVersion(t, v); },
      [&] {
        replica->ResyncPolicyVersions();
        ++connects;
      });
  listener.Start();
  for (int i = 0; i < 100 && !listener.listening(); ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(listener.listening());

  AuthorizeInput in{"acme", ana, {}, "pagerduty", "list_users"};
  ASSERT_TRUE(replica->Authorize(edge_, in)->allowed) << replica->Authorize(edge_, in)->message;
  ASSERT_TRUE(svc_->SetToolState(op_, "acme", "pagerduty", {"list_users"}, ToolState::kDisabled).ok());
  DenyReason seen = DenyReason::kNone;
  for (int i = 0; i < 100 && seen == DenyReason::kNone; ++i) {
    seen = replica->Authorize(edge_, in)->reason;
    if (seen == DenyReason::kNone) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(seen, DenyReason::kToolDisabled);

  // A replica that missed notifications while its connection was down catches up on reconnect.
  const int before = connects;
  ASSERT_TRUE(Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
                  "AND datname = current_database() AND pid <> pg_backend_pid()")
                  .ok());
  for (int i = 0; i < 200 && connects == before; ++i) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_GT(connects, before);
  listener.Stop();
}

TEST(TextArray, QuotesEveryElement) {
  EXPECT_EQ(TextArray({}), "{}");
  EXPECT_EQ(TextArray({"a", "b,c", "d\"e", "f\\g", ""}), R"({"a","b,c","d\"e","f\\g",""})");
}

TEST_F(PgGovernanceStoreTest, ADeletedTenantsPolicyGoesAndItsAuditLogStays) {
  Register("acme");
  Register("globex");
  ASSERT_TRUE(svc_->RecordToolCalls(edge_, {Call("e1")}).ok());
  tenants_.Update(acme_, [](tenant::v1::Tenant& t) { t.set_ai_access_active(true); });
  EXPECT_EQ(svc_->DeleteTenantPolicy(edge_, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->DeleteTenantPolicy(op_, "acme").status().code(), absl::StatusCode::kFailedPrecondition);
  tenants_.Update(acme_, [](tenant::v1::Tenant& t) { t.set_ai_access_active(false); });

  auto deleted = svc_->DeleteTenantPolicy(op_, "acme");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->servers_deleted, 1);
  EXPECT_EQ(deleted->audit_kept_until, clock_.Now() + absl::Hours(24 * 365));
  auto acme = store_->LoadPolicy(acme_);
  ASSERT_TRUE(acme.ok());
  EXPECT_TRUE(acme->servers.empty());
  EXPECT_TRUE(acme->tools.empty());
  EXPECT_EQ(store_->LoadPolicy(globex_)->servers.size(), 1u);

  // The log keeps the tool call and now ends with the deletion; the chain still verifies.
  auto events = svc_->QueryAudit(op_, "acme", AuditFilter{}, 100, "");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_GE(events->events.size(), 3u);  // register, tool call, tenant.delete
  EXPECT_EQ(events->events.front().action, "tenant.delete");
  EXPECT_EQ(events->events.front().actor, "operator");
  auto chain = svc_->VerifyAuditChain(op_, "acme");
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->ok) << chain->problem;

  // Running it again (a retry after a later step failed) changes nothing more.
  auto again = svc_->DeleteTenantPolicy(op_, "acme");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->servers_deleted, 0);
}

}  // namespace
}  // namespace bastion::governance
