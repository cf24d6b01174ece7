// Write authorisation: token files, bearer matching, and the rule that a
// writable server off loopback must have a token.
#include "tools/server/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/testing/test_util.h"

namespace twinline::server {
namespace {

namespace net = boost::asio;

TEST(AuthTest, TokenFileIsTrimmedAndChecked) {
  test::TempDir dir{"twinline-auth-test"};
  std::string token;
  test::WriteFile(dir / "ok", "  s3cr3t-token_1.~+/=  \n");
  ASSERT_TRUE(LoadToken(dir / "ok", &token).ok());
  EXPECT_EQ(token, "s3cr3t-token_1.~+/=");
  test::WriteFile(dir / "empty", "\n  \n");
  EXPECT_EQ(LoadToken(dir / "empty", &token).code(), Status::Code::kInvalidArgument);
  test::WriteFile(dir / "space", "two words\n");
  EXPECT_EQ(LoadToken(dir / "space", &token).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(LoadToken(dir / "missing", &token).code(), Status::Code::kNotFound);
}

TEST(AuthTest, TokenFileIsReadWithACapAndAShortTokenIsRefused) {
  test::TempDir dir{"twinline-auth-test"};
  std::string token, warning;
  // /dev/zero is read up to the cap, not forever.
  Status st = LoadToken("/dev/zero", &token);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  test::WriteFile(dir / "long", std::string(kMaxTokenFileBytes + 10, 'a'));
  st = LoadToken(dir / "long", &token);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("over 4096 bytes"), std::string::npos) << st.message();
  test::WriteFile(dir / "short", "x\n");
  st = LoadToken(dir / "short", &token);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("at least 16"), std::string::npos) << st.message();
  test::WriteFile(dir / "fifteen", std::string(15, 'k') + "\n");
  EXPECT_FALSE(LoadToken(dir / "fifteen", &token).ok());
  test::WriteFile(dir / "sixteen", std::string(16, 'k') + "\nsecond line\n");
  ASSERT_TRUE(LoadToken(dir / "sixteen", &token).ok());
  EXPECT_EQ(token, std::string(16, 'k'));
}

TEST(AuthTest, WorldReadableTokenFileIsWarnedAbout) {
  test::TempDir dir{"twinline-auth-test"};
  std::string token, warning;
  test::WriteFile(dir / "token", "a-token-of-twenty-chars\n");
  ASSERT_EQ(chmod((dir / "token").c_str(), 0644), 0);
  ASSERT_TRUE(LoadToken(dir / "token", &token, &warning).ok());
  EXPECT_NE(warning.find("readable by every user"), std::string::npos) << warning;
  ASSERT_EQ(chmod((dir / "token").c_str(), 0600), 0);
  ASSERT_TRUE(LoadToken(dir / "token", &token, &warning).ok());
  EXPECT_EQ(warning, "");
}

TEST(AuthTest, WritesAreJudgedFromTheirHeaders) {
  const std::string token = "a-token-of-twenty-chars";
  using V = std::vector<std::string_view>;
  EXPECT_EQ(AuthorizeWrite(false, "", V{}), WriteAuth::kAllowed);
  EXPECT_EQ(AuthorizeWrite(true, "", V{}), WriteAuth::kReadOnly);
  EXPECT_EQ(AuthorizeWrite(false, token, V{}), WriteAuth::kNoToken);
  EXPECT_EQ(AuthorizeWrite(false, token, V{"Bearer nope"}), WriteAuth::kWrongToken);
  EXPECT_EQ(AuthorizeWrite(false, token, V{"Bearer a-token-of-twenty-chars"}), WriteAuth::kAllowed);
  EXPECT_EQ(AuthorizeWrite(false, token, V{"Bearer a-token-of-twenty-chars", "Bearer x"}),
            WriteAuth::kAmbiguous);
  EXPECT_TRUE(IsWriteMethod("POST"));
  EXPECT_TRUE(IsWriteMethod("DELETE"));
  EXPECT_FALSE(IsWriteMethod("GET"));
  EXPECT_FALSE(IsWriteMethod("OPTIONS"));
}

TEST(AuthTest, BearerMatchesOnlyTheExactToken) {
  EXPECT_TRUE(BearerMatches("Bearer abc", "abc"));
  EXPECT_TRUE(BearerMatches("bearer abc", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer abd", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer ab", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer abcd", "abc"));
  EXPECT_FALSE(BearerMatches("Basic abc", "abc"));
  EXPECT_FALSE(BearerMatches("", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
}

TEST(AuthTest, WritableServerOffLoopbackNeedsAToken) {
  const auto any = net::ip::make_address("0.0.0.0");
  EXPECT_EQ(CheckListenPolicy(any, /*read_only=*/false, /*has_token=*/false).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(CheckListenPolicy(any, false, true).ok());
  EXPECT_TRUE(CheckListenPolicy(any, true, false).ok());
  EXPECT_TRUE(CheckListenPolicy(net::ip::make_address("127.0.0.1"), false, false).ok());
  EXPECT_TRUE(CheckListenPolicy(net::ip::make_address("::1"), false, false).ok());
  EXPECT_TRUE(CheckListenPolicy(net::ip::make_address("::ffff:127.0.0.1"), false, false).ok());
  EXPECT_FALSE(CheckListenPolicy(net::ip::make_address("::"), false, false).ok());
  EXPECT_FALSE(CheckListenPolicy(net::ip::make_address("192.168.1.5"), false, false).ok());
}

}  // namespace
}  // namespace twinline::server
