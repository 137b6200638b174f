#include "services/edge/session.h"

#include <map>

#include "gtest/gtest.h"
#include "services/edge/session_sync.h"

namespace bastion::edge {
namespace {

// The tenant service's ledger, in memory.
class FakeLedger : public SessionLedger {
 public:
  absl::Status Publish(const std::string& hash, absl::Time expires) override {
    records_.push_back({static_cast<int64_t>(records_.size()) + 1, hash, expires});
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<EndedSessionRecord>> Since(int64_t after) override {
    std::vector<EndedSessionRecord> out;
    for (const auto& r : records_) {
      if (r.seq > after) out.push_back(r);
    }
    return out;
  }

 private:
  std::vector<EndedSessionRecord> records_;
};

TEST(Session, AnyReplicaWithTheKeyVerifiesWhatAnotherIssued) {
  FakeClock clock;
  SessionCodec a({"k1"}, clock, absl::Hours(24));
  SessionCodec b({"k1"}, clock, absl::Hours(24));
  std::string id = a.Issue("t1", "u1", "pagerduty", "2025-11-25");
  auto s = b.Verify(id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->user_id, "u1");
  EXPECT_EQ(s->server, "pagerduty");
  EXPECT_EQ(s->protocol_version, "2025-11-25");
}

TEST(Session, ForgedTamperedOrExpiredIdsAreNotFound) {
  FakeClock clock;
  SessionCodec a({"k1"}, clock, absl::Hours(24));
  SessionCodec other({"another-key"}, clock, absl::Hours(24));
  std::string id = a.Issue("t1", "u1", "pagerduty", "2025-11-25");
  EXPECT_EQ(other.Verify(id).status().code(), absl::StatusCode::kNotFound);
  std::string tampered = id;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(a.Verify(tampered).ok());
  EXPECT_FALSE(a.Verify("").ok());
  EXPECT_FALSE(a.Verify("no-dot-here").ok());
  clock.Advance(absl::Hours(25));
  EXPECT_FALSE(a.Verify(id).ok());
}

TEST(Session, OldKeysStillVerifyDuringRotation) {
  FakeClock clock;
  SessionCodec before({"old"}, clock, absl::Hours(24));
  SessionCodec after({"new", "old"}, clock, absl::Hours(24));
  EXPECT_TRUE(after.Verify(before.Issue("t", "u", "s", "2025-11-25")).ok());
}

TEST(Session, ASessionEndedOnOneReplicaStaysEndedOnAnother) {
  FakeClock clock;
  FakeLedger ledger;
  SessionCodec a({"k1"}, clock, absl::Hours(24));
  SessionCodec b({"k1"}, clock, absl::Hours(24));
  a.SetPublisher([&](const std::string& hash, absl::Time exp) { ASSERT_TRUE(ledger.Publish(hash, exp).ok()); });
  EndedSessionSync sync_b(b, ledger);
  std::string id = a.Issue("t1", "u1", "pagerduty", "2025-11-25");
  std::string other = a.Issue("t1", "u1", "pagerduty", "2025-11-25");
  ASSERT_TRUE(b.Verify(id).ok());
  a.End(id);
  EXPECT_FALSE(a.Verify(id).ok());
  ASSERT_TRUE(sync_b.Poll().ok());
  EXPECT_EQ(b.Verify(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(b.Verify(other).ok());
}

TEST(Session, AnEndedSessionDoesNotComeBackUnderAnotherSpelling) {
  FakeClock clock;
  SessionCodec codec({"k1"}, clock, absl::Hours(24));
  // The MAC is 32 bytes: 43 characters whose last holds 2 unused low bits, so flipping one of
  // them spells the same bytes differently.
  std::string id = codec.Issue("t1", "u1", "pagerduty", "2025-11-25");
  ASSERT_TRUE(codec.Verify(id).ok());
  const size_t dot = id.find('.');
  std::vector<std::string> variants = {
      id + "=",                                              // padding
      id.substr(0, dot) + "=." + id.substr(dot + 1),         // padding inside
      id.substr(0, 10) + " " + id.substr(10),                // a space inside
      id.substr(0, dot + 5) + "\n" + id.substr(dot + 5),     // a newline inside the MAC
  };
  // The same MAC bytes with different unused bits in its last character.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t last = alphabet.find(id.back());
  ASSERT_NE(last, std::string::npos);
  std::string low_bits = id;
  low_bits.back() = alphabet[last ^ 1];
  variants.push_back(low_bits);

  for (const std::string& v : variants) {
    EXPECT_FALSE(codec.Verify(v).ok()) << "accepted a non-canonical spelling: " << v;
  }
  codec.End(id);
  EXPECT_FALSE(codec.Verify(id).ok());
  for (const std::string& v : variants) {
    EXPECT_FALSE(codec.Verify(v).ok()) << "an ended session came back as: " << v;
  }
}

}  // namespace
}  // namespace bastion::edge
