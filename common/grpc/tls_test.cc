// TLS credentials from files, the names a verified client certificate carries over a real gRPC
// connection on loopback, and how service identities map those names to Bastion services.
#include "common/grpc/tls.h"

#include <fstream>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/grpc/grpc_util.h"
#include "common/grpc/testing/test_certs.h"
#include "gtest/gtest.h"

namespace bastion::grpcutil {
namespace {

using testing::CertFiles;
using testing::TestCa;

// Answers every call with the comma-joined VerifiedPeerNames of the caller.
class PeerNamesService : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(grpc::GenericCallbackServerContext* ctx) : ctx_(ctx) { StartRead(&request_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
          return;
        }
        grpc::Slice names(absl::StrJoin(VerifiedPeerNames(*ctx_), ","));
        response_ = grpc::ByteBuffer(&names, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::GenericCallbackServerContext* ctx_;
      grpc::ByteBuffer request_;
      grpc::ByteBuffer response_;
    };
    return new Reactor(ctx);
  }
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = testing::TempDir();
    auto ca = TestCa::Create(dir, "bastion");
    auto rogue = TestCa::Create(dir, "rogue");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ASSERT_TRUE(rogue.ok()) << rogue.status();
    ca_ = new TestCa(*ca);
    rogue_ca_ = new TestCa(*rogue);
    auto server = ca_->Issue("tenant", {"tenant", {"tenant.bastion.internal", "localhost"}, {"127.0.0.1"}});
    auto edge = ca_->Issue("edge", {"edge", {"edge.bastion.internal"}, {}});
    auto cn_only = ca_->Issue("cn-only", {"vault", {}, {}});
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE(edge.ok()) << edge.status();
    ASSERT_TRUE(cn_only.ok()) << cn_only.status();
    server_ = new CertFiles(*server);
    edge_ = new CertFiles(*edge);
    cn_only_ = new CertFiles(*cn_only);
  }

  void TearDown() override {
    for (auto& server : servers_) server->Shutdown();
  }

  // Serves PeerNamesService with `files`; returns its address.
  std::string Serve(const ServerTlsFiles& files) {
    auto credentials = MakeServerCredentials(files);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    if (!credentials.ok()) return "";
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    // A generic service belongs to one server for its whole life.
    services_.push_back(std::make_unique<PeerNamesService>());
    builder.RegisterCallbackGenericService(services_.back().get());
    servers_.push_back(builder.BuildAndStart());
    EXPECT_NE(port, 0);
    return "127.0.0.1:" + std::to_string(port);
  }

  // The names the server saw, or the call's error.
  static absl::StatusOr<std::string> PeerNames(const std::string& address, const ClientTlsFiles& files) {
    auto credentials = MakeChannelCredentials(files);
    if (!credentials.ok()) return credentials.status();
    grpc::GenericStub stub(grpc::CreateChannel(address, *credentials));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice one("x");
    grpc::ByteBuffer request(&one, 1), response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, "/bastion.test.Peer/Names", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!status.ok()) return FromGrpc(status);
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return absl::InternalError("unreadable response");
    std::string out;
    for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return out;
  }

  static ServerTlsFiles MutualTls() { return {server_->cert_file, server_->key_file, ca_->cert_file()}; }

  static inline TestCa* ca_ = nullptr;
  static inline TestCa* rogue_ca_ = nullptr;
  static inline CertFiles* server_ = nullptr;
  static inline CertFiles* edge_ = nullptr;
  static inline CertFiles* cn_only_ = nullptr;
  std::vector<std::unique_ptr<PeerNamesService>> services_;
  std::vector<std::unique_ptr<grpc::Server>> servers_;
};

TEST_F(TlsTest, UnderMutualTlsTheServerSeesTheClientCertificatesDnsNames) {
  const std::string address = Serve(MutualTls());
  auto names = PeerNames(address, {ca_->cert_file(), edge_->cert_file, edge_->key_file});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, "edge.bastion.internal");
}

TEST_F(TlsTest, ACertificateWithoutDnsNamesIsKnownByItsCommonName) {
  const std::string address = Serve(MutualTls());
  auto names = PeerNames(address, {ca_->cert_file(), cn_only_->cert_file, cn_only_->key_file});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, "vault");
}

TEST_F(TlsTest, WithoutMutualTlsNoCallerHasAVerifiedName) {
  const std::string tls = Serve({server_->cert_file, server_->key_file, ""});
  // The client offers a certificate, but a server that did not ask for one must not vouch for it.
  auto names = PeerNames(tls, {ca_->cert_file(), edge_->cert_file, edge_->key_file});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, "");

  const std::string plaintext = Serve({});
  auto plain = PeerNames(plaintext, {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, "");
}

TEST_F(TlsTest, AClientTrustsOnlyServersItsCaSigned) {
  const std::string address = Serve({server_->cert_file, server_->key_file, ""});
  auto names = PeerNames(address, {rogue_ca_->cert_file(), "", ""});
  EXPECT_EQ(names.status().code(), absl::StatusCode::kUnavailable) << names.status();
}

TEST_F(TlsTest, BadFilesAreRefusedUpFrontNamingTheFile) {
  auto other = ca_->Issue("other", {"other", {"other.bastion.internal"}, {}});
  ASSERT_TRUE(other.ok()) << other.status();

  auto mismatched = MakeServerCredentials({server_->cert_file, other->key_file, ""});
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(mismatched.status().message(), other->key_file)) << mismatched.status();
  EXPECT_TRUE(absl::StrContains(mismatched.status().message(), "does not belong")) << mismatched.status();

  auto missing = MakeServerCredentials({"/nonexistent/tls.crt", server_->key_file, ""});
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "/nonexistent/tls.crt")) << missing.status();

  // A key file where the certificate should be, and a certificate where the key should be.
  auto swapped = MakeServerCredentials({server_->key_file, server_->cert_file, ""});
  EXPECT_EQ(swapped.status().code(), absl::StatusCode::kInvalidArgument) << swapped.status();

  auto half = MakeServerCredentials({server_->cert_file, "", ""});
  EXPECT_TRUE(absl::StrContains(half.status().message(), "both")) << half.status();
  EXPECT_FALSE(MakeServerCredentials({"", "", ca_->cert_file()}).ok());
  EXPECT_FALSE(MakeServerCredentials({server_->cert_file, server_->key_file, server_->key_file}).ok());
  EXPECT_FALSE(MakeChannelCredentials({server_->key_file, "", ""}).ok());
  EXPECT_FALSE(MakeChannelCredentials({ca_->cert_file(), edge_->cert_file, ""}).ok());

  // Errors name files, never quote them: a key file's contents are a secret.
  EXPECT_FALSE(absl::StrContains(swapped.status().message(), "BEGIN"));
}

TEST(ServiceNameOf, IsTheFirstDnsLabelLowerCased) {
  EXPECT_EQ(ServiceNameOf("edge.bastion.internal"), "edge");
  EXPECT_EQ(ServiceNameOf("Governance"), "governance");
  EXPECT_EQ(ServiceNameOf("*.bastion.internal"), "*");
}

TEST(ServiceIdentitiesFile, ListsServicesWithATokenAndServicesKnownOnlyByCertificate) {
  const std::string path = testing::TempDir() + "/identities";
  {
    std::ofstream out(path);
    out << "# who may call\nedge edge-token\ngovernance\n";
  }
  auto ids = ServiceIdentities::FromFile(path);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->IdentifyToken("edge-token"), "edge");
  EXPECT_EQ(ids->IdentifyToken("governance"), std::nullopt);
  EXPECT_EQ(ids->CertificateOnlyNames(), std::vector<std::string>{"governance"});

  std::ofstream(path) << "edge edge-token extra\n";
  auto bad = ServiceIdentities::FromFile(path);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(bad.status().message(), "edge-token"));
}

TEST(ServiceIdentitiesCertificates, AreIgnoredUntilTrustedThenMustNameExactlyOneListedService) {
  ServiceIdentities ids;
  ids.Add("edge", "edge-token");
  ids.Add("governance");
  auto untrusted = ids.IdentifyCertificate({"edge.bastion.internal"});
  ASSERT_TRUE(untrusted.ok());
  EXPECT_EQ(*untrusted, std::nullopt);

  ids.TrustClientCertificates();
  EXPECT_EQ(*ids.IdentifyCertificate({"edge.bastion.internal"}), "edge");
  EXPECT_EQ(*ids.IdentifyCertificate({"bastion-governance", "governance.bastion.internal"}), "governance");

  auto unlisted = ids.IdentifyCertificate({"vault.bastion.internal"});
  EXPECT_EQ(unlisted.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(unlisted.status().message(), "vault.bastion.internal"));
  EXPECT_EQ(ids.IdentifyCertificate({}).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ids.IdentifyCertificate({"edge.bastion.internal", "governance.bastion.internal"}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace bastion::grpcutil
