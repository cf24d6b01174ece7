// Write authorisation: token files, bearer matching, and the rule that a
// writable server off loopback must have a token.
#include "tools/server/auth.h"

#include <gtest/gtest.h>

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
