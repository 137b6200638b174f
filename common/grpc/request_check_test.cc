#include "common/grpc/request_check.h"

#include <string>

#include "common/grpc/testing/request_check_test.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bastion::grpcutil {
namespace {

using testing::Inner;
using testing::Outer;
using ::testing::HasSubstr;

const std::string kNul("a\0b", 3);
const std::string kBadUtf8("\xff\xfe");

void ExpectRefused(const Outer& m, const std::string& field) {
  absl::Status s = CheckRequestStrings(m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_THAT(s.message(), HasSubstr("request field " + field + " ")) << s;
}

TEST(RequestCheckTest, CleanMessagesPass) {
  Outer m;
  m.set_name("héllo ✓ 😀");
  m.mutable_inner()->set_text("plain");
  m.add_items()->add_tags("x");
  m.add_notes("");
  (*m.mutable_labels())["env"] = "prod";
  (*m.mutable_by_key())["k"].set_text("v");
  (*m.mutable_by_number())[7] = "seven";
  m.set_picked("p");
  EXPECT_TRUE(CheckRequestStrings(m).ok());
  EXPECT_TRUE(CheckRequestStrings(Outer()).ok());
}

TEST(RequestCheckTest, BytesFieldsMayHoldAnything) {
  Outer m;
  m.set_raw(kNul + kBadUtf8);
  m.mutable_inner()->set_blob(kNul);
  m.add_items()->set_blob(kBadUtf8);
  EXPECT_TRUE(CheckRequestStrings(m).ok());
}

TEST(RequestCheckTest, ATopLevelStringWithNulIsRefusedByName) {
  Outer m;
  m.set_name(kNul);
  ExpectRefused(m, "name");
  EXPECT_THAT(CheckRequestStrings(m).message(), HasSubstr("NUL"));
}

TEST(RequestCheckTest, InvalidUtf8IsRefusedByName) {
  Outer m;
  m.set_name(kBadUtf8);
  ExpectRefused(m, "name");
  EXPECT_THAT(CheckRequestStrings(m).message(), HasSubstr("UTF-8"));
}

TEST(RequestCheckTest, NestedAndRepeatedFieldsAreNamedWithTheirPath) {
  {
    Outer m;
    m.mutable_inner()->set_text(kNul);
    ExpectRefused(m, "inner.text");
  }
  {
    Outer m;
    m.add_items();
    m.add_items()->add_tags("ok");
    m.mutable_items(1)->add_tags(kBadUtf8);
    ExpectRefused(m, "items[1].tags[1]");
  }
  {
    Outer m;
    m.add_notes("fine");
    m.add_notes(kNul);
    ExpectRefused(m, "notes[1]");
  }
  {
    Outer m;
    m.mutable_picked_inner()->set_text(kNul);
    ExpectRefused(m, "picked_inner.text");
  }
}

TEST(RequestCheckTest, MapKeysAndValuesAreChecked) {
  {
    Outer m;
    (*m.mutable_labels())["env"] = kNul;
    ExpectRefused(m, "labels[\"env\"]");
  }
  {
    Outer m;
    (*m.mutable_labels())[kNul] = "x";
    ExpectRefused(m, "labels key");
  }
  {
    Outer m;
    (*m.mutable_by_key())["k"].add_tags(kBadUtf8);
    ExpectRefused(m, "by_key[\"k\"].tags[0]");
  }
  {
    Outer m;
    (*m.mutable_by_number())[7] = kNul;
    ExpectRefused(m, "by_number[7]");
  }
}

TEST(RequestCheckTest, TheRefusalNeverRepeatsTheValue) {
  Outer m;
  m.set_name(std::string("secret-token\0", 13));
  EXPECT_THAT(std::string(CheckRequestStrings(m).message()), ::testing::Not(HasSubstr("secret")));
}

TEST(RequestCheckTest, Utf8ValidationFollowsTheStandard) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9"));          // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x9c\x93"));      // ✓
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // 😀
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, three bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x9c"));          // truncated
  EXPECT_FALSE(IsValidUtf8("abc\xc3"));           // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace bastion::grpcutil
