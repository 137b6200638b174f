#include "common/log/log.h"

#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "gtest/gtest.h"

namespace bastion::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Init("testsvc");
    SetSinkForTesting([this](absl::string_view line) { lines_.emplace_back(line); });
  }
  void TearDown() override { SetSinkForTesting(nullptr); }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, EachLineIsOneJsonObjectWithServiceLevelAndFields) {
  Info("server started", {{"port", 8080}, {"addr", "127.0.0.1"}});
  ASSERT_EQ(lines_.size(), 1u);
  auto v = boost::json::parse(lines_[0]).as_object();
  EXPECT_EQ(v.at("service").as_string(), "testsvc");
  EXPECT_EQ(v.at("level").as_string(), "info");
  EXPECT_EQ(v.at("msg").as_string(), "server started");
  EXPECT_EQ(v.at("port").as_int64(), 8080);
  EXPECT_TRUE(v.contains("ts"));
  EXPECT_FALSE(v.contains("request_id"));
}

TEST_F(LogTest, RequestIdFollowsTheScope) {
  {
    ScopedRequestId rid("req-42");
    Warn("inside");
  }
  Warn("outside");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(boost::json::parse(lines_[0]).at("request_id").as_string(), "req-42");
  EXPECT_FALSE(boost::json::parse(lines_[1]).as_object().contains("request_id"));
}

TEST_F(LogTest, MessagesWithQuotesAndNewlinesStayOneValidLine) {
  Error("bad \"input\"\nnext line");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].find('\n'), std::string::npos);
  EXPECT_EQ(boost::json::parse(lines_[0]).at("msg").as_string(), "bad \"input\"\nnext line");
}

TEST_F(LogTest, LinesBelowTheMinimumLevelAreDropped) {
  SetMinLevel(Level::kWarn);
  Info("quiet");
  Debug("quieter");
  Warn("loud");
  SetMinLevel(Level::kInfo);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(boost::json::parse(lines_[0]).at("msg").as_string(), "loud");
}

TEST(LogDeathTest, CheckAbortsOnABrokenInvariant) {
  EXPECT_DEATH(BASTION_CHECK(1 + 1 == 3), "check failed");
}

}  // namespace
}  // namespace bastion::log
