// Decisions: every deny reason and the allow path (table-driven), and how the per-tenant
// snapshot behind them follows changes without touching the store per decision.
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/governance/testing/governance_fixture.h"

namespace bastion::governance {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

// Baseline: server "pagerduty" (API key); list_incidents, get_incident and create_incident
// approved, list_users pending; toolset "oncall" holds all four; profile "responders" grants it
// to ana; group "sre" has a profile of its own. Ana may call list_incidents.
class AuthorizeWorld : public GovernanceFixture {
 public:
  void SetUp() override {
    Register("acme", "pagerduty");
    Approve("acme", "pagerduty", {"list_incidents", "get_incident", "create_incident"});
    AddToolset("acme", "oncall", "pagerduty",
               {"list_incidents", "get_incident", "create_incident", "list_users"});
    ana_ = tenants_.AddUser(acme_, "ana@acme.com").id();
    bo_ = tenants_.AddUser(acme_, "bo@acme.com").id();
    carl_ = tenants_.AddUser(acme_, "carl@acme.com").id();
    dee_ = tenants_.AddUser(acme_, "dee@acme.com").id();
    sre_ = tenants_.AddGroup(acme_, "sre");
    AddProfile("acme", "responders", {"oncall"}, {"user:ana@acme.com"});
    AddProfile("acme", "sre", {"approved-read-only"}, {"group:sre"});
  }

  std::string ana_, bo_, carl_, dee_, sre_;
};

struct Case {
  const char* name;
  std::function<void(AuthorizeWorld&)> setup;
  std::string user;  // ana, bo, carl (in group sre) or dee
  std::string server;
  std::string tool;
  DenyReason want;
};

// gtest prints parameters of failed cases; the name says which one.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

void Nothing(AuthorizeWorld&) {}

std::vector<Case> Cases() {
  return {
      {"allowed", Nothing, "ana", "pagerduty", "list_incidents", DenyReason::kNone},
      {"allowed through a group", Nothing, "carl", "pagerduty", "get_incident", DenyReason::kNone},
      {"allowed by an active grant beside an expired one",
       [](AuthorizeWorld& w) {
         w.AddProfile("acme", "temp", {"oncall"}, {"user:ana@acme.com"}, w.clock_.Now() + absl::Hours(1));
         w.clock_.Advance(absl::Hours(2));
       },
       "ana", "pagerduty", "list_incidents", DenyReason::kNone},
      {"tenant inactive",
       [](AuthorizeWorld& w) { w.tenants_.Update(w.acme_, [](auto& t) { t.set_ai_access_active(false); }); },
       "ana", "pagerduty", "list_incidents", DenyReason::kTenantInactive},
      {"tenant kill switch",
       [](AuthorizeWorld& w) { w.tenants_.Update(w.acme_, [](auto& t) { t.set_kill_switch(true); }); },
       "ana", "pagerduty", "list_incidents", DenyReason::kKillSwitch},
      {"server missing", Nothing, "ana", "opsgenie", "list_incidents", DenyReason::kServerUnavailable},
      {"server disabled",
       [](AuthorizeWorld& w) {
         ServerUpdate u;
         u.enabled = false;
         ASSERT_TRUE(w.svc_->UpdateServer(w.op_, "acme", "pagerduty", u).ok());
       },
       "ana", "pagerduty", "list_incidents", DenyReason::kServerUnavailable},
      {"unknown tool", Nothing, "ana", "pagerduty", "drop_database", DenyReason::kUnknownTool},
      {"tool kill switch",
       [](AuthorizeWorld& w) {
         ASSERT_TRUE(w.svc_->SetToolKillSwitch(w.op_, "acme", "pagerduty", "list_incidents", true).ok());
       },
       "ana", "pagerduty", "list_incidents", DenyReason::kKillSwitch},
      {"tool pending review", Nothing, "ana", "pagerduty", "list_users", DenyReason::kToolPendingReview},
      {"tool disabled",
       [](AuthorizeWorld& w) {
         ASSERT_TRUE(w.svc_->SetToolState(w.op_, "acme", "pagerduty", {"list_incidents"}, ToolState::kDisabled).ok());
       },
       "ana", "pagerduty", "list_incidents", DenyReason::kToolDisabled},
      {"tool removed by discovery",
       [](AuthorizeWorld& w) {
         auto tools = DefaultTools();
         tools.erase(tools.begin() + 2);  // list_incidents
         w.tools_.Set(tools);
         ASSERT_TRUE(w.svc_->SyncTools(w.op_, "acme", "pagerduty").ok());
       },
       "ana", "pagerduty", "list_incidents", DenyReason::kToolDisabled},
      {"not granted", Nothing, "bo", "pagerduty", "list_incidents", DenyReason::kNotGranted},
      {"a group's read-only grant does not cover writes", Nothing, "carl", "pagerduty", "create_incident",
       DenyReason::kNotGranted},
      {"grant expired",
       [](AuthorizeWorld& w) {
         w.AddProfile("acme", "temp", {"oncall"}, {"user:dee@acme.com"}, w.clock_.Now() + absl::Hours(1));
         w.clock_.Advance(absl::Hours(2));
       },
       "dee", "pagerduty", "list_incidents", DenyReason::kGrantExpired},
      {"read-only API key cannot serve a write tool",
       [](AuthorizeWorld& w) {
         CredentialInfo key;
         key.present = true;
         key.read_only = true;
         w.creds_.Set(w.acme_, "pagerduty", key);
       },
       "ana", "pagerduty", "create_incident", DenyReason::kCredentialCannotServe},
      {"no credential stored",
       [](AuthorizeWorld& w) { w.creds_.Set(w.acme_, "pagerduty", CredentialInfo{}); },
       "ana", "pagerduty", "list_incidents", DenyReason::kCredentialCannotServe},
      {"OAuth app without the tool's scope",
       [](AuthorizeWorld& w) {
         ServerUpdate u;
         u.auth_mode = AuthMode::kOAuth;
         ASSERT_TRUE(w.svc_->UpdateServer(w.op_, "acme", "pagerduty", u).ok());
         CredentialInfo app;
         app.present = true;
         app.mode = AuthMode::kOAuth;
         app.scopes = {"incidents.read"};
         w.creds_.Set(w.acme_, "pagerduty", app);
       },
       "ana", "pagerduty", "create_incident", DenyReason::kCredentialCannotServe},
  };
}

class AuthorizeTableTest : public AuthorizeWorld, public ::testing::WithParamInterface<Case> {};

TEST_P(AuthorizeTableTest, GivesExactlyTheExpectedReason) {
  const Case& c = GetParam();
  c.setup(*this);
  // A new replica sees the world as set up, not a snapshot from before it.
  auto replica = NewService();
  const std::map<std::string, std::string> users = {{"ana", ana_}, {"bo", bo_}, {"carl", carl_}, {"dee", dee_}};
  const std::vector<std::string> groups =
      c.user == "carl" ? std::vector<std::string>{sre_} : std::vector<std::string>{};
  for (GovernanceService* svc : {svc_.get(), replica.get()}) {
    auto d = Decide(users.at(c.user), c.tool, groups, c.server, svc);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(Name(d->reason), std::string(Name(c.want)));
    EXPECT_EQ(d->allowed, c.want == DenyReason::kNone);
    EXPECT_EQ(d->message.empty(), c.want == DenyReason::kNone) << d->message;
    EXPECT_EQ(d->tenant_id, acme_);

    // The tool list agrees with the decision.
    auto listed = svc->ListAllowedTools(edge_, "acme", users.at(c.user), groups, c.server);
    ASSERT_TRUE(listed.ok());
    std::vector<std::string> names;
    for (const auto& t : listed->tools) names.push_back(t.name);
    if (c.want == DenyReason::kNone) {
      EXPECT_THAT(names, Contains(c.tool));
    } else {
      EXPECT_THAT(names, Not(Contains(c.tool)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryReason, AuthorizeTableTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           std::string n;
                           for (char ch : std::string(info.param.name)) n += std::isalnum(ch) ? ch : '_';
                           return n;
                         });

TEST_F(AuthorizeWorld, TheTableCoversEveryDenyReason) {
  std::set<DenyReason> covered;
  for (const Case& c : Cases()) covered.insert(c.want);
  for (int r = 0; r <= static_cast<int>(DenyReason::kCredentialCannotServe); ++r) {
    EXPECT_TRUE(covered.count(static_cast<DenyReason>(r))) << Name(static_cast<DenyReason>(r));
  }
}

TEST_F(AuthorizeWorld, DecisionsOnACurrentSnapshotReadNeitherTheStoreNorTheTenantService) {
  ASSERT_TRUE(Decide(ana_, "list_incidents")->allowed);
  const int loads = store_.loads;
  const int tenant_calls = tenants_.get_tenant_calls();
  const int vault_calls = creds_.calls;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Decide(ana_, "list_incidents")->allowed);
    ASSERT_THAT(Allowed(ana_), Contains("list_incidents"));
  }
  EXPECT_EQ(store_.loads, loads);
  EXPECT_EQ(tenants_.get_tenant_calls(), tenant_calls);
  EXPECT_EQ(creds_.calls, vault_calls);
}

TEST_F(AuthorizeWorld, AnAdminChangeReachesTheVeryNextDecisionWithANewPolicyVersion) {
  auto before = Decide(ana_, "list_incidents");
  ASSERT_TRUE(before->allowed);
  ASSERT_TRUE(svc_->SetToolState(acme_admin_, "acme", "pagerduty", {"list_incidents"}, ToolState::kDisabled).ok());
  auto after = Decide(ana_, "list_incidents");
  EXPECT_EQ(after->reason, DenyReason::kToolDisabled);
  EXPECT_GT(after->policy_version, before->policy_version);
  auto listed = svc_->ListAllowedTools(edge_, "acme", ana_, {}, "pagerduty");
  EXPECT_EQ(listed->policy_version, after->policy_version);
}

TEST_F(AuthorizeWorld, AnotherReplicasChangeAppliesOnceItsVersionIsHeard) {
  auto replica = NewService();
  ASSERT_TRUE(Decide(ana_, "list_incidents", {}, "pagerduty", replica.get())->allowed);
  auto change = svc_->SetToolState(op_, "acme", "pagerduty", {"list_incidents"}, ToolState::kDisabled);
  ASSERT_TRUE(change.ok());
  // Until the replica hears of the new version it keeps its snapshot (no store reads).
  EXPECT_TRUE(Decide(ana_, "list_incidents", {}, "pagerduty", replica.get())->allowed);
  replica->OnPolicyVersion(acme_, change->policy_version);
  EXPECT_EQ(Decide(ana_, "list_incidents", {}, "pagerduty", replica.get())->reason, DenyReason::kToolDisabled);
}

TEST_F(AuthorizeWorld, ResyncAfterMissedNotificationsCatchesUp) {
  auto replica = NewService();
  ASSERT_TRUE(Decide(ana_, "list_incidents", {}, "pagerduty", replica.get())->allowed);
  ASSERT_TRUE(svc_->SetToolState(op_, "acme", "pagerduty", {"list_incidents"}, ToolState::kDisabled).ok());
  replica->ResyncPolicyVersions();
  EXPECT_EQ(Decide(ana_, "list_incidents", {}, "pagerduty", replica.get())->reason, DenyReason::kToolDisabled);
}

TEST_F(AuthorizeWorld, TheTenantsKillSwitchIsSeenOnceTheTenantStateIsRefreshed) {
  ASSERT_TRUE(Decide(ana_, "list_incidents")->allowed);
  tenants_.Update(acme_, [](auto& t) { t.set_kill_switch(true); });
  clock_.Advance(absl::Seconds(3));  // past facts_ttl
  EXPECT_EQ(Decide(ana_, "list_incidents")->reason, DenyReason::kKillSwitch);
}

TEST_F(AuthorizeWorld, DecisionsFailClosedWhenTheTenantServiceIsDown) {
  ASSERT_TRUE(Decide(ana_, "list_incidents")->allowed);
  tenants_.SetUnavailable(true);
  clock_.Advance(absl::Seconds(3));
  auto d = Decide(ana_, "list_incidents");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AuthorizeWorld, AVaultOutageDoesNotDenyCalls) {
  creds_.SetUnavailable(true);
  clock_.Advance(absl::Seconds(3));
  EXPECT_TRUE(Decide(ana_, "create_incident")->allowed);
}

TEST_F(AuthorizeWorld, AListOfAllowedToolsSaysWhenTheEarliestGrantBehindItEnds) {
  auto list = [&](const std::string& user) {
    auto r = svc_->ListAllowedTools(edge_, "acme", user, {}, "pagerduty");
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  };
  EXPECT_EQ(list(ana_).valid_until, absl::InfiniteFuture());  // her grant never expires

  // Dee: every approved tool for an hour, the read-only ones for three.
  const absl::Time start = clock_.Now();
  AddProfile("acme", "temp", {"oncall"}, {"user:dee@acme.com"}, start + absl::Hours(1));
  AddProfile("acme", "temp-read", {"approved-read-only"}, {"user:dee@acme.com"}, start + absl::Hours(3));
  AllowedTools now = list(dee_);
  EXPECT_EQ(now.tools.size(), 3u);
  EXPECT_EQ(now.valid_until, start + absl::Hours(1));

  clock_.Advance(absl::Hours(1) + absl::Seconds(1));
  AllowedTools later = list(dee_);
  EXPECT_EQ(later.policy_version, now.policy_version);  // expiry bumps no version...
  EXPECT_LT(later.tools.size(), now.tools.size());      // ...yet the list changed, when it said
  EXPECT_EQ(later.valid_until, start + absl::Hours(3));

  clock_.Advance(absl::Hours(2));
  EXPECT_TRUE(list(dee_).tools.empty());
  EXPECT_EQ(list(dee_).valid_until, absl::InfiniteFuture());
}

TEST_F(AuthorizeWorld, OnlyServicesGetDecisions) {
  AuthorizeInput in{"acme", ana_, {}, "pagerduty", "list_incidents"};
  EXPECT_EQ(svc_->Authorize(acme_admin_, in).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->Authorize(auth::Caller{}, in).status().code(), absl::StatusCode::kUnauthenticated);
  in.tool = "";
  EXPECT_EQ(svc_->Authorize(edge_, in).status().code(), absl::StatusCode::kInvalidArgument);
  in.tool = "list_incidents";
  in.tenant = "nosuch";
  EXPECT_EQ(svc_->Authorize(edge_, in).status().code(), absl::StatusCode::kNotFound);
}

// Issue 11, defect 1: any service identity passed the decision check; only the edge uses it.
TEST_F(AuthorizeWorld, OnlyTheEdgeGetsDecisionsAmongServices) {
  AuthorizeInput in{"acme", ana_, {}, "pagerduty", "list_incidents"};
  for (const char* name : {"vault", "governance", "tenant"}) {
    auth::Caller service;
    service.kind = auth::Caller::Kind::kService;
    service.service = name;
    EXPECT_EQ(svc_->Authorize(service, in).status().code(), absl::StatusCode::kPermissionDenied) << name;
    EXPECT_EQ(svc_->ListAllowedTools(service, "acme", ana_, {}, "pagerduty").status().code(),
              absl::StatusCode::kPermissionDenied)
        << name;
    EXPECT_EQ(svc_->WatchPolicy(service, "", [](auto&, int64_t) {}).status().code(),
              absl::StatusCode::kPermissionDenied)
        << name;
    EXPECT_EQ(svc_->RecordToolCalls(service, {}).status().code(), absl::StatusCode::kPermissionDenied) << name;
  }
  EXPECT_TRUE(svc_->Authorize(edge_, in).ok());
}

TEST_F(AuthorizeWorld, ListAllowedToolsGivesTheReasonWhenTheWholeServerIsOff) {
  tenants_.Update(acme_, [](auto& t) { t.set_ai_access_active(false); });
  auto replica = NewService();
  auto listed = replica->ListAllowedTools(edge_, "acme", ana_, {}, "pagerduty");
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(listed->tools, IsEmpty());
  EXPECT_EQ(listed->reason, DenyReason::kTenantInactive);
  EXPECT_EQ(listed->message,
            "Activation required. AI access management must be enabled for your tenant before you "
            "can use it.");
}

TEST_F(AuthorizeWorld, WatchersHearEveryNewVersionUntilTheyStop) {
  std::vector<int64_t> heard;
  auto w = svc_->WatchPolicy(edge_, "acme", [&](const std::string& tenant, int64_t v) {
    EXPECT_EQ(tenant, acme_);
    heard.push_back(v);
  });
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->tenant_id, acme_);
  const int64_t start = w->version;
  ASSERT_TRUE(svc_->SetToolState(op_, "acme", "pagerduty", {"list_users"}, ToolState::kApproved).ok());
  svc_->OnPolicyVersion(acme_, start + 1);  // the same version again, as NOTIFY echoes it
  ASSERT_TRUE(svc_->SetToolKillSwitch(op_, "acme", "pagerduty", "list_users", true).ok());
  EXPECT_THAT(heard, ElementsAre(start + 1, start + 2));
  svc_->Unwatch(w->watch_id);
  ASSERT_TRUE(svc_->SetToolKillSwitch(op_, "acme", "pagerduty", "list_users", false).ok());
  EXPECT_EQ(heard.size(), 2u);

  EXPECT_EQ(svc_->WatchPolicy(globex_admin_, "acme", [](auto&, int64_t) {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bastion::governance
