// The world governance logic tests run in: fakes of the store, tenant service, tool catalog and
// vault, two tenants (acme, globex) with admins, and shortcuts for common setups.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/governance/governance_service.h"
#include "services/governance/testing/fake_credential_info.h"
#include "services/governance/testing/fake_governance_store.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/governance/testing/fake_tool_source.h"

namespace bastion::governance {

inline std::vector<DiscoveredTool> DefaultTools() {
  return {MakeTool("create_incident", Access::kWrite, {"incidents.write"}),
          MakeTool("get_incident", Access::kRead, {"incidents.read"}),
          MakeTool("list_incidents", Access::kRead, {"incidents.read"}),
          MakeTool("list_users", Access::kRead, {"users.read"})};
}

class GovernanceFixture : public ::testing::Test {
 public:
  GovernanceFixture() {
    acme_ = tenants_.AddTenant("acme");
    globex_ = tenants_.AddTenant("globex");
    tools_.Set(DefaultTools());
    svc_ = NewService();
    acme_admin_ = Admin(acme_, "root@acme.com");
    globex_admin_ = Admin(globex_, "root@globex.com");
    edge_.kind = auth::Caller::Kind::kService;
    edge_.service = "edge";
    op_.kind = auth::Caller::Kind::kOperator;
  }

  // Another replica: its own snapshots over the same store and tenant service.
  std::unique_ptr<GovernanceService> NewService() {
    GovernanceOptions o;
    o.facts_ttl = absl::Seconds(2);
    return std::make_unique<GovernanceService>(store_, clock_, tenants_, tools_, creds_, o);
  }

  static auth::Caller Admin(const std::string& tenant_id, const std::string& email) {
    auth::Caller c;
    c.kind = auth::Caller::Kind::kTenantAdmin;
    c.tenant_id = tenant_id;
    c.user_id = "id-" + email;
    c.email = email;
    return c;
  }

  Server Register(const std::string& tenant, const std::string& name,
                  ToolPolicy policy = ToolPolicy::kRequireReview,
                  AuthMode mode = AuthMode::kApiKey) {
    ServerSpec spec;
    spec.name = name;
    spec.tool_policy = policy;
    spec.auth_mode = mode;
    auto r = svc_->RegisterServer(op_, tenant, spec);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->server : Server{};
  }

  void Approve(const std::string& tenant, const std::string& server,
               const std::vector<std::string>& tools) {
    auto r = svc_->SetToolState(op_, tenant, server, tools, ToolState::kApproved);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  void AddToolset(const std::string& tenant, const std::string& name, const std::string& server,
               const std::vector<std::string>& tools) {
    ToolsetSpec spec{name, "", server, tools};
    auto r = svc_->CreateToolset(op_, tenant, spec);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  void AddProfile(const std::string& tenant, const std::string& name,
               const std::vector<std::string>& toolsets, const std::vector<std::string>& members,
               std::optional<absl::Time> expires_at = std::nullopt) {
    ProfileSpec spec{name, "", toolsets, members, expires_at};
    auto r = svc_->CreateAccessProfile(op_, tenant, spec);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  absl::StatusOr<DecisionResult> Decide(const std::string& user_id, const std::string& tool,
                                        const std::vector<std::string>& groups = {},
                                        const std::string& server = "pagerduty",
                                        GovernanceService* svc = nullptr) {
    AuthorizeInput in{"acme", user_id, groups, server, tool};
    return (svc != nullptr ? svc : svc_.get())->Authorize(edge_, in);
  }

  std::vector<std::string> Allowed(const std::string& user_id,
                                   const std::vector<std::string>& groups = {},
                                   GovernanceService* svc = nullptr) {
    auto r = (svc != nullptr ? svc : svc_.get())
                 ->ListAllowedTools(edge_, "acme", user_id, groups, "pagerduty");
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> names;
    if (r.ok()) {
      for (const auto& t : r->tools) names.push_back(t.name);
    }
    return names;
  }

  FakeGovernanceStore store_;
  FakeClock clock_;
  tenant::FakeTenantClient tenants_;
  FakeToolSource tools_;
  FakeCredentialInfo creds_;
  std::unique_ptr<GovernanceService> svc_;
  std::string acme_;
  std::string globex_;
  auth::Caller acme_admin_;
  auth::Caller globex_admin_;
  auth::Caller edge_;
  auth::Caller op_;
};

}  // namespace bastion::governance
