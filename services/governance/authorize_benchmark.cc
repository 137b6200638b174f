// What a decision costs on the hot path: Authorize and ListAllowedTools through the logic on a
// warm snapshot (no I/O), the bare snapshot lookup, and a snapshot rebuild after a change.
// Run: bazel run -c opt //services/governance:authorize_benchmark
#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "services/governance/governance_service.h"
#include "services/governance/testing/fake_credential_info.h"
#include "services/governance/testing/fake_governance_store.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/governance/testing/fake_tool_source.h"

namespace bastion::governance {
namespace {

constexpr int kTools = 100;
constexpr int kToolsets = 20;
constexpr int kProfiles = 50;
constexpr int kUsersPerProfile = 20;

// One tenant with a PagerDuty-sized server: 100 tools (half read-only, all approved), 20
// toolsets of 10 tools, 50 profiles of 20 users and one group each.
struct World {
  World() {
    tenant_id = tenants.AddTenant("acme");
    std::vector<DiscoveredTool> list;
    for (int i = 0; i < kTools; ++i) {
      list.push_back(MakeTool(absl::StrCat("tool_", i), i % 2 ? Access::kWrite : Access::kRead,
                              {absl::StrCat("scope_", i % 10, ".read")}));
    }
    tools.Set(list);
    GovernanceOptions o;
    o.facts_ttl = absl::Hours(1);
    svc = std::make_unique<GovernanceService>(store, RealClock::Get(), tenants, tools, creds, o);
    auth::Caller op;
    op.kind = auth::Caller::Kind::kOperator;
    edge.kind = auth::Caller::Kind::kService;
    edge.service = "edge";
    ServerSpec spec;
    spec.name = "pagerduty";
    spec.tool_policy = ToolPolicy::kApproveAll;
    BASTION_CHECK(svc->RegisterServer(op, "acme", spec).ok());
    for (int t = 0; t < kToolsets; ++t) {
      ToolsetSpec ts{absl::StrCat("set-", t), "", "pagerduty", {}};
      for (int i = 0; i < 10; ++i) ts.tools.push_back(absl::StrCat("tool_", (t * 7 + i) % kTools));
      BASTION_CHECK(svc->CreateToolset(op, "acme", ts).ok());
    }
    for (int p = 0; p < kProfiles; ++p) {
      ProfileSpec ps{absl::StrCat("profile-", p), "", {absl::StrCat("set-", p % kToolsets)}, {}, std::nullopt};
      for (int u = 0; u < kUsersPerProfile; ++u) {
        const std::string email = absl::StrCat("user", p * kUsersPerProfile + u, "@acme.com");
        users.push_back(tenants.AddUser(tenant_id, email).id());
        ps.members.push_back("user:" + email);
      }
      groups.push_back(tenants.AddGroup(tenant_id, absl::StrCat("group-", p)));
      ps.members.push_back(absl::StrCat("group:group-", p));
      BASTION_CHECK(svc->CreateAccessProfile(op, "acme", ps).ok());
    }
  }

  FakeGovernanceStore store;
  tenant::FakeTenantClient tenants;
  FakeToolSource tools;
  FakeCredentialInfo creds;
  std::unique_ptr<GovernanceService> svc;
  auth::Caller edge;
  std::string tenant_id;
  std::vector<std::string> users;
  std::vector<std::string> groups;
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

// users[0] is in profile-0, which grants set-0 = tool_0..tool_9.
void BM_AuthorizeAllowed(benchmark::State& state) {
  World& w = TheWorld();
  AuthorizeInput in{"acme", w.users[0], {w.groups[3]}, "pagerduty", "tool_4"};
  BASTION_CHECK(w.svc->Authorize(w.edge, in)->allowed);
  for (auto _ : state) benchmark::DoNotOptimize(w.svc->Authorize(w.edge, in));
}
BENCHMARK(BM_AuthorizeAllowed)->Threads(1)->Threads(2);

void BM_AuthorizeDenied(benchmark::State& state) {
  World& w = TheWorld();
  AuthorizeInput in{"acme", w.users[0], {}, "pagerduty", "tool_55"};
  BASTION_CHECK(w.svc->Authorize(w.edge, in)->reason == DenyReason::kNotGranted);
  for (auto _ : state) benchmark::DoNotOptimize(w.svc->Authorize(w.edge, in));
}
BENCHMARK(BM_AuthorizeDenied)->Threads(1)->Threads(2);

void BM_ListAllowedTools(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.svc->ListAllowedTools(w.edge, "acme", w.users[0], {w.groups[3]}, "pagerduty"));
  }
}
BENCHMARK(BM_ListAllowedTools);

// The cost of re-reading and re-indexing the tenant's policy after a change (the store is in
// memory here, so this is the CPU part of a rebuild; Postgres adds its round trips).
void BM_SnapshotRebuildAfterChange(benchmark::State& state) {
  World& w = TheWorld();
  AuthorizeInput in{"acme", w.users[0], {}, "pagerduty", "tool_4"};
  int64_t version = *w.store.PolicyVersion(w.tenant_id);
  for (auto _ : state) {
    w.svc->OnPolicyVersion(w.tenant_id, ++version);
    w.store.BumpVersion(w.tenant_id);
    benchmark::DoNotOptimize(w.svc->Authorize(w.edge, in));
  }
}
BENCHMARK(BM_SnapshotRebuildAfterChange);

}  // namespace
}  // namespace bastion::governance
