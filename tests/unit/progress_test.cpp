#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "app/progress.hpp"

namespace graybench {
namespace {

ProgressSpec spec(std::uint64_t total, std::uint64_t share, int ranks) {
  ProgressSpec s;
  s.label = "threads w=2 #0";
  s.run = 3;
  s.runs = 12;
  s.total = total;
  s.share = share;
  s.ranks = ranks;
  return s;
}

TEST(Progress, OneRankLineShowsRunDoneTotalRateAndEta) {
  EXPECT_EQ(Progress::format(spec(120, 120, 1), 30, 3.0),
            "run 3/12 threads w=2 #0: 30/120 images (25%), 10.0 images/s, ETA 9 s");
  EXPECT_EQ(Progress::format(spec(10, 10, 1), 0, 1.5),
            "run 3/12 threads w=2 #0: 0/10 images (0%), 0.0 images/s, ETA ?");
}

TEST(Progress, SeveralRanksAreEstimatedFromRankZerosShare) {
  // Rank 0 holds 25 of 100 images and has done 10: about 40 across the ranks.
  EXPECT_EQ(Progress::estimate_all(10, 25, 100, 4), 40u);
  EXPECT_EQ(Progress::format(spec(100, 25, 4), 10, 4.0),
            "run 3/12 threads w=2 #0: ~40/100 images (40%), ~10.0 images/s, ETA 6 s");
  // Dynamic distribution: rank 0's share is unknown; ranks are assumed to keep its pace.
  EXPECT_EQ(Progress::estimate_all(7, 0, 100, 3), 21u);
  // Never more than the total, never more than done on one rank.
  EXPECT_EQ(Progress::estimate_all(60, 0, 100, 3), 100u);
  EXPECT_EQ(Progress::estimate_all(5, 10, 10, 1), 5u);
}

TEST(Progress, NotASweepHasNoRunCounter) {
  ProgressSpec s = spec(20, 20, 1);
  s.runs = 0;
  s.label = "writing out";
  EXPECT_EQ(Progress::format(s, 5, 1.0), "writing out: 5/20 images (25%), 5.0 images/s, ETA 3 s");
}

TEST(Progress, LogLinesEveryTenPercentOrIntervalAfterOneSecond) {
  ProgressSpec s = spec(100, 100, 1);
  s.log_interval_s = 10;
  EXPECT_FALSE(Progress::log_due(s, 0.5, -1, 3, -1));  // quiet in the first second
  EXPECT_TRUE(Progress::log_due(s, 1.2, -1, 0, -1));   // then a first line
  EXPECT_FALSE(Progress::log_due(s, 5.0, 1.2, 0, 0));  // same step, interval not reached
  EXPECT_TRUE(Progress::log_due(s, 5.0, 1.2, 1, 0));   // next 10 % step
  EXPECT_TRUE(Progress::log_due(s, 11.3, 1.2, 0, 0));  // interval reached
  s.log_interval_s = 0;                                // every step, from the start
  EXPECT_TRUE(Progress::log_due(s, 0.1, -1, 0, -1));
  EXPECT_FALSE(Progress::log_due(s, 0.2, 0.1, 0, 0));
}

TEST(Progress, AutoIsLogWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Progress::resolve(ProgressMode::kAuto, f), ProgressMode::kLog);
  EXPECT_EQ(Progress::resolve(ProgressMode::kTty, f), ProgressMode::kTty);
  std::fclose(f);
}

TEST(Progress, LogModeWithIntervalZeroEndsEveryRunWithItsLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  std::atomic<std::uint64_t> done{0};
  ProgressSpec s = spec(8, 8, 1);
  s.mode = ProgressMode::kLog;
  s.log_interval_s = 0;
  {
    Progress p(s, &done, Clock::now(), f);
    done = 8;
  }
  std::rewind(f);
  char buf[512] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string text(buf, n);
  EXPECT_NE(text.find("graybench: run 3/12 threads w=2 #0: 8/8 images (100%)"), std::string::npos)
      << text;
}

TEST(Progress, NoneDrawsNothing) {
  // The same run that log mode ends with a line (the test above): with none, the output stays
  // empty, through construction, progress and destruction.
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  std::atomic<std::uint64_t> done{3};
  ProgressSpec s = spec(10, 10, 1);
  s.mode = ProgressMode::kNone;
  s.log_interval_s = 0;
  {
    Progress p(s, &done, Clock::now() - std::chrono::seconds(5), f);
    done = 10;
  }
  EXPECT_EQ(std::ftell(f), 0L);
  std::fseek(f, 0, SEEK_END);
  EXPECT_EQ(std::ftell(f), 0L);
  std::fclose(f);
}

}  // namespace
}  // namespace graybench
