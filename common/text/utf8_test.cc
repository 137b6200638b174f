#include "common/text/utf8.h"

#include "gtest/gtest.h"

namespace bastion::text {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x94\xA5"));  // Grüße € 🔥
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8Test, RefusesMalformedText) {
  for (const char* bad : {"\xFF\xFE", "\xC4", "2024-\xC4" "11-25", "\x85\x85\x85\x85\x85\x85",
                          "\xC0\xAF",           // overlong '/'
                          "\xE0\x80\xAF",       // overlong
                          "\xED\xA0\x80",       // a surrogate
                          "\xF4\x90\x80\x80",   // above U+10FFFF
                          "\xE2\x82"}) {        // cut short
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(Utf8Test, ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(ToValidUtf8("ok \xE2\x82\xAC"), "ok \xE2\x82\xAC");
  EXPECT_EQ(ToValidUtf8("2024-\xC4" "11"), "2024-\xEF\xBF\xBD" "11");
  EXPECT_EQ(ToValidUtf8("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xE2\x82 \xED\xA0\x80")));
}

}  // namespace
}  // namespace bastion::text
