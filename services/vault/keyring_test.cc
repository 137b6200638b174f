#include "services/vault/keyring.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::vault {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Key(char fill) { return crypto::Base64Encode(std::string(32, fill)); }

std::string TempFile(const std::string& name, const std::string& contents) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir ? dir : "/tmp", "/", name);
  std::ofstream(path) << contents;
  return path;
}

TEST(KeyringTest, TheHighestVersionIsCurrentAndWrapsNewKeys) {
  auto ring = Keyring::Parse(absl::StrCat("# keys\n1 ", Key('a'), "\n\n3 ", Key('c'), "\n2 ", Key('b'), "\n"),
                             "test");
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->current_version(), 3);
  EXPECT_THAT(ring->versions(), ::testing::ElementsAre(1, 2, 3));
  auto wrapped = ring->Wrap("data-key-bytes", "tenant=t1|dek");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_FALSE(ring->Unwrap(2, *wrapped, "tenant=t1|dek").ok());  // not version 2's
  auto opened = ring->Unwrap(3, *wrapped, "tenant=t1|dek");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->value(), "data-key-bytes");
}

TEST(KeyringTest, SemicolonsSeparateEntriesSoOneEnvironmentVariableHoldsSeveral) {
  auto ring = Keyring::Parse(absl::StrCat("1 ", Key('a'), "; 2 ", Key('b')), "BASTION_KEK");
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->current_version(), 2);
}

TEST(KeyringTest, AWrappedKeyOpensOnlyWithItsAad) {
  auto ring = Keyring::Parse(absl::StrCat("1 ", Key('a')), "test");
  ASSERT_TRUE(ring.ok());
  auto wrapped = ring->Wrap("data-key", "tenant=t1|dek");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(ring->Unwrap(1, *wrapped, "tenant=t2|dek").status().code(), absl::StatusCode::kDataLoss);
}

TEST(KeyringTest, AnUnknownVersionSaysWhichVersionToAddBack) {
  auto ring = Keyring::Parse(absl::StrCat("2 ", Key('b')), "test");
  ASSERT_TRUE(ring.ok());
  auto opened = ring->Unwrap(1, "whatever", "aad");
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("version 1"));
}

TEST(KeyringTest, BadKeyringsAreRejectedWithoutEchoingAKey) {
  const std::string short_key = crypto::Base64Encode("only-sixteen-byt");
  for (const std::string& text :
       {std::string(""), std::string("# nothing\n"), absl::StrCat("0 ", Key('a')),
        absl::StrCat("x ", Key('a')), absl::StrCat("1 ", short_key), std::string("1 not*base64!"),
        absl::StrCat("1 ", Key('a'), "\n1 ", Key('b')), absl::StrCat("1 ", Key('a'), " extra")}) {
    auto ring = Keyring::Parse(text, "KEK file k");
    EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(ring.status().message(), HasSubstr("KEK file k"));
    EXPECT_THAT(ring.status().message(), Not(HasSubstr(short_key)));
    EXPECT_THAT(ring.status().message(), Not(HasSubstr(Key('a'))));
  }
}

TEST(KeyringTest, ReloadPicksUpANewVersionAndKeepsTheOldRingWhenTheFileIsBroken) {
  const std::string path = TempFile("kek_reload", absl::StrCat("1 ", Key('a'), "\n"));
  auto source = KeyringSource::FromFile(path);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Get()->current_version(), 1);

  std::ofstream(path) << "1 " << Key('a') << "\n2 " << Key('b') << "\n";
  ASSERT_TRUE((*source)->Reload().ok());
  EXPECT_EQ((*source)->Get()->current_version(), 2);

  std::ofstream(path) << "garbage\n";
  EXPECT_FALSE((*source)->Reload().ok());
  EXPECT_EQ((*source)->Get()->current_version(), 2);
  std::remove(path.c_str());
  EXPECT_EQ(KeyringSource::FromFile(path).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bastion::vault
