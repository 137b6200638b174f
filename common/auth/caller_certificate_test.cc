// Service callers known by their client certificate under mutual TLS: which certificates name a
// service, how that ranks against tokens, and the whole path over a real mutual-TLS connection.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/auth/caller.h"
#include "common/grpc/testing/test_certs.h"
#include "common/grpc/tls.h"
#include "gtest/gtest.h"

namespace bastion::auth {
namespace {

using grpcutil::testing::CertFiles;
using grpcutil::testing::TestCa;

absl::StatusOr<TokenIdentity> FakeAuthenticate(const std::string& token) {
  if (token == "bst_admin") return TokenIdentity{"t1", "acme", "u1", "ana@acme.com", true};
  return absl::UnauthenticatedError("unknown client token");
}

// The edge has a token and a certificate; governance is listed for its certificate only.
grpcutil::ServiceIdentities Identities(bool mutual_tls) {
  grpcutil::ServiceIdentities ids;
  ids.Add("edge", "edge-secret");
  ids.Add("governance");
  if (mutual_tls) ids.TrustClientCertificates();
  return ids;
}

class CallerCertificateTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  CallerResolver mtls_{"operator-secret", Identities(true), FakeAuthenticate, clock_};
  CallerResolver plain_{"operator-secret", Identities(false), FakeAuthenticate, clock_};
};

TEST_F(CallerCertificateTest, UnderMutualTlsAListedServicesCertificateIdentifiesItWithoutAToken) {
  auto governance = mtls_.Resolve(std::nullopt, std::nullopt, {"governance.bastion.internal"});
  ASSERT_TRUE(governance.ok()) << governance.status();
  EXPECT_TRUE(governance->is_service("governance"));
  auto edge = mtls_.Resolve(std::nullopt, std::nullopt, {"bastion-edge", "edge.bastion.internal"});
  ASSERT_TRUE(edge.ok()) << edge.status();
  EXPECT_TRUE(edge->is_service("edge"));
  EXPECT_EQ(edge->Actor(), "service:edge");
}

TEST_F(CallerCertificateTest, ACertificateNamingNoListedServiceIsRefusedLikeAWrongToken) {
  auto vault = mtls_.Resolve(std::nullopt, std::nullopt, {"vault.bastion.internal"});
  EXPECT_EQ(vault.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(mtls_.Resolve(std::string("forged"), std::nullopt, {}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(CallerCertificateTest, ATokenIsCheckedFirstAndAWrongOneIsNotRescuedByAGoodCertificate) {
  EXPECT_EQ(mtls_.Resolve(std::string("forged"), std::nullopt, {"edge.bastion.internal"}).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto edge = mtls_.Resolve(std::string("edge-secret"), std::nullopt, {"edge.bastion.internal"});
  ASSERT_TRUE(edge.ok());
  EXPECT_TRUE(edge->is_service("edge"));
}

TEST_F(CallerCertificateTest, ABearerTokenOutranksTheCertificateOfTheClientCarryingIt) {
  // bastionctl under mutual TLS: its own certificate names no service, its token the operator.
  auto op = mtls_.Resolve(std::nullopt, std::string("operator-secret"), {"bastionctl.ops.example"});
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_TRUE(op->is_operator());
  auto admin = mtls_.Resolve(std::nullopt, std::string("bst_admin"), {"edge.bastion.internal"});
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->kind, Caller::Kind::kTenantAdmin);
}

TEST_F(CallerCertificateTest, WithoutMutualTlsCertificateNamesCountForNothing) {
  auto anonymous = plain_.Resolve(std::nullopt, std::nullopt, {"edge.bastion.internal"});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->kind, Caller::Kind::kNone);
  auto edge = plain_.Resolve(std::string("edge-secret"), std::nullopt);
  ASSERT_TRUE(edge.ok());
  EXPECT_TRUE(edge->is_service("edge"));
}

// Answers each call with the resolved caller's Actor(), or the resolver's error.
class WhoAmI : public grpc::CallbackGenericService {
 public:
  explicit WhoAmI(CallerResolver& resolver) : resolver_(resolver) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(grpc::GenericCallbackServerContext* ctx, CallerResolver& resolver)
          : ctx_(ctx), resolver_(resolver) {
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        absl::StatusOr<Caller> caller = resolver_.Resolve(*ctx_);
        if (!ok || !caller.ok()) {
          Finish(ok ? grpcutil::ToGrpc(caller.status()) : grpc::Status::CANCELLED);
          return;
        }
        grpc::Slice actor(caller->Actor());
        response_ = grpc::ByteBuffer(&actor, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::GenericCallbackServerContext* ctx_;
      CallerResolver& resolver_;
      grpc::ByteBuffer request_;
      grpc::ByteBuffer response_;
    };
    return new Reactor(ctx, resolver_);
  }

 private:
  CallerResolver& resolver_;
};

class CallerOverMutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = grpcutil::testing::TempDir();
    auto ca = TestCa::Create(dir, "caller");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_file_ = ca->cert_file();
    auto server = ca->Issue("caller-vault", {"vault", {"vault.bastion.internal"}, {"127.0.0.1"}});
    auto edge = ca->Issue("caller-edge", {"edge", {"edge.bastion.internal"}, {}});
    auto governance = ca->Issue("caller-governance", {"governance", {"governance.bastion.internal"}, {}});
    auto ops = ca->Issue("caller-bastionctl", {"bastionctl", {"bastionctl.ops.example"}, {}});
    ASSERT_TRUE(server.ok() && edge.ok() && governance.ok() && ops.ok());
    edge_ = *edge;
    governance_ = *governance;
    ops_ = *ops;
    auto credentials = grpcutil::MakeServerCredentials({server->cert_file, server->key_file, ca_file_});
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    address_ = "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  absl::StatusOr<std::string> WhoAmIAs(const CertFiles& client, const std::string& bearer = "") {
    auto credentials = grpcutil::MakeChannelCredentials({ca_file_, client.cert_file, client.key_file});
    if (!credentials.ok()) return credentials.status();
    grpc::GenericStub stub(grpc::CreateChannel(address_, *credentials));
    grpc::ClientContext ctx;
    if (!bearer.empty()) ctx.AddMetadata("authorization", "Bearer " + bearer);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice one("x");
    grpc::ByteBuffer request(&one, 1), response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, "/bastion.test.WhoAmI/Get", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!status.ok()) return grpcutil::FromGrpc(status);
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return absl::InternalError("unreadable response");
    std::string out;
    for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return out;
  }

  FakeClock clock_;
  CallerResolver resolver_{"operator-secret", Identities(true), FakeAuthenticate, clock_};
  WhoAmI service_{resolver_};
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string ca_file_;
  CertFiles edge_, governance_, ops_;
};

TEST_F(CallerOverMutualTlsTest, ServicesAreKnownByTheirCertificatesAndOthersNeedAToken) {
  EXPECT_EQ(WhoAmIAs(edge_).value_or("refused"), "service:edge");
  EXPECT_EQ(WhoAmIAs(governance_).value_or("refused"), "service:governance");
  auto anonymous_ops = WhoAmIAs(ops_);
  EXPECT_EQ(anonymous_ops.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(anonymous_ops.status().message(), "bastionctl.ops.example"))
      << anonymous_ops.status();
  EXPECT_EQ(WhoAmIAs(ops_, "operator-secret").value_or("refused"), "operator");
}

}  // namespace
}  // namespace bastion::auth
