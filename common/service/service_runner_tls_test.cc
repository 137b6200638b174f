// A service's gRPC port with TLS and mutual TLS turned on through ServiceRunner, probed with the
// standard health check over real connections on loopback.
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/testing/test_certs.h"
#include "common/grpc/tls.h"
#include "common/service/service_runner.h"
#include "gtest/gtest.h"

namespace bastion {
namespace {

using grpcutil::ClientTlsFiles;
using grpcutil::ServerTlsFiles;
using grpcutil::testing::CertFiles;
using grpcutil::testing::TestCa;

class ServiceRunnerTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = grpcutil::testing::TempDir();
    auto ca = TestCa::Create(dir, "runner");
    auto rogue = TestCa::Create(dir, "runner-rogue");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ASSERT_TRUE(rogue.ok()) << rogue.status();
    ca_ = new TestCa(*ca);
    rogue_ca_ = new TestCa(*rogue);
    auto server =
        ca_->Issue("runner-tenant", {"tenant", {"tenant.bastion.internal", "localhost"}, {"127.0.0.1"}});
    auto edge = ca_->Issue("runner-edge", {"edge", {"edge.bastion.internal"}, {}});
    auto forged = rogue_ca_->Issue("runner-forged-edge", {"edge", {"edge.bastion.internal"}, {}});
    ASSERT_TRUE(server.ok() && edge.ok() && forged.ok());
    server_ = new CertFiles(*server);
    edge_ = new CertFiles(*edge);
    forged_edge_ = new CertFiles(*forged);
  }

  // Starts a runner (health service only) with `tls`; returns its gRPC address.
  std::string Start(const ServerTlsFiles& tls) {
    ServiceRunnerOptions options{"tenant", "127.0.0.1:0", "127.0.0.1:0"};
    options.drain = absl::Milliseconds(100);
    options.tls = tls;
    runner_ = std::make_unique<ServiceRunner>(options, registry_);
    absl::Status s = runner_->Start();
    EXPECT_TRUE(s.ok()) << s;
    return "127.0.0.1:" + std::to_string(runner_->grpc_port());
  }

  // grpc.health.v1.Health/Check for the whole server: true when it answers SERVING.
  static absl::StatusOr<bool> Serving(const std::string& address, const ClientTlsFiles& tls) {
    auto credentials = grpcutil::MakeChannelCredentials(tls);
    if (!credentials.ok()) return credentials.status();
    grpc::GenericStub stub(grpc::CreateChannel(address, *credentials));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty_request("");  // HealthCheckRequest{service: ""}
    grpc::ByteBuffer request(&empty_request, 1), response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!status.ok()) return grpcutil::FromGrpc(status);
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return absl::InternalError("unreadable health response");
    std::string bytes;
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return bytes == std::string("\x08\x01", 2);  // HealthCheckResponse{status: SERVING}
  }

  static inline TestCa* ca_ = nullptr;
  static inline TestCa* rogue_ca_ = nullptr;
  static inline CertFiles* server_ = nullptr;
  static inline CertFiles* edge_ = nullptr;
  static inline CertFiles* forged_edge_ = nullptr;
  metrics::Registry registry_;
  std::unique_ptr<ServiceRunner> runner_;
};

TEST_F(ServiceRunnerTlsTest, WithoutTlsFilesTheServerStaysPlaintext) {
  const std::string address = Start({});
  auto plain = Serving(address, {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(*plain);
  EXPECT_EQ(Serving(address, {ca_->cert_file(), "", ""}).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ServiceRunnerTlsTest, ATlsServerRefusesPlaintextClientsAndServesTlsOnes) {
  const std::string address = Start({server_->cert_file, server_->key_file, ""});
  EXPECT_EQ(Serving(address, {}).status().code(), absl::StatusCode::kUnavailable);
  auto tls = Serving(address, {ca_->cert_file(), "", ""});
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(*tls);
}

TEST_F(ServiceRunnerTlsTest, AMutualTlsServerRefusesClientsWithoutACertificateOrWithAnotherCasOne) {
  const std::string address = Start({server_->cert_file, server_->key_file, ca_->cert_file()});
  EXPECT_EQ(Serving(address, {}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Serving(address, {ca_->cert_file(), "", ""}).status().code(), absl::StatusCode::kUnavailable);
  // Same names as the real edge's certificate, but signed by a CA the server does not trust.
  const ClientTlsFiles forged{ca_->cert_file(), forged_edge_->cert_file, forged_edge_->key_file};
  EXPECT_EQ(Serving(address, forged).status().code(), absl::StatusCode::kUnavailable);
  auto edge = Serving(address, {ca_->cert_file(), edge_->cert_file, edge_->key_file});
  ASSERT_TRUE(edge.ok()) << edge.status();
  EXPECT_TRUE(*edge);
}

TEST_F(ServiceRunnerTlsTest, BadTlsFilesStopStartWithTheFileNamed) {
  ServiceRunnerOptions options{"tenant", "127.0.0.1:0", "127.0.0.1:0"};
  options.tls = {server_->cert_file, edge_->key_file, ""};
  ServiceRunner runner(options, registry_);
  absl::Status s = runner.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), edge_->key_file)) << s;
  EXPECT_EQ(runner.grpc_port(), 0);
  EXPECT_EQ(runner.admin_port(), 0);
}

}  // namespace
}  // namespace bastion
