// The vault adapter through a real gRPC channel, against a stand-in VaultService that answers
// GetCredentialInfo only (the vault itself is another service).
#include "services/governance/vault_credential_info.h"

#include <map>

#include "common/grpc/grpc_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::governance {
namespace {

using ::testing::ElementsAre;
namespace v1 = ::bastion::vault::v1;

class StandInVault final : public v1::VaultService::CallbackService {
 public:
  std::map<std::string, v1::CredentialInfo> infos;  // by server
  std::string seen_token;
  std::string seen_tenant;

  grpc::ServerUnaryReactor* GetCredentialInfo(grpc::CallbackServerContext* ctx,
                                              const v1::CredentialRef* req,
                                              v1::CredentialInfo* resp) override {
    seen_token = grpcutil::Metadata(*ctx, grpcutil::kServiceTokenHeader).value_or("");
    seen_tenant = req->tenant();
    auto* reactor = ctx->DefaultReactor();
    auto it = infos.find(req->server());
    if (req->server() == "broken") {
      reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "boom"));
    } else if (it == infos.end()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no credential"));
    } else {
      *resp = it->second;
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }
};

TEST(VaultCredentialInfo, MapsTheVaultsMetadataAndTreatsNotFoundAsNoCredential) {
  StandInVault vault;
  v1::CredentialInfo key;
  key.set_mode(v1::AUTH_MODE_API_KEY);
  key.set_access(v1::ACCESS_READ_ONLY);
  vault.infos["keys"] = key;
  v1::CredentialInfo app;
  app.set_mode(v1::AUTH_MODE_OAUTH);
  app.set_flavor(v1::OAUTH_FLAVOR_SCOPED);
  app.add_scopes("incidents.read");
  app.add_scopes("users.read");
  vault.infos["apps"] = app;

  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&vault);
  auto server = b.BuildAndStart();
  ASSERT_NE(port, 0);
  VaultCredentialInfo source(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()),
      "governance-token");

  auto k = source.GetCredentialInfo("tenant-1", "keys");
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_TRUE(k->present);
  EXPECT_EQ(k->mode, AuthMode::kApiKey);
  EXPECT_TRUE(k->read_only);
  EXPECT_EQ(vault.seen_token, "governance-token");
  EXPECT_EQ(vault.seen_tenant, "tenant-1");

  auto a = source.GetCredentialInfo("tenant-1", "apps");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->mode, AuthMode::kOAuth);
  EXPECT_FALSE(a->classic_oauth);
  EXPECT_THAT(a->scopes, ElementsAre("incidents.read", "users.read"));

  auto none = source.GetCredentialInfo("tenant-1", "nothing");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->present);

  EXPECT_EQ(source.GetCredentialInfo("tenant-1", "broken").status().code(), absl::StatusCode::kInternal);
  server->Shutdown();
}

}  // namespace
}  // namespace bastion::governance
