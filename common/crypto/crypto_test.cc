#include "common/crypto/crypto.h"

#include <set>

#include "gtest/gtest.h"

namespace bastion::crypto {
namespace {

const std::string kKey(32, 'k');

TEST(Crypto, SealedSecretOpensWithTheSameKeyAndContext) {
  auto sealed = Seal(kKey, "pd-api-key-123", "tenant=a|cred=1|field=api_key");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("pd-api-key-123"), std::string::npos);
  auto opened = Open(kKey, *sealed, "tenant=a|cred=1|field=api_key");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->value(), "pd-api-key-123");
}

TEST(Crypto, ACiphertextMovedToAnotherContextDoesNotOpen) {
  auto sealed = Seal(kKey, "secret", "tenant=a|cred=1|field=api_key");
  ASSERT_TRUE(sealed.ok());
  auto moved = Open(kKey, *sealed, "tenant=b|cred=1|field=api_key");
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(moved.status().message().find("secret"), std::string::npos);
}

TEST(Crypto, WrongKeyOrTamperedBytesDoNotOpen) {
  auto sealed = Seal(kKey, "secret", "ctx");
  ASSERT_TRUE(sealed.ok());
  EXPECT_FALSE(Open(std::string(32, 'x'), *sealed, "ctx").ok());
  std::string tampered = *sealed;
  tampered[kGcmNonceSize] ^= 1;
  EXPECT_FALSE(Open(kKey, tampered, "ctx").ok());
  EXPECT_FALSE(Open(kKey, sealed->substr(0, 10), "ctx").ok());
}

TEST(Crypto, EachSealUsesAFreshNonce) {
  EXPECT_NE(*Seal(kKey, "same", "ctx"), *Seal(kKey, "same", "ctx"));
}

TEST(Crypto, ShortKeysAreRejected) {
  EXPECT_EQ(Seal("short", "x", "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Crypto, Sha256AndHmacMatchKnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, TokensCarryThePrefixAndAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = RandomToken("bst_");
    EXPECT_EQ(t.rfind("bst_", 0), 0u);
    EXPECT_EQ(t.size(), 4u + 43u);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Crypto, UuidsAreVersion4AndUnique) {
  std::string a = NewUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, NewUuid());
}

TEST(Crypto, ConstantTimeEqualsComparesWholeValues) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(Crypto, Base64UrlRoundTripsAndRejectsGarbage) {
  std::string bytes = RandomBytes(33);
  EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
  EXPECT_FALSE(Base64UrlDecode("not base64 !!").ok());
}

TEST(Crypto, SecretStringIsWipedWhenMovedFrom) {
  SecretString a(std::string("hunter2"));
  SecretString b(std::move(a));
  EXPECT_EQ(b.value(), "hunter2");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the wipe is the behaviour under test
}

}  // namespace
}  // namespace bastion::crypto
