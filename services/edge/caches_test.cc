#include "services/edge/caches.h"

#include "gtest/gtest.h"
#include "services/edge/testing/fakes.h"

namespace bastion::edge {
namespace {

class CountingPolicy : public FakePolicy {
 public:
  absl::StatusOr<AllowedTools> ListAllowedTools(const Identity& who, const std::string& server) override {
    ++lists;
    auto out = FakePolicy::ListAllowedTools(who, server);
    if (out.ok()) out->policy_version = version;
    return out;
  }
  int lists = 0;
  int64_t version = 1;
};

TEST(Caches, IdentitiesAreServedFromMemoryUntilTheyExpire) {
  FakeClock clock;
  metrics::Registry registry;
  CacheStats stats(registry);
  FakeDirectory inner;
  inner.AddToken("bst_a", Identity{"t", "acme", "u", "a@acme.com", {}, "personal", "k"});
  CachingDirectory cache(inner, clock, stats, absl::Seconds(30));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache.Authenticate("bst_a").ok());
  EXPECT_EQ(inner.authentications, 1);
  EXPECT_FALSE(cache.Authenticate("bst_unknown").ok());
  EXPECT_FALSE(cache.Authenticate("bst_unknown").ok());
  EXPECT_EQ(inner.authentications, 2);  // a bad token is remembered briefly too
  clock.Advance(absl::Seconds(31));
  ASSERT_TRUE(cache.Authenticate("bst_a").ok());
  EXPECT_EQ(inner.authentications, 3);
}

class CountingDirectory : public FakeDirectory {
 public:
  absl::StatusOr<TenantAccess> CheckAccess(const std::string& slug) override {
    ++checks;
    return FakeDirectory::CheckAccess(slug);
  }
  int checks = 0;
};

TEST(Caches, AnActivationIsSeenOnTheNextRequestAndAllowedAccessIsRemembered) {
  FakeClock clock;
  metrics::Registry registry;
  CacheStats stats(registry);
  CountingDirectory inner;
  inner.SetAccess("acme", TenantAccess{false, "Activation required.", 1});
  CachingDirectory cache(inner, clock, stats, absl::Seconds(30), absl::Seconds(2));
  EXPECT_FALSE(cache.CheckAccess("acme")->allowed);
  inner.SetAccess("acme", TenantAccess{true, "", 2});
  EXPECT_TRUE(cache.CheckAccess("acme")->allowed);
  EXPECT_TRUE(cache.CheckAccess("acme")->allowed);
  EXPECT_EQ(inner.checks, 2);
  inner.SetAccess("acme", TenantAccess{false, "kill switch", 3});
  clock.Advance(absl::Seconds(3));
  EXPECT_FALSE(cache.CheckAccess("acme")->allowed);
}

class CountingCredentials : public FakeCredentials {
 public:
  absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const Identity& who, const std::string& s) override {
    ++fetches;
    auto c = FakeCredentials::GetUpstreamCredential(who, s);
    if (c.ok()) c->expires_at = expires_at;
    return c;
  }
  int fetches = 0;
  std::optional<absl::Time> expires_at;
};

TEST(Caches, CredentialsAreReusedBrieflyAndARejectedOneIsForgotten) {
  FakeClock clock;
  metrics::Registry registry;
  CacheStats stats(registry);
  CountingCredentials inner;
  CachingCredentials cache(inner, clock, stats, absl::Seconds(30));
  Identity ana{"t", "acme", "u-ana", "ana@acme.com", {}, "personal", "k"};
  Identity bo{"t", "acme", "u-bo", "bo@acme.com", {}, "personal", "k2"};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.GetUpstreamCredential(ana, "pagerduty").ok());
  EXPECT_EQ(inner.fetches, 1);
  ASSERT_TRUE(cache.GetUpstreamCredential(bo, "pagerduty").ok());  // per user
  EXPECT_EQ(inner.fetches, 2);
  cache.Forget(ana, "pagerduty");
  ASSERT_TRUE(cache.GetUpstreamCredential(ana, "pagerduty").ok());
  EXPECT_EQ(inner.fetches, 3);
  clock.Advance(absl::Seconds(31));
  ASSERT_TRUE(cache.GetUpstreamCredential(ana, "pagerduty").ok());
  EXPECT_EQ(inner.fetches, 4);
}

TEST(Caches, AnOAuthTokenCloseToExpiryIsNotCached) {
  FakeClock clock;
  metrics::Registry registry;
  CacheStats stats(registry);
  CountingCredentials inner;
  inner.expires_at = clock.Now() + absl::Seconds(45);
  CachingCredentials cache(inner, clock, stats, absl::Seconds(30));
  Identity ana{"t", "acme", "u-ana", "ana@acme.com", {}, "personal", "k"};
  ASSERT_TRUE(cache.GetUpstreamCredential(ana, "pagerduty").ok());
  ASSERT_TRUE(cache.GetUpstreamCredential(ana, "pagerduty").ok());
  EXPECT_EQ(inner.fetches, 2);
}

TEST(Caches, ANewPolicyVersionDropsCachedToolListsAtOnce) {
  FakeClock clock;
  metrics::Registry registry;
  CacheStats stats(registry);
  CountingPolicy inner;
  inner.Allow("u", "list_incidents");
  CachingPolicy cache(inner, clock, stats);
  Identity who{"t", "acme", "u", "a@acme.com", {}, "personal", "k"};
  ASSERT_TRUE(cache.ListAllowedTools(who, "pagerduty").ok());
  ASSERT_TRUE(cache.ListAllowedTools(who, "pagerduty").ok());
  EXPECT_EQ(inner.lists, 1);
  inner.Allow("u", "get_incident");
  inner.version = 2;
  cache.Invalidate("t", 2);
  auto fresh = cache.ListAllowedTools(who, "pagerduty");
  EXPECT_EQ(inner.lists, 2);
  EXPECT_EQ(fresh->names.size(), 2u);
  cache.Invalidate("other-tenant", 9);
  ASSERT_TRUE(cache.ListAllowedTools(who, "pagerduty").ok());
  EXPECT_EQ(inner.lists, 2);
}

TEST(Caches, AllowedToolsAreNotServedPastTheFirstGrantExpiryBehindThem) {
  FakeClock clock;
  metrics::Registry registry;
  CacheStats stats(registry);
  FakePolicy inner(&clock);
  inner.Allow("u", "list_incidents");
  inner.Allow("u", "create_incident", clock.Now() + absl::Seconds(5));  // a temporary grant
  CachingPolicy cache(inner, clock, stats, absl::Seconds(60));
  Identity who{"t", "acme", "u", "a@acme.com", {}, "personal", "k"};
  ASSERT_EQ(cache.ListAllowedTools(who, "pagerduty")->names.size(), 2u);
  clock.Advance(absl::Seconds(4));
  EXPECT_EQ(cache.ListAllowedTools(who, "pagerduty")->names.size(), 2u);  // still granted
  clock.Advance(absl::Seconds(1));
  // The grant has expired and no policy version changed: the entry ends with it.
  auto after = cache.ListAllowedTools(who, "pagerduty");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->names, std::vector<std::string>{"list_incidents"});
  EXPECT_EQ(after->valid_until, absl::InfiniteFuture());
}

}  // namespace
}  // namespace bastion::edge
