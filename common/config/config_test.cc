#include "common/config/config.h"

#include <cstdlib>
#include <fstream>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, config_test_port, 1, "a port");
ABSL_FLAG(std::string, config_test_name, "default", "a name");

namespace bastion::config {
namespace {

TEST(Config, EnvironmentVariableNamesFollowTheFlag) {
  EXPECT_EQ(EnvVarForFlag("database_url"), "BASTION_DATABASE_URL");
}

TEST(Config, EnvironmentSetsFlagsAndCommandLineWins) {
  setenv("BASTION_CONFIG_TEST_PORT", "8081", 1);
  setenv("BASTION_CONFIG_TEST_NAME", "from-env", 1);
  char arg0[] = "prog";
  char arg1[] = "--config_test_name=from-flag";
  char* argv[] = {arg0, arg1};
  Parse(2, argv, "test");
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_port), 8081);
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_name), "from-flag");
  unsetenv("BASTION_CONFIG_TEST_PORT");
  unsetenv("BASTION_CONFIG_TEST_NAME");
}

TEST(Config, ABadEnvironmentValueIsAnErrorNamingTheVariableNotTheValue) {
  setenv("BASTION_CONFIG_TEST_PORT", "s3cr3t-not-a-number", 1);
  absl::Status s = ApplyEnvOverrides();
  unsetenv("BASTION_CONFIG_TEST_PORT");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("BASTION_CONFIG_TEST_PORT"), std::string::npos);
  EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos);
}

TEST(Config, SecretFilesAreTrimmedAndErrorsNeverShowContents) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/secret";
  std::ofstream(path) << "tok-123\n";
  auto s = ReadSecretFile(path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "tok-123");
  EXPECT_EQ(ReadSecretFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
  std::ofstream(path + ".empty") << "\n";
  EXPECT_EQ(ReadSecretFile(path + ".empty").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bastion::config
