#include "core/status.h"

#include <gtest/gtest.h>

namespace twinline {
namespace {

TEST(StatusTest, DefaultIsOk) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "ok");
}

TEST(StatusTest, FieldsNestOutermostFirst) {
  Status st = Status::InvalidArgument("day 30 does not exist in 2021-02").WithField("published").WithField("sources[0]");
  EXPECT_EQ(st.field(), "sources[0].published");
  EXPECT_EQ(st.ToString(), "invalid argument: sources[0].published: day 30 does not exist in 2021-02");
}

TEST(StatusTest, IndexIsCarried) {
  Status st = Status::NotFound("unknown entity 'x'").WithIndex(7);
  EXPECT_EQ(st.index(), 7);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace twinline
