#include <gtest/gtest.h>

#include "app/progress.hpp"

namespace graybench {
namespace {

TEST(Progress, LineShowsDoneTotalRateAndEta) {
  EXPECT_EQ(Progress::format("threads w=2 #0", 30, 120, 3.0),
            "threads w=2 #0: 30/120 images (rank 0), 10.0 images/s, ETA 9 s");
  EXPECT_EQ(Progress::format("x", 0, 10, 1.5), "x: 0/10 images (rank 0), 0.0 images/s, ETA ?");
}

TEST(Progress, DynamicShareHasNoTotal) {
  EXPECT_EQ(Progress::format("pool w=4 #1", 7, 0, 2.0),
            "pool w=4 #1: 7 images done (rank 0), 3.5 images/s");
}

TEST(Progress, SilentWhenDisabledOrNotATerminal) {
  // ctest captures stderr, so even enabled there is no terminal: construction and destruction
  // must not draw or block.
  std::atomic<std::uint64_t> done{3};
  { Progress p(true, "x", &done, 10, Clock::now() - std::chrono::seconds(5)); }
  { Progress p(false, "x", &done, 10, Clock::now()); }
  SUCCEED();
}

}  // namespace
}  // namespace graybench
