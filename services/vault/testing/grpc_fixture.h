// What the vault's gRPC tests share: a migrated database with the vault's store and envelope, a
// fake tenant service holding acme (an admin and a member) and globex (an admin), callers
// resolved from metadata exactly as in production (operator token, service identities, tenant
// client tokens), and a server on loopback for the service under test.
//
//   class MyTest : public VaultGrpcFixture {
//     void SetUp() override {
//       ASSERT_NO_FATAL_FAILURE(StartBase());
//       service_ = std::make_unique<MyGrpc>(logic, *runner_, *callers_);
//       stub_ = pb::MyService::NewStub(Serve(*service_));
//     }
//   };
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/auth/caller.h"
#include "common/crypto/crypto.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "common/pg/pool.h"
#include "common/pg/testing/test_database.h"
#include "common/time/clock.h"
#include "gtest/gtest.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/envelope.h"
#include "services/vault/keyring.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/testing/log_capture.h"
#include "services/vault/vault_migrations.h"

namespace bastion::vault {

class VaultGrpcFixture : public ::testing::Test {
 protected:
  static constexpr char kOperatorToken[] = "op-secret-token";
  static constexpr char kEdgeToken[] = "edge-service-token";
  static constexpr char kGovernanceToken[] = "governance-service-token";
  static constexpr char kAcmeAdminToken[] = "bst_acme_admin";
  static constexpr char kGlobexAdminToken[] = "bst_globex_admin";
  static constexpr char kAnaToken[] = "bst_ana";

  // Everything but the service under test. Call first in SetUp, under ASSERT_NO_FATAL_FAILURE.
  void StartBase() {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "vault", migrations::vault_migrations()).ok());
    vault_store_ = std::make_unique<PgVaultStore>(*pool_);
    auto ring = Keyring::Parse("1 " + crypto::Base64Encode(std::string(32, 'k')), "test");
    ASSERT_TRUE(ring.ok());
    keys_ = KeyringSource::Fixed(*std::move(ring));
    envelope_ = std::make_unique<Envelope>(*keys_, *vault_store_, RealClock::Get());

    acme_ = tenants_.AddTenant("acme");
    const std::string globex = tenants_.AddTenant("globex");
    tenants_.AddUser(acme_, "boss@acme.com", true, kAcmeAdminToken);
    tenants_.AddUser(globex, "boss@globex.com", true, kGlobexAdminToken);
    ana_ = tenants_.AddUser(acme_, "ana@acme.com", false, kAnaToken);

    grpcutil::ServiceIdentities ids;
    ids.Add("edge", kEdgeToken);
    ids.Add("governance", kGovernanceToken);
    callers_ = std::make_unique<auth::CallerResolver>(
        kOperatorToken, ids, [this](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
          auto id = tenants_.Authenticate(token);
          if (!id.ok()) return id.status();
          return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(), id->email(),
                                     id->role() == tenant::v1::ROLE_ADMIN};
        });
    executor_ = std::make_unique<Executor>(4, 100);
    runner_ = std::make_unique<grpcutil::CallRunner>("vault", *executor_, registry_);
  }

  // Serves `service` on a loopback port; returns a channel to it.
  std::shared_ptr<grpc::Channel> Serve(grpc::Service& service) {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    server_ = b.BuildAndStart();
    EXPECT_NE(port, 0);
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }

  // Stops serving; the derived TearDown then checks the logs for its secrets.
  void StopBase() {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();  // before the derived fixture's service goes
    if (executor_ != nullptr) executor_->Shutdown();
  }

  // A call bearing a tenant client token (or the operator token); none when `bearer` is empty.
  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  // A call bearing a service identity, as the services send it.
  std::unique_ptr<grpc::ClientContext> AsService(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    grpcutil::PrepareClientContext(*ctx, token, absl::Seconds(10));
    return ctx;
  }

  LogCapture logs_;  // first in, last out: sees everything the others log
  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgVaultStore> vault_store_;
  std::unique_ptr<KeyringSource> keys_;
  std::unique_ptr<Envelope> envelope_;
  tenant::FakeTenantClient tenants_;
  metrics::Registry registry_;
  std::unique_ptr<auth::CallerResolver> callers_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<grpcutil::CallRunner> runner_;
  std::unique_ptr<grpc::Server> server_;
  std::string acme_;
  tenant::v1::User ana_;
};

}  // namespace bastion::vault
