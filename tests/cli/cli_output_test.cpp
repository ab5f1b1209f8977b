// What the binaries print: per-run lines, the sweep table, progress, --version.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "h5/results.hpp"
#include "io/generator.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;
using test::ProcResult;
using test::run_process;
using test::TempDir;

using test::count_of;
void small_set(const fs::path& dir, int count) {
  test::make_small_set(dir, count);
}

TEST(CliOutput, SweepPrintsOneLinePerRunThenACompactTable) {
  TempDir d;
  small_set(d / "in", 6);
  const auto res = (d / "r.h5").string();
  const ProcResult r = run_process({GRAYBENCH_EXE, "-i", (d / "in").string(), "-r", res,
                                    "--strategy", "sequential,threads", "--workers", "1,2",
                                    "--repeat", "2", "--progress", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count_of(r.out, "run-0000"), 6) << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("sweep: 6 runs on 1 rank(s)"), std::string::npos) << r.out;
  // One table line per strategy and worker count, with its two repeats.
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n  sequential +1 +2 +[0-9.]+ )"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n  threads +2 +2 +[0-9.]+ )"))) << r.out;
  EXPECT_NE(r.out.find("tools/graybench-report " + res), std::string::npos);
  EXPECT_EQ(r.out.find("incomplete"), std::string::npos);
}

TEST(CliOutput, ProgressLogPrintsRunKOfNAndNoneAndQuietPrintNothing) {
  TempDir d;
  small_set(d / "in", 4);
  const std::vector<std::string> base = {
      GRAYBENCH_EXE, "-i", (d / "in").string(), "-r", (d / "r.h5").string(), "--repeat", "2"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(args);
  };
  // Interval 0: every run ends with its line, however short.
  const ProcResult log = with({"--progress", "log", "--progress-interval", "0"});
  ASSERT_EQ(log.code, 0) << log.err;
  EXPECT_NE(log.err.find("graybench: run 1/2 sequential w=1 #0: 4/4 images (100%)"),
            std::string::npos)
      << log.err;
  EXPECT_NE(log.err.find("graybench: run 2/2 sequential w=1 #1: 4/4 images (100%)"),
            std::string::npos)
      << log.err;
  EXPECT_EQ(log.err.find('\r'), std::string::npos) << "log lines are plain";
  // none and -q print no progress, whatever the interval.
  const ProcResult none = with({"--progress", "none", "--progress-interval", "0"});
  EXPECT_EQ(none.err, "");
  const ProcResult quiet = with({"-q", "--progress", "log", "--progress-interval", "0"});
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(quiet.out, "");
  const ProcResult bad = with({"--progress", "sometimes"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--progress: unknown progress mode 'sometimes'"), std::string::npos)
      << bad.err;
  EXPECT_EQ(with({"--progress-interval", "-1"}).code, 2);
}

TEST(CliOutput, ProgressUnderMpirunCountsAllRanks) {
  TempDir d;
  small_set(d / "in", 8);
  const ProcResult r = run_process(
      {GRAYBENCH_MPIEXEC, "-np", "2", "--oversubscribe", GRAYBENCH_EXE, "-i", (d / "in").string(),
       "-r", (d / "r.h5").string(), "--progress", "log", "--progress-interval", "0"},
      {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Rank 0 holds 4 of the 8 images; its count scaled by its share gives all ranks' total.
  EXPECT_NE(r.err.find("graybench: run 1/1 sequential w=1 #0: ~8/8 images (100%)"),
            std::string::npos)
      << r.err;
}

TEST(CliOutput, IncompleteRunSaysSoAndCountsProcessedImagesOnly) {
  TempDir d;
  GenOptions o;
  o.count = 24;
  o.sizes = {{320, 240}};
  generate_dataset(d / "in", o);
  const auto res = d / "r.h5";
  test::Child job({GRAYBENCH_EXE, "-i", (d / "in").string(), "-r", res.string(), "--strategy",
                   "threads", "--workers", "2", "--kernel-repeat", "300", "--repeat", "5",
                   "--progress", "none"});
  for (int i = 0; i < 600 && !fs::exists(res); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(res)) << "the first run never finished";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  job.signal(SIGTERM);
  const ProcResult r = job.wait();
  ASSERT_EQ(r.code, 4) << r.err;
  const ResultsFile f = read_results(res.string());
  const RunResult& last = f.runs.back();
  ASSERT_EQ(last.attrs.str("status"), "incomplete");
  const auto processed = 24 - last.attrs.integer("n_not_processed");
  const double wall = last.attrs.real("wall_s");
  // The last run's console line: "incomplete: P/24 images" and a rate of P / wall.
  std::smatch m;
  const std::regex line(
      R"(wall= *([0-9.]+) s +([0-9.]+) images/s  incomplete: ([0-9]+)/24 images)");
  ASSERT_TRUE(std::regex_search(r.out, m, line)) << r.out;
  EXPECT_EQ(std::stoll(m[3]), processed);
  EXPECT_NEAR(std::stod(m[2]), static_cast<double>(processed) / wall,
              0.05 + 0.001 * processed / wall);
  EXPECT_EQ(count_of(r.out, "incomplete:"), 1) << r.out;
}

TEST(CliOutput, VersionsOfBothBinariesNameMpiHdf5AndCodecs) {
  for (const char* exe : {GRAYBENCH_EXE, GRAYBENCH_GEN_EXE}) {
    const ProcResult v = run_process({exe, "--version"});
    EXPECT_EQ(v.code, 0) << exe;
    EXPECT_NE(v.out.find(" 0."), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("\nMPI: "), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("\nHDF5: 1."), std::string::npos) << v.out;
    for (const char* codec :
         {"\ncodecs: ", "libjpeg_turbo ", "libspng ", "libdeflate ", "stb_image "})
      EXPECT_NE(v.out.find(codec), std::string::npos) << codec << "\n" << v.out;
  }
}

TEST(CliOutput, GenShowsProgressInLogMode) {
  TempDir d;
  const ProcResult r = run_process({GRAYBENCH_GEN_EXE, "--output", (d / "out").string(), "--count",
                                    "3", "--sizes", "16x16", "--progress", "log"});
  ASSERT_EQ(r.code, 0) << r.err;
  // A short generation prints no progress lines before its first second; it always says what
  // it wrote.
  EXPECT_NE(r.out.find("wrote 3 images"), std::string::npos);
  const ProcResult bad =
      run_process({GRAYBENCH_GEN_EXE, "--output", (d / "x").string(), "--progress", "loud"});
  EXPECT_EQ(bad.code, 2);
}

}  // namespace
}  // namespace graybench
