// Discovery over the real PagerDuty catalog: every tool arrives reviewable and hashes stably.
#include "services/governance/pagerduty_tool_source.h"

#include <set>

#include <boost/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/governance/testing/governance_fixture.h"

namespace bastion::governance {
namespace {

using ::testing::ElementsAre;

TEST(PagerDutyToolSource, ListsEveryCatalogToolWithItsDefinitionAccessAndScopes) {
  PagerDutyToolSource source;
  auto tools = source.ListTools(ServerType::kPagerDuty);
  ASSERT_TRUE(tools.ok()) << tools.status();
  EXPECT_EQ(tools->size(), 103u);
  std::set<std::string> names;
  for (const DiscoveredTool& t : *tools) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    boost::json::error_code ec;
    boost::json::value def = boost::json::parse(t.definition_json, ec);
    ASSERT_FALSE(ec) << t.name;
    EXPECT_TRUE(def.as_object().contains("inputSchema")) << t.name;
    EXPECT_EQ(def.at("description").as_string(), t.description);
    EXPECT_EQ(def.at("annotations").at("readOnlyHint").as_bool(), t.annotations.read_only) << t.name;
  }
  auto find = [&](const std::string& name) {
    for (const auto& t : *tools) {
      if (t.name == name) return t;
    }
    ADD_FAILURE() << name << " missing";
    return DiscoveredTool{};
  };
  DiscoveredTool list = find("list_incidents");
  EXPECT_EQ(list.access, Access::kRead);
  EXPECT_TRUE(list.annotations.read_only);
  EXPECT_THAT(list.scopes, ElementsAre("incidents.read"));
  DiscoveredTool create = find("create_incident");
  EXPECT_EQ(create.access, Access::kWrite);
  EXPECT_FALSE(create.annotations.read_only);
}

class CatalogDiscoveryTest : public GovernanceFixture {};

TEST_F(CatalogDiscoveryTest, RegisteringAgainstTheCatalogFindsEveryToolAndASecondSyncChangesNothing) {
  PagerDutyToolSource catalog;
  GovernanceService svc(store_, clock_, tenants_, catalog, creds_);
  ServerSpec spec;
  spec.name = "pagerduty";
  spec.tool_policy = ToolPolicy::kApproveReadOnly;
  auto reg = svc.RegisterServer(op_, "acme", spec);
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(reg->discovery.new_names.size(), 103u);

  auto tools = svc.ListTools(op_, "acme", "pagerduty", std::nullopt);
  ASSERT_TRUE(tools.ok());
  for (const ToolView& v : *tools) {
    EXPECT_EQ(v.tool.state == ToolState::kApproved, v.tool.read_only()) << v.tool.name;
  }
  auto again = svc.SyncTools(op_, "acme", "pagerduty");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 103);
  EXPECT_TRUE(again->changed_names.empty());
  EXPECT_EQ(catalog.ListTools(static_cast<ServerType>(7)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bastion::governance
