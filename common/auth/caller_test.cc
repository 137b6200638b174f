#include "common/auth/caller.h"

#include "gtest/gtest.h"

namespace bastion::auth {
namespace {

class CallerResolverTest : public ::testing::Test {
 protected:
  CallerResolverTest()
      : resolver_("operator-secret", Identities(),
                  [this](const std::string& token) -> absl::StatusOr<TokenIdentity> {
                    ++lookups_;
                    if (token == "bst_admin") return TokenIdentity{"t1", "acme", "u1", "ana@acme.com", true};
                    if (token == "bst_member") return TokenIdentity{"t1", "acme", "u2", "bo@acme.com", false};
                    if (token == "bst_down") return absl::UnavailableError("tenant service down");
                    return absl::UnauthenticatedError("unknown client token");
                  },
                  clock_, absl::Seconds(10)) {}

  static grpcutil::ServiceIdentities Identities() {
    grpcutil::ServiceIdentities ids;
    ids.Add("edge", "edge-secret");
    return ids;
  }

  FakeClock clock_;
  int lookups_ = 0;
  CallerResolver resolver_;
};

TEST_F(CallerResolverTest, KnownServiceTokensIdentifyTheServiceAndUnknownOnesAreRejected) {
  auto edge = resolver_.Resolve(std::string("edge-secret"), std::nullopt);
  ASSERT_TRUE(edge.ok());
  EXPECT_TRUE(edge->is_service("edge"));
  EXPECT_EQ(resolver_.Resolve(std::string("forged"), std::nullopt).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(CallerResolverTest, TheOperatorTokenMakesTheOperator) {
  auto op = resolver_.Resolve(std::nullopt, std::string("operator-secret"));
  ASSERT_TRUE(op.ok());
  EXPECT_TRUE(op->is_operator());
  EXPECT_EQ(lookups_, 0);
}

TEST_F(CallerResolverTest, ClientTokensResolveToTenantUsersAndAreCachedBriefly) {
  auto admin = resolver_.Resolve(std::nullopt, std::string("bst_admin"));
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->kind, Caller::Kind::kTenantAdmin);
  EXPECT_EQ(admin->Actor(), "user:ana@acme.com");
  ASSERT_TRUE(resolver_.Resolve(std::nullopt, std::string("bst_admin")).ok());
  EXPECT_EQ(lookups_, 1);
  clock_.Advance(absl::Seconds(11));
  ASSERT_TRUE(resolver_.Resolve(std::nullopt, std::string("bst_admin")).ok());
  EXPECT_EQ(lookups_, 2);
  EXPECT_EQ(resolver_.Resolve(std::nullopt, std::string("bst_member"))->kind, Caller::Kind::kTenantMember);
}

TEST_F(CallerResolverTest, BadTokensAreUnauthenticatedAndAnOutageIsUnavailable) {
  EXPECT_EQ(resolver_.Resolve(std::nullopt, std::string("bst_nope")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(resolver_.Resolve(std::nullopt, std::string("bst_down")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(resolver_.Resolve(std::nullopt, std::nullopt)->kind, Caller::Kind::kNone);
}

TEST(RequireTenantAdmin, OtherTenantsLookUnknownAndMembersAreRefused) {
  Caller admin{Caller::Kind::kTenantAdmin, "t1", "acme", "u1", "ana@acme.com", ""};
  EXPECT_TRUE(RequireTenantAdmin(admin, "t1", "acme").ok());
  absl::Status other = RequireTenantAdmin(admin, "t2", "globex");
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.message(), "tenant 'globex' not found");
  Caller member = admin;
  member.kind = Caller::Kind::kTenantMember;
  EXPECT_EQ(RequireTenantAdmin(member, "t1", "acme").code(), absl::StatusCode::kPermissionDenied);
  Caller op;
  op.kind = Caller::Kind::kOperator;
  EXPECT_TRUE(RequireTenantAdmin(op, "t2", "globex").ok());
  EXPECT_EQ(RequireTenantAdmin(Caller{}, "t1", "acme").code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace bastion::auth
