#include "services/governance/governance_service.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/governance/testing/governance_fixture.h"

namespace bastion::governance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class GovernanceServiceTest : public GovernanceFixture {
 protected:
  std::map<std::string, ToolState> States(const std::string& tenant, const std::string& server) {
    auto tools = svc_->ListTools(op_, tenant, server, std::nullopt);
    EXPECT_TRUE(tools.ok()) << tools.status();
    std::map<std::string, ToolState> out;
    if (tools.ok()) {
      for (const auto& v : *tools) out[v.tool.name] = v.tool.state;
    }
    return out;
  }
  int64_t Version(const std::string& tenant_id) { return *store_.PolicyVersion(tenant_id); }
};

TEST_F(GovernanceServiceTest, RegisteringNeedsTheCatalogEntryEnabledForTheTenant) {
  tenants_.SetCatalogEnabled(acme_, false);
  ServerSpec spec;
  spec.name = "pagerduty";
  auto refused = svc_->RegisterServer(acme_admin_, "acme", spec);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("'pagerduty' catalog entry is not enabled"));
  EXPECT_THAT(*svc_->ListServers(acme_admin_, "acme"), IsEmpty());

  tenants_.SetCatalogEnabled(acme_, true);
  auto ok = svc_->RegisterServer(acme_admin_, "acme", spec);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->server.name, "pagerduty");
  EXPECT_EQ(ok->discovery.new_names.size(), 4u);
  EXPECT_EQ(svc_->RegisterServer(acme_admin_, "acme", spec).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(GovernanceServiceTest, NewToolsEnterInTheStateTheServersPolicySays) {
  Register("acme", "review", ToolPolicy::kRequireReview);
  Register("acme", "all", ToolPolicy::kApproveAll);
  Register("acme", "readonly", ToolPolicy::kApproveReadOnly);
  Register("acme", "tenant", ToolPolicy::kTenantDefault);
  const auto P = ToolState::kPendingReview;
  const auto A = ToolState::kApproved;
  using StateMap = std::map<std::string, ToolState>;
  EXPECT_EQ(States("acme", "review"),
            (StateMap{{"create_incident", P}, {"get_incident", P}, {"list_incidents", P}, {"list_users", P}}));
  EXPECT_EQ(States("acme", "all"),
            (StateMap{{"create_incident", A}, {"get_incident", A}, {"list_incidents", A}, {"list_users", A}}));
  EXPECT_EQ(States("acme", "readonly"),
            (StateMap{{"create_incident", P}, {"get_incident", A}, {"list_incidents", A}, {"list_users", A}}));
  // The tenant's default is pending_review without auto-approval.
  EXPECT_EQ(States("acme", "tenant"), States("acme", "review"));

  tenants_.Update(acme_, [](tenant::v1::Tenant& t) { t.mutable_settings()->set_auto_approve_read_only(true); });
  Register("acme", "tenant-ro", ToolPolicy::kTenantDefault);
  EXPECT_EQ(States("acme", "tenant-ro"), States("acme", "readonly"));
  tenants_.Update(acme_, [](tenant::v1::Tenant& t) {
    t.mutable_settings()->set_default_tool_state(tenant::v1::TOOL_STATE_APPROVED);
  });
  Register("acme", "tenant-all", ToolPolicy::kTenantDefault);
  EXPECT_EQ(States("acme", "tenant-all"), States("acme", "all"));
}

TEST_F(GovernanceServiceTest, SyncCountsNewChangedRemovedAndUnchangedTools) {
  Register("acme", "pagerduty", ToolPolicy::kApproveAll);
  auto tools = DefaultTools();
  tools.erase(tools.begin());  // create_incident vanishes
  tools[0] = MakeTool("get_incident", Access::kRead, {"incidents.read"}, "Fetches one incident, now with notes");
  tools.push_back(MakeTool("list_teams", Access::kRead, {"teams.read"}));
  tools_.Set(tools);

  auto sync = svc_->SyncTools(acme_admin_, "acme", "pagerduty");
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_THAT(sync->new_names, ElementsAre("list_teams"));
  EXPECT_THAT(sync->changed_names, ElementsAre("get_incident"));
  EXPECT_THAT(sync->removed_names, ElementsAre("create_incident"));
  EXPECT_EQ(sync->unchanged, 2);

  auto states = States("acme", "pagerduty");
  EXPECT_EQ(states["create_incident"], ToolState::kRemoved);
  EXPECT_EQ(states["get_incident"], ToolState::kPendingReview);  // was approved
  EXPECT_EQ(states["list_teams"], ToolState::kApproved);         // new, per policy
  EXPECT_EQ(states["list_incidents"], ToolState::kApproved);

  // A second run with nothing new changes nothing.
  auto again = svc_->SyncTools(acme_admin_, "acme", "pagerduty");
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->new_names, IsEmpty());
  EXPECT_THAT(again->changed_names, IsEmpty());
  EXPECT_THAT(again->removed_names, IsEmpty());
  EXPECT_EQ(again->unchanged, 4);
}

TEST_F(GovernanceServiceTest, ReDiscoveryAfterADefinitionChangeSendsTheToolBackToReviewAndOutOfAllowedTools) {
  Register("acme", "pagerduty");
  Approve("acme", "pagerduty", {"get_incident", "list_incidents"});
  AddProfile("acme", "responders", {kAllApprovedToolset}, {});
  const std::string ana = tenants_.AddUser(acme_, "ana@acme.com").id();
  ASSERT_TRUE(svc_->UpdateAccessProfile(op_, "acme", "responders",
                                        ProfileUpdate{{}, {}, {}, std::vector<std::string>{"user:ana@acme.com"}, {}})
                  .ok());
  EXPECT_THAT(Allowed(ana), ElementsAre("get_incident", "list_incidents"));

  auto tools = DefaultTools();
  tools[1] = MakeTool("get_incident", Access::kRead, {"incidents.read"}, "Now also deletes notes");
  tools_.Set(tools);
  auto sync = svc_->SyncTools(acme_admin_, "acme", "pagerduty");
  ASSERT_TRUE(sync.ok());
  EXPECT_THAT(sync->changed_names, ElementsAre("get_incident"));

  EXPECT_EQ(States("acme", "pagerduty")["get_incident"], ToolState::kPendingReview);
  EXPECT_THAT(Allowed(ana), ElementsAre("list_incidents"));
  auto d = Decide(ana, "get_incident");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reason, DenyReason::kToolPendingReview);
}

TEST_F(GovernanceServiceTest, AToolThatStartsWritingOrNeedsNewScopesCountsAsChanged) {
  Register("acme", "pagerduty", ToolPolicy::kApproveAll);
  auto tools = DefaultTools();
  DiscoveredTool writes = tools[2];  // list_incidents, same text
  writes.access = Access::kWrite;
  DiscoveredTool scoped = tools[3];  // list_users
  scoped.scopes.push_back("teams.read");
  tools[2] = writes;
  tools[3] = scoped;
  tools_.Set(tools);
  auto sync = svc_->SyncTools(op_, "acme", "pagerduty");
  ASSERT_TRUE(sync.ok());
  EXPECT_THAT(sync->changed_names, UnorderedElementsAre("list_incidents", "list_users"));
}

TEST_F(GovernanceServiceTest, ADisabledToolStaysDisabledWhenItsDefinitionChanges) {
  Register("acme", "pagerduty");
  ASSERT_TRUE(svc_->SetToolState(op_, "acme", "pagerduty", {"list_users"}, ToolState::kDisabled).ok());
  auto tools = DefaultTools();
  tools[3] = MakeTool("list_users", Access::kRead, {"users.read"}, "Lists users and their emails");
  tools_.Set(tools);
  ASSERT_TRUE(svc_->SyncTools(op_, "acme", "pagerduty").ok());
  EXPECT_EQ(States("acme", "pagerduty")["list_users"], ToolState::kDisabled);
}

TEST_F(GovernanceServiceTest, AVanishedToolThatReturnsEntersAsNewPerPolicy) {
  Register("acme", "pagerduty");
  Approve("acme", "pagerduty", {"list_users"});
  auto without = DefaultTools();
  without.pop_back();
  tools_.Set(without);
  ASSERT_TRUE(svc_->SyncTools(op_, "acme", "pagerduty").ok());
  tools_.Set(DefaultTools());
  auto back = svc_->SyncTools(op_, "acme", "pagerduty");
  ASSERT_TRUE(back.ok());
  EXPECT_THAT(back->new_names, ElementsAre("list_users"));
  EXPECT_EQ(States("acme", "pagerduty")["list_users"], ToolState::kPendingReview);
}

TEST_F(GovernanceServiceTest, SetToolStateIsAllOrNothing) {
  Register("acme", "pagerduty");
  const int64_t before = Version(acme_);
  auto r = svc_->SetToolState(acme_admin_, "acme", "pagerduty", {"list_incidents", "not_in_catalog"},
                              ToolState::kApproved);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "server 'pagerduty' has no tool 'not_in_catalog' (see ListTools)");
  EXPECT_EQ(States("acme", "pagerduty")["list_incidents"], ToolState::kPendingReview);
  EXPECT_EQ(Version(acme_), before);

  auto bulk = svc_->SetToolState(acme_admin_, "acme", "pagerduty", {"list_incidents", "get_incident"},
                                 ToolState::kApproved);
  ASSERT_TRUE(bulk.ok()) << bulk.status();
  EXPECT_EQ(bulk->tools.size(), 2u);
  EXPECT_EQ(bulk->tools[0].state_changed_by, "user:root@acme.com");
  EXPECT_GT(bulk->policy_version, before);
  EXPECT_EQ(svc_->SetToolState(op_, "acme", "pagerduty", {"list_users"}, ToolState::kRemoved).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GovernanceServiceTest, BadInputGetsAClearErrorAndChangesNothing) {
  Register("acme", "pagerduty");
  tenants_.AddUser(acme_, "ana@acme.com").id();
  AddToolset("acme", "oncall", "pagerduty", {"list_incidents"});
  const int64_t before = Version(acme_);

  struct Case {
    const char* name;
    std::function<absl::Status()> call;
    absl::StatusCode code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown server", [&] { return svc_->SyncTools(op_, "acme", "nosuch").status(); },
       absl::StatusCode::kNotFound, "server 'nosuch' not found in this tenant"},
      {"tool not in catalog",
       [&] { return svc_->CreateToolset(op_, "acme", {"triage", "", "pagerduty", {"rm_rf"}}).status(); },
       absl::StatusCode::kNotFound, "server 'pagerduty' has no tool 'rm_rf' (see ListTools)"},
      {"empty toolset name",
       [&] { return svc_->CreateToolset(op_, "acme", {"", "", "pagerduty", {"list_incidents"}}).status(); },
       absl::StatusCode::kInvalidArgument, "toolset name must not be empty"},
      {"built-in toolset name",
       [&] { return svc_->CreateToolset(op_, "acme", {"all-approved", "", "pagerduty", {}}).status(); },
       absl::StatusCode::kInvalidArgument, "'all-approved' is a built-in toolset; choose another name"},
      {"toolset on unknown server",
       [&] { return svc_->CreateToolset(op_, "acme", {"triage", "", "opsgenie", {}}).status(); },
       absl::StatusCode::kNotFound, "server 'opsgenie' not found in this tenant"},
      {"profile with unknown user",
       [&] { return svc_->CreateAccessProfile(op_, "acme", {"sre", "", {"oncall"}, {"user:bob@acme.com"}, {}}).status(); },
       absl::StatusCode::kNotFound, "user 'bob@acme.com' not found in this tenant"},
      {"profile with unknown group",
       [&] { return svc_->CreateAccessProfile(op_, "acme", {"sre", "", {"oncall"}, {"group:ghosts"}, {}}).status(); },
       absl::StatusCode::kNotFound, "group 'ghosts' not found in this tenant"},
      {"profile with malformed member",
       [&] { return svc_->CreateAccessProfile(op_, "acme", {"sre", "", {"oncall"}, {"ana@acme.com"}, {}}).status(); },
       absl::StatusCode::kInvalidArgument, "member 'ana@acme.com' must be user:<email or id> or group:<name or id>"},
      {"profile with unknown toolset",
       [&] { return svc_->CreateAccessProfile(op_, "acme", {"sre", "", {"nosuch"}, {"user:ana@acme.com"}, {}}).status(); },
       absl::StatusCode::kNotFound, "toolset 'nosuch' not found in this tenant"},
      {"profile expiring in the past",
       [&] {
         return svc_->CreateAccessProfile(op_, "acme", {"sre", "", {"oncall"}, {}, clock_.Now() - absl::Hours(1)}).status();
       },
       absl::StatusCode::kInvalidArgument, "expires_at must be in the future"},
      {"bad server name",
       [&] { return svc_->RegisterServer(op_, "acme", {"Pager Duty", ServerType::kPagerDuty, Region::kUs, AuthMode::kApiKey, ToolPolicy::kTenantDefault}).status(); },
       absl::StatusCode::kInvalidArgument,
       "server name 'Pager Duty' must be 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit"},
      {"unknown tenant", [&] { return svc_->ListServers(op_, "nosuch").status(); },
       absl::StatusCode::kNotFound, "tenant 'nosuch' not found"},
  };
  for (const Case& c : cases) {
    absl::Status s = c.call();
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
    EXPECT_EQ(s.message(), c.message) << c.name;
  }
  EXPECT_EQ(Version(acme_), before);
  EXPECT_EQ(svc_->ListToolsets(op_, "acme")->size(), 3u);  // two built-ins and oncall
  EXPECT_THAT(*svc_->ListAccessProfiles(op_, "acme"), IsEmpty());
}

TEST_F(GovernanceServiceTest, ToolsetsListBuiltInsFirstAndBuiltInsCannotBeChanged) {
  Register("acme", "pagerduty");
  AddToolset("acme", "oncall", "pagerduty", {"list_incidents", "get_incident", "list_incidents"});
  auto sets = svc_->ListToolsets(acme_admin_, "acme");
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->size(), 3u);
  EXPECT_EQ((*sets)[0].toolset.name, "all-approved");
  EXPECT_TRUE((*sets)[0].builtin);
  EXPECT_EQ((*sets)[1].toolset.name, "approved-read-only");
  EXPECT_EQ((*sets)[2].toolset.name, "oncall");
  EXPECT_EQ((*sets)[2].server_name, "pagerduty");
  EXPECT_THAT((*sets)[2].toolset.tools, ElementsAre("get_incident", "list_incidents"));
  EXPECT_EQ(svc_->DeleteToolset(op_, "acme", "all-approved").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc_->UpdateToolset(op_, "acme", "approved-read-only", {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(GovernanceServiceTest, DeletingAToolsetTakesItOutOfProfilesAndTheirGrants) {
  Register("acme", "pagerduty");
  Approve("acme", "pagerduty", {"list_incidents"});
  AddToolset("acme", "oncall", "pagerduty", {"list_incidents"});
  const std::string ana = tenants_.AddUser(acme_, "ana@acme.com").id();
  AddProfile("acme", "responders", {"oncall", "approved-read-only"}, {"user:ana@acme.com"});
  AddProfile("acme", "writers", {"oncall"}, {"user:ana@acme.com"});
  auto changed = svc_->DeleteToolset(acme_admin_, "acme", "oncall");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT(*changed, UnorderedElementsAre("responders", "writers"));
  auto profiles = svc_->ListAccessProfiles(op_, "acme");
  ASSERT_EQ(profiles->size(), 2u);
  EXPECT_THAT((*profiles)[0].toolset_names, ElementsAre("approved-read-only"));
  EXPECT_THAT((*profiles)[1].toolset_names, IsEmpty());
  // Still allowed through the built-in.
  EXPECT_THAT(Allowed(ana), ElementsAre("list_incidents"));
}

TEST_F(GovernanceServiceTest, DeletingAServerDeletesItsToolsetsAndItsDecisions) {
  Register("acme", "pagerduty");
  Approve("acme", "pagerduty", {"list_incidents"});
  AddToolset("acme", "oncall", "pagerduty", {"list_incidents"});
  const std::string ana = tenants_.AddUser(acme_, "ana@acme.com").id();
  AddProfile("acme", "responders", {"oncall"}, {"user:ana@acme.com"});
  ASSERT_TRUE(Decide(ana, "list_incidents")->allowed);
  auto deleted = svc_->DeleteServer(acme_admin_, "acme", "pagerduty");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->tools_deleted, 4);
  EXPECT_THAT(deleted->toolsets_deleted, ElementsAre("oncall"));
  EXPECT_THAT((*svc_->ListAccessProfiles(op_, "acme"))[0].toolset_names, IsEmpty());
  EXPECT_EQ(Decide(ana, "list_incidents")->reason, DenyReason::kServerUnavailable);
}

TEST_F(GovernanceServiceTest, ProfilesResolveMembersAndReportExpiry) {
  Register("acme", "pagerduty");
  const std::string ana = tenants_.AddUser(acme_, "ana@acme.com").id();
  const std::string sre = tenants_.AddGroup(acme_, "sre");
  ProfileSpec spec{"responders", "on-call people", {"all-approved"}, {"user:ana@acme.com", "group:sre", "user:" + ana},
                   clock_.Now() + absl::Hours(1)};
  auto p = svc_->CreateAccessProfile(acme_admin_, "acme", spec);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->profile.members.size(), 2u);  // ana once
  EXPECT_EQ(p->profile.members[0].id, ana);
  EXPECT_EQ(p->profile.members[0].label, "ana@acme.com");
  EXPECT_EQ(p->profile.members[1].kind, Member::Kind::kGroup);
  EXPECT_EQ(p->profile.members[1].id, sre);
  EXPECT_FALSE(p->expired);
  clock_.Advance(absl::Hours(2));
  EXPECT_TRUE((*svc_->ListAccessProfiles(op_, "acme"))[0].expired);

  ProfileUpdate renew;
  renew.expires_at = std::optional<absl::Time>();  // no expiry any more
  auto renewed = svc_->UpdateAccessProfile(acme_admin_, "acme", "responders", renew);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_FALSE(renewed->expired);
  EXPECT_FALSE(renewed->profile.expires_at.has_value());
}

TEST_F(GovernanceServiceTest, AnAdminOfOneTenantCanNeitherReadNorChangeAnothersPolicy) {
  Server theirs = Register("globex", "pagerduty");
  Approve("globex", "pagerduty", {"list_incidents"});
  AddToolset("globex", "oncall", "pagerduty", {"list_incidents"});
  AddProfile("globex", "responders", {"oncall"}, {});
  Register("acme", "pagerduty");
  const int64_t globex_before = Version(globex_);
  const auto& a = acme_admin_;

  std::vector<std::pair<const char*, absl::Status>> attempts = {
      {"GetServer", svc_->GetServer(a, "globex", "pagerduty").status()},
      {"ListServers", svc_->ListServers(a, "globex").status()},
      {"UpdateServer", svc_->UpdateServer(a, "globex", "pagerduty", {{}, {}, {}, false}).status()},
      {"DeleteServer", svc_->DeleteServer(a, "globex", "pagerduty").status()},
      {"SyncTools", svc_->SyncTools(a, "globex", "pagerduty").status()},
      {"ListTools", svc_->ListTools(a, "globex", "pagerduty", std::nullopt).status()},
      {"SetToolState", svc_->SetToolState(a, "globex", "pagerduty", {"list_incidents"}, ToolState::kDisabled).status()},
      {"SetToolKillSwitch", svc_->SetToolKillSwitch(a, "globex", "pagerduty", "list_incidents", true).status()},
      {"ListToolsets", svc_->ListToolsets(a, "globex").status()},
      {"DeleteToolset", svc_->DeleteToolset(a, "globex", "oncall").status()},
      {"ListAccessProfiles", svc_->ListAccessProfiles(a, "globex").status()},
      {"UpdateAccessProfile", svc_->UpdateAccessProfile(a, "globex", "responders", {}).status()},
      {"DeleteAccessProfile", svc_->DeleteAccessProfile(a, "globex", "responders")},
      {"QueryAudit", svc_->QueryAudit(a, "globex", {}, 10, "").status()},
      {"VerifyAuditChain", svc_->VerifyAuditChain(a, "globex").status()},
      {"UpdateAuditSettings", svc_->UpdateAuditSettings(a, "globex", {true}).status()},
  };
  for (const auto& [name, s] : attempts) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << name;
    EXPECT_EQ(s.message(), "tenant 'globex' not found") << name;  // as for a tenant that does not exist
  }
  // Through its own tenant, the other tenant's server id resolves to nothing.
  auto by_id = svc_->GetServer(a, "acme", theirs.id);
  EXPECT_EQ(by_id.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->SetToolState(a, "acme", theirs.id, {"list_incidents"}, ToolState::kDisabled).status().code(),
            absl::StatusCode::kNotFound);

  EXPECT_EQ(Version(globex_), globex_before);
  EXPECT_EQ(States("globex", "pagerduty")["list_incidents"], ToolState::kApproved);
  EXPECT_EQ(svc_->ListAccessProfiles(globex_admin_, "globex")->size(), 1u);
}

TEST_F(GovernanceServiceTest, OnlyAdminsAndTheOperatorMayAdminister) {
  auth::Caller member = Admin(acme_, "ana@acme.com");
  member.kind = auth::Caller::Kind::kTenantMember;
  EXPECT_EQ(svc_->ListServers(member, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->ListServers(auth::Caller{}, "acme").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(svc_->ListServers(edge_, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(svc_->ListServers(op_, "acme").ok());
}

TEST_F(GovernanceServiceTest, ListToolsFlagsToolsTheServersCredentialCannotServe) {
  Register("acme", "keys", ToolPolicy::kRequireReview, AuthMode::kApiKey);
  Register("acme", "apps", ToolPolicy::kRequireReview, AuthMode::kOAuth);
  Register("acme", "empty", ToolPolicy::kRequireReview, AuthMode::kApiKey);
  CredentialInfo read_only_key;
  read_only_key.present = true;
  read_only_key.read_only = true;
  creds_.Set(acme_, "keys", read_only_key);
  CredentialInfo app;
  app.present = true;
  app.mode = AuthMode::kOAuth;
  app.scopes = {"incidents.read", "incidents.write"};
  creds_.Set(acme_, "apps", app);
  creds_.Set(acme_, "empty", CredentialInfo{});

  auto fits = [&](const std::string& server) {
    std::map<std::string, std::string> out;  // flagged tool -> problem
    auto tools = svc_->ListTools(acme_admin_, "acme", server, std::nullopt);
    EXPECT_TRUE(tools.ok()) << tools.status();
    for (const auto& v : *tools) {
      EXPECT_TRUE(v.credential.known);
      if (!v.credential.can_serve) out[v.tool.name] = v.credential.problem;
    }
    return out;
  };
  auto keys = fits("keys");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys["create_incident"], "the server's API key is read-only and this tool writes");
  auto apps = fits("apps");
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps["list_users"], "the server's OAuth app lacks scope(s) users.read that this tool needs");
  EXPECT_EQ(fits("empty").size(), 4u);

  creds_.SetUnavailable(true);
  auto unknown = svc_->ListTools(acme_admin_, "acme", "keys", std::nullopt);
  ASSERT_TRUE(unknown.ok());
  for (const auto& v : *unknown) {
    EXPECT_FALSE(v.credential.known);
    EXPECT_TRUE(v.credential.can_serve);
  }
  auto pending = svc_->ListTools(acme_admin_, "acme", "keys", ToolState::kApproved);
  EXPECT_THAT(*pending, IsEmpty());
}

TEST_F(GovernanceServiceTest, EveryAdminChangeIsAnAuditEventNamingWhoDidWhat) {
  Register("acme", "pagerduty");
  ASSERT_TRUE(svc_->SetToolState(acme_admin_, "acme", "pagerduty", {"list_incidents"}, ToolState::kApproved).ok());
  ASSERT_TRUE(svc_->CreateToolset(acme_admin_, "acme", {"oncall", "", "pagerduty", {"list_incidents"}}).ok());
  AuditFilter f;
  f.kind = AuditKind::kAdminChange;
  auto page = svc_->QueryAudit(acme_admin_, "acme", f, 10, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 3u);  // newest first
  EXPECT_EQ(page->events[0].action, "toolset.create");
  EXPECT_EQ(page->events[1].action, "tools.set_state");
  EXPECT_EQ(page->events[1].actor, "user:root@acme.com");
  EXPECT_EQ(page->events[1].target, "pagerduty");
  EXPECT_EQ(page->events[1].details_json, R"({"state":"approved","tools":["list_incidents"]})");
  EXPECT_EQ(page->events[2].action, "server.register");
  EXPECT_EQ(page->events[2].actor, "operator");
}

TEST_F(GovernanceServiceTest, AChangeRacingAnotherIsRetriedOnTheNewVersion) {
  Register("acme", "pagerduty");
  store_.fail_next_apply_with = absl::AbortedError("policy version moved on");
  auto r = svc_->SetToolState(op_, "acme", "pagerduty", {"list_users"}, ToolState::kApproved);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(States("acme", "pagerduty")["list_users"], ToolState::kApproved);
}

TEST_F(GovernanceServiceTest, UpdateServerChangesOnlyWhatIsGiven) {
  Register("acme", "pagerduty");
  ServerUpdate u;
  u.region = Region::kEu;
  auto s = svc_->UpdateServer(acme_admin_, "acme", "pagerduty", u);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->region, Region::kEu);
  EXPECT_EQ(s->auth_mode, AuthMode::kApiKey);
  EXPECT_TRUE(s->enabled);
  EXPECT_EQ(svc_->GetServer(op_, "acme", s->id)->region, Region::kEu);
}

}  // namespace
}  // namespace bastion::governance
