// Runs the real graybench binaries as a user would.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "h5/results.hpp"
#include "io/codec.hpp"
#include "io/file.hpp"
#include "io/generator.hpp"
#include "kernel/checksum.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;
using test::ProcResult;
using test::run_process;
using test::slurp;
using test::TempDir;

ProcResult graybench(std::vector<std::string> args) {
  args.insert(args.begin(), GRAYBENCH_EXE);
  return run_process(args);
}

ProcResult mpirun(int np, std::vector<std::string> args) {
  std::vector<std::string> argv = {GRAYBENCH_MPIEXEC, "-np", std::to_string(np), "--oversubscribe",
                                   GRAYBENCH_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  // Open MPI refuses root without these; CI runs as root.
  return run_process(argv, {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"});
}

void make_set(const fs::path& dir, int count, std::uint64_t seed = 1) {
  test::make_small_set(dir, count, seed);
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

struct BadUsage {
  std::vector<std::string> args;
  std::string message;
};

TEST(Cli, BadUsageExitsTwoWithOneClearLine) {
  TempDir d;
  fs::create_directories(d / "empty");
  std::ofstream(d / "notes.txt") << "hello";
  const std::vector<BadUsage> cases = {
      {{"--frobnicate"}, "unrecognised option '--frobnicate'"},
      {{}, "no input"},
      {{"--input", (d / "missing").string()}, "input does not exist"},
      {{"--input", (d / "empty").string()}, "no images found"},
      {{"--input", (d / "notes.txt").string()}, "unsupported image type"},
      {{"--input", (d / "empty").string(), "--strategy", "nope"}, "unknown strategy 'nope'"},
      {{"--input", (d / "empty").string(), "--repeat", "0"}, "--repeat"},
      {{"--input", (d / "empty").string(), "--workers", "0"}, "--workers"},
      {{"--input", (d / "empty").string(), "--mode", "disk"}, "--mode"},
      {{"--input", (d / "empty").string(), "--omp-schedule", "auto"}, "--omp-schedule"},
      {{"--input", (d / "empty").string(), "--ipc", "socket"}, "--ipc"},
      {{"--input", (d / "empty").string(), "--gil-interval", "-1"}, "--gil-interval"},
      {{"--input", (d / "empty").string(), "--kernel-repeat", "0"}, "--kernel-repeat"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    args.push_back("--results");
    args.push_back((d / "r.h5").string());
    const ProcResult r = graybench(args);
    EXPECT_EQ(r.code, 2) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("graybench: ", 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists(d / "r.h5"));
  }
}

TEST(Cli, HelpAndVersion) {
  const ProcResult h = graybench({"--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--input"), std::string::npos);
  EXPECT_NE(h.out.find("(=graybench.h5)"), std::string::npos);
  // Every documented exit code, each on its own line.
  for (const char* code : {"\n  0  ", "\n  1  ", "\n  2  ", "\n  3  ", "\n  4  interrupted"})
    EXPECT_NE(h.out.find(code), std::string::npos) << code << "\n" << h.out;
  const ProcResult v = graybench({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out.rfind("graybench 0.", 0), 0u) << v.out;
}

TEST(Cli, ConvertsWritesMirroredOutputsAndRecordsChecksums) {
  TempDir d;
  make_set(d / "in", 8);
  const ProcResult r = graybench(
      {"-i", (d / "in").string(), "-o", (d / "out").string(), "-r", (d / "r.h5").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const ResultsFile f = read_results((d / "r.h5").string());
  ASSERT_EQ(f.runs.size(), 1u);
  ASSERT_EQ(f.runs[0].images.size(), 8u);
  for (const auto& rec : f.runs[0].images) {
    const fs::path rel = fs::path(rec.path).lexically_relative(d / "in");
    fs::path out = d / "out" / rel;
    if (out.extension() != ".png") out += ".png";
    ASSERT_TRUE(fs::exists(out)) << out;
    const Image img = decode_image(read_file(out));
    EXPECT_EQ(img.channels, 1);
    EXPECT_EQ(static_cast<std::uint32_t>(img.width), rec.width);
    EXPECT_EQ(checksum64(img.pixels), rec.checksum) << out;
    EXPECT_EQ(rec.bytes_out, fs::file_size(out));
  }
}

TEST(Cli, ProcessesRunsGraybenchWorkerBesideItElseItsOwnWorkerMode) {
  TempDir d;
  make_set(d / "in", 4);
  const fs::path built = GRAYBENCH_EXE;
  ASSERT_TRUE(fs::exists(built.parent_path() / "graybench-worker"));  // as built and installed
  // A lone copy of graybench: its workers are graybench --worker-mode, with the same results.
  fs::create_directories(d / "lone");
  fs::copy_file(built, d / "lone" / "graybench");
  const std::vector<std::string> exes = {built.string(), (d / "lone" / "graybench").string()};
  std::vector<std::map<std::string, std::uint64_t>> sums(exes.size());
  for (std::size_t k = 0; k < exes.size(); ++k) {
    const std::string res = (d / ("r" + std::to_string(k) + ".h5")).string();
    const ProcResult r = run_process({exes[k], "-i", (d / "in").string(), "-r", res, "--strategy",
                                      "processes", "--workers", "2", "-q"});
    ASSERT_EQ(r.code, 0) << exes[k] << ": " << r.err;
    const ResultsFile f = read_results(res);
    for (const auto& rec : f.runs.at(0).images)
      sums[k][rec.path] = rec.checksum;
  }
  EXPECT_EQ(sums[0].size(), 4u);
  EXPECT_EQ(sums[0], sums[1]);
  // The worker beside graybench is the one it runs: a broken one fails the images, by name.
  fs::create_directories(d / "broken");
  fs::copy_file(built, d / "broken" / "graybench");
  std::ofstream(d / "broken" / "graybench-worker") << "#!/bin/sh\nexit 7\n";
  fs::permissions(d / "broken" / "graybench-worker", fs::perms::owner_all);
  const ProcResult r =
      run_process({(d / "broken" / "graybench").string(), "-i", (d / "in").string(), "-r",
                   (d / "b.h5").string(), "--strategy", "processes", "--workers", "2", "-q"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("graybench-worker) failed to start: exited with code 7"), std::string::npos)
      << r.err;
}

TEST(Cli, MallocPolicyIsRecordedAndTheUsersOwnSettingsWin) {
  TempDir d;
  make_set(d / "in", 2);
  const auto policy = [&](const std::vector<std::string>& env) {
    const fs::path results = d / ("r" + std::to_string(env.size()) + ".h5");
    const ProcResult r =
        run_process({GRAYBENCH_EXE, "-i", (d / "in").string(), "-r", results.string()}, env);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_results(results.string()).runs.at(0).attrs.str("malloc_policy");
  };
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const std::string mine = policy({});  // a sanitizer's allocator may refuse mallopt
  EXPECT_TRUE(mine == "keep" || mine == "system") << mine;
#else
  EXPECT_EQ(policy({}), "keep");
#endif
  EXPECT_EQ(policy({"MALLOC_ARENA_MAX=4"}), "environment");
  EXPECT_EQ(policy({"GLIBC_TUNABLES=glibc.malloc.trim_threshold=1", "X=1"}), "environment");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Huge pages for the heap combine with the tuning (only the environment can ask for them).
  EXPECT_EQ(policy({"GLIBC_TUNABLES=glibc.malloc.hugetlb=1", "X=1", "Y=1"}), "keep+hugetlb");
#endif
}

TEST(Cli, DuplicateBasenamesNeverOverwriteEachOther) {
  TempDir d;
  make_set(d / "a", 2, 1);
  make_set(d / "b", 2, 2);  // same names, different pixels
  const ProcResult r = graybench({"-i", (d / "a").string(), "-i", (d / "b").string(), "-o",
                                  (d / "out").string(), "-r", (d / "r.h5").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = slurp(d / "out/a/set-0/img-00000.png");
  const auto b = slurp(d / "out/b/set-0/img-00000.png");
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(b.empty());
  EXPECT_NE(a, b);
}

TEST(Cli, RefusesToOverwriteInputs) {
  TempDir d;
  make_set(d / "in", 2);
  const std::string before = slurp(d / "in/set-0/img-00000.png");
  const ProcResult r = graybench(
      {"-i", (d / "in").string(), "-o", (d / "in").string(), "-r", (d / "r.h5").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("would overwrite an input"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(d / "in/set-0/img-00000.png"), before);
}

TEST(Cli, BadImagesAreRecordedAndExitThree) {
  TempDir d;
  make_set(d / "in", 4);
  std::ofstream(d / "in/corrupt.png") << "this is not a png";
  {
    std::string jpg = slurp(d / "in/set-0/img-00000.png");
    std::ofstream(d / "in/truncated.png", std::ios::binary) << jpg.substr(0, jpg.size() / 3);
  }
  const ProcResult r = graybench({"-i", (d / "in").string(), "-r", (d / "r.h5").string()});
  EXPECT_EQ(r.code, 3) << r.err;
  const ResultsFile f = read_results((d / "r.h5").string());
  ASSERT_EQ(f.runs.at(0).images.size(), 6u);
  EXPECT_EQ(f.runs[0].attrs.integer("n_failed"), 2);
  EXPECT_EQ(f.runs[0].attrs.str("status"), "complete");
  int failed = 0;
  for (const auto& rec : f.runs[0].images) {
    if (rec.path.find("corrupt") != std::string::npos ||
        rec.path.find("truncated") != std::string::npos) {
      EXPECT_EQ(rec.status, ImageStatus::kDecodeError) << rec.path;
      EXPECT_NE(rec.error.find("decode failed"), std::string::npos) << rec.error;
      EXPECT_EQ(rec.checksum, 0u);
      ++failed;
    } else {
      EXPECT_EQ(rec.status, ImageStatus::kOk);
      EXPECT_NE(rec.checksum, 0u);
    }
  }
  EXPECT_EQ(failed, 2);
}

TEST(Cli, ConcurrentJobsAppendingToOneFileLoseNothing) {
  TempDir d;
  make_set(d / "in", 2);
  const auto res = (d / "shared.h5").string();
  std::vector<ProcResult> results(4);
  std::vector<std::thread> jobs;
  for (auto& r : results) {
    jobs.emplace_back([&] {
      r = graybench({"-i", (d / "in").string(), "-r", res, "--repeat", "5", "-q"});
    });
  }
  for (auto& j : jobs)
    j.join();
  for (const auto& r : results)
    EXPECT_EQ(r.code, 0) << r.err;
  const ResultsFile f = read_results(res);
  EXPECT_EQ(f.runs.size(), 20u);
}

TEST(Cli, OutputsNeverOverwriteTheResultsFile) {
  TempDir d;
  make_set(d / "in", 3);  // includes set-0/img-00000.png
  fs::create_directories(d / "out/set-0");
  const auto res = (d / "out/set-0/img-00000.png").string();
  const ProcResult r =
      graybench({"-i", (d / "in").string(), "-o", (d / "out").string(), "-r", res});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("would overwrite the --results file"), std::string::npos) << r.err;
}

TEST(Cli, SigtermSavesTheRunSoFarAsIncompleteAndStops) {
  TempDir d;
  GenOptions o;
  o.count = 24;
  o.sizes = {{320, 240}};
  generate_dataset(d / "in", o);
  const auto res = d / "r.h5";
  // Slow enough per image (kernel repeated) that the second repetition is still running.
  test::Child job({GRAYBENCH_EXE, "-i", (d / "in").string(), "-r", res.string(), "--strategy",
                   "threads", "--workers", "2", "--kernel-repeat", "300", "--repeat", "5"});
  // Readiness: the first run's summary line is printed once it is saved, and the second run
  // starts right after; a signal from here on lands in run 2 (or, at worst, just before it,
  // which leaves run 2 incomplete all the same).
  ASSERT_TRUE(job.wait_for_stdout("run-00001", std::chrono::minutes(2)))
      << "the first run never finished";
  job.signal(SIGTERM);
  const ProcResult r = job.wait();
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("interrupted by signal 15"), std::string::npos) << r.err;
  const ResultsFile f = read_results(res.string());
  ASSERT_GE(f.runs.size(), 2u);
  EXPECT_LT(f.runs.size(), 5u);  // the sweep stopped
  for (std::size_t k = 0; k + 1 < f.runs.size(); ++k)
    EXPECT_EQ(f.runs[k].attrs.str("status"), "complete");
  const RunResult& last = f.runs.back();
  EXPECT_EQ(last.attrs.str("status"), "incomplete");
  ASSERT_EQ(last.images.size(), 24u);  // every image has its row
  const auto skipped = last.attrs.integer("n_not_processed");
  EXPECT_GT(skipped, 0);
  EXPECT_EQ(last.attrs.integer("n_failed"), 0);
  int rows_skipped = 0;
  for (const auto& img : last.images) {
    if (img.status == ImageStatus::kNotProcessed) {
      ++rows_skipped;
      EXPECT_EQ(img.checksum, 0u);
    } else {
      EXPECT_EQ(img.status, ImageStatus::kOk);
      EXPECT_EQ(img.checksum, f.runs[0].images[img.image].checksum);
    }
  }
  EXPECT_EQ(rows_skipped, skipped);
}

TEST(Cli, ResultsThatAreNotHdf5AreLeftAlone) {
  TempDir d;
  make_set(d / "in", 1);
  std::ofstream(d / "precious.txt") << "do not touch";
  const ProcResult r = graybench({"-i", (d / "in").string(), "-r", (d / "precious.txt").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not an HDF5 file"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(d / "precious.txt"), "do not touch");
}

TEST(Cli, AppendsRunsToAnExistingFile) {
  TempDir d;
  make_set(d / "in", 3);
  const auto res = (d / "r.h5").string();
  ASSERT_EQ(graybench({"-i", (d / "in").string(), "-r", res}).code, 0);
  ASSERT_EQ(
      graybench({"-i", (d / "in").string(), "-r", res, "--repeat", "2", "--warmup", "1"}).code, 0);
  const ResultsFile f = read_results(res);
  EXPECT_EQ(f.run_names, (std::vector<std::string>{"run-00001", "run-00002", "run-00003"}));
  EXPECT_EQ(f.runs[2].attrs.integer("repeat"), 1);
}

std::map<std::uint64_t, std::uint64_t> checksums(const RunResult& run) {
  std::map<std::uint64_t, std::uint64_t> m;
  for (const auto& r : run.images)
    m[r.image] = r.checksum;
  return m;
}

TEST(Cli, FullSweepWritesTwentySevenAgreeingRuns) {
  TempDir d;
  make_set(d / "in", 5);
  const auto res = (d / "r.h5").string();
  const ProcResult r = graybench({"-i", (d / "in").string(), "-r", res, "--strategy", "all",
                                  "--workers", "1,2", "--repeat", "3", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // --quiet
  const ResultsFile f = read_results(res);
  ASSERT_EQ(f.runs.size(), 27u);
  std::map<std::string, int> per_strategy;
  const auto reference = checksums(f.runs[0]);
  for (const auto& run : f.runs) {
    ++per_strategy[run.attrs.str("strategy")];
    ASSERT_EQ(run.images.size(), 5u);
    for (std::size_t i = 0; i < run.images.size(); ++i) {
      EXPECT_EQ(run.images[i].image, i);  // rows in input order: comparable row for row
      EXPECT_EQ(run.images[i].checksum, f.runs[0].images[i].checksum);
    }
    EXPECT_EQ(checksums(run), reference);
    EXPECT_EQ(undeclared_attributes(kRunAttributes, run.attrs), std::vector<std::string>{});
  }
  EXPECT_EQ(per_strategy,
            (std::map<std::string, int>{
                {"sequential", 3}, {"threads", 6}, {"openmp", 6}, {"pool", 6}, {"processes", 6}}));
}

TEST(Cli, StrategyKnobsAreRecorded) {
  TempDir d;
  make_set(d / "in", 3);
  const auto res = (d / "r.h5").string();
  const ProcResult r = graybench({"-i",
                                  (d / "in").string(),
                                  "-r",
                                  res,
                                  "--strategy",
                                  "openmp,processes",
                                  "--workers",
                                  "2",
                                  "--mode",
                                  "memory",
                                  "--kernel-repeat",
                                  "3",
                                  "--gil",
                                  "--gil-interval",
                                  "2",
                                  "--omp-schedule",
                                  "static,2",
                                  "--ipc",
                                  "shm",
                                  "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  const ResultsFile f = read_results(res);
  ASSERT_EQ(f.runs.size(), 2u);
  for (const auto& run : f.runs) {
    EXPECT_EQ(run.attrs.str("mode"), "memory");
    EXPECT_EQ(run.attrs.integer("kernel_repeat"), 3);
    EXPECT_EQ(run.attrs.integer("gil"), 1);
    EXPECT_DOUBLE_EQ(run.attrs.real("gil_interval_s"), 0.002);
    EXPECT_EQ(run.attrs.str("omp_schedule"), "static,2");
    EXPECT_EQ(run.attrs.str("ipc"), "shm");
    EXPECT_EQ(run.attrs.str("workers_source"), "command line");
    for (const auto& img : run.images) {
      EXPECT_EQ(img.read_s, 0.0);  // memory mode: read and decode happened before the clock
      EXPECT_EQ(img.decode_s, 0.0);
    }
  }
  EXPECT_EQ(f.runs[0].attrs.integer("omp_team_size"), 2);
  EXPECT_GT(f.runs[1].images[0].ipc_bytes, 0u);
  // Every attribute a real run writes is declared (timing/schema.hpp), hence documented.
  EXPECT_EQ(undeclared_attributes(kRootAttributes, f.root), std::vector<std::string>{});
  for (const auto& run : f.runs)
    EXPECT_EQ(undeclared_attributes(kRunAttributes, run.attrs), std::vector<std::string>{});
}

TEST(CliMpi, SameChecksumsAtOneTwoThreeRanks) {
  TempDir d;
  make_set(d / "in", 7);
  std::map<std::uint64_t, std::uint64_t> reference;
  for (int np : {1, 2, 3}) {
    const auto res = (d / ("np" + std::to_string(np) + ".h5")).string();
    const ProcResult r = mpirun(np, {"-i", (d / "in").string(), "-r", res, "-q"});
    ASSERT_EQ(r.code, 0) << r.err;
    const ResultsFile f = read_results(res);
    ASSERT_EQ(f.runs.size(), 1u);
    const RunResult& run = f.runs[0];
    EXPECT_EQ(run.attrs.integer("ranks"), np);
    ASSERT_EQ(run.ranks.size(), static_cast<std::size_t>(np));
    std::uint64_t total = 0;
    for (const auto& rk : run.ranks)
      total += rk.n_images;
    EXPECT_EQ(total, 7u);
    const auto sums = checksums(run);
    ASSERT_EQ(sums.size(), 7u);
    if (np == 1) reference = sums;
    EXPECT_EQ(sums, reference) << "np=" << np;
  }
}

TEST(CliMpi, EveryPolicyAndRankCountGivesTheSameChecksums) {
  TempDir d;
  make_set(d / "in", 7);
  std::map<std::uint64_t, std::uint64_t> reference;
  for (const std::string variant : {"block", "cyclic", "size", "dynamic", "dynamic:dispatcher"}) {
    const std::string policy = variant.substr(0, variant.find(':'));
    const std::string counter =
        variant.find(':') == std::string::npos ? "auto" : variant.substr(variant.find(':') + 1);
    for (int np : {1, 2, 3, 4}) {
      SCOPED_TRACE(variant + " np=" + std::to_string(np));
      const auto res = (d / (policy + counter + std::to_string(np) + ".h5")).string();
      const ProcResult r = mpirun(np, {"-i", (d / "in").string(), "-r", res, "-q", "--distribution",
                                       policy, "--dynamic-counter", counter, "--strategy", "all",
                                       "--workers", "2", "--chunk", "2"});
      ASSERT_EQ(r.code, 0) << r.err;
      const ResultsFile f = read_results(res);
      ASSERT_EQ(f.runs.size(), 5u);
      for (const auto& run : f.runs) {
        EXPECT_EQ(run.attrs.str("distribution"), policy);
        if (counter == "dispatcher") {
          EXPECT_EQ(run.attrs.str("distribution_mechanism"), "dispatcher");
        }
        if (policy != "dynamic") {
          EXPECT_EQ(run.attrs.str("distribution_mechanism"), "static");
        }
        EXPECT_EQ(run.attrs.integer("ranks"), np);
        ASSERT_EQ(run.ranks.size(), static_cast<std::size_t>(np));
        std::uint64_t total = 0;
        for (const auto& rk : run.ranks) {
          total += rk.n_images;
          EXPECT_GE(rk.idle_s, 0.0);
          EXPECT_FALSE(rk.cpus.empty());
        }
        EXPECT_EQ(total, 7u);
        std::set<int> ranks_seen;
        for (const auto& img : run.images)
          ranks_seen.insert(img.rank);
        if (policy != "dynamic") {
          EXPECT_EQ(ranks_seen.size(), static_cast<std::size_t>(std::min(np, 7)));
        }
        const auto sums = checksums(run);
        if (reference.empty()) reference = sums;
        EXPECT_EQ(sums, reference);
      }
    }
  }
}

TEST(CliMpi, NoImagesIsAClearErrorAtEveryRankCount) {
  TempDir d;
  fs::create_directories(d / "empty");
  for (int np : {1, 2, 3, 4}) {
    const ProcResult r = mpirun(np, {"-i", (d / "empty").string(), "-r", (d / "r.h5").string()});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("no images found"), std::string::npos) << r.err;
    // One line from graybench (rank 0 only); mpirun adds its own notice about the exit code.
    std::size_t ours = 0;
    for (std::size_t p = r.err.find("graybench:"); p != std::string::npos;
         p = r.err.find("graybench:", p + 1))
      ++ours;
    EXPECT_EQ(ours, 1u) << r.err;
  }
}

TEST(CliMpi, MoreRanksThanImagesAndOversubscriptionIsFlagged) {
  TempDir d;
  make_set(d / "in", 2);
  const auto res = (d / "r.h5").string();
  const ProcResult r = mpirun(4, {"-i", (d / "in").string(), "-r", res, "--strategy", "threads",
                                  "--workers", "1000", "--distribution", "dynamic"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: threads: 1000 workers per rank"), std::string::npos) << r.err;
  const ResultsFile f = read_results(res);
  const auto& a = f.runs.at(0).attrs;
  EXPECT_EQ(a.integer("oversubscribed"), 1);
  EXPECT_EQ(a.integer("total_workers"), 4000);
  EXPECT_EQ(f.runs[0].images.size(), 2u);
}

TEST(CliMpi, UsageErrorsEndEveryRankWithTwo) {
  TempDir d;
  const ProcResult r = mpirun(3, {"-i", (d / "missing").string(), "-r", (d / "r.h5").string()});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("input does not exist"), std::string::npos) << r.err;
}

// ---- Validation before running, saving when the disk is full, what the console says ----

/// No crash signature may appear in any output of these tests.
void expect_clean(const ProcResult& r) {
  for (const char* bad : {"HDF5-DIAG", "terminate called", "Segmentation fault", "AddressSanitizer",
                          "runtime error:", "Process received signal"}) {
    EXPECT_EQ(r.err.find(bad), std::string::npos) << bad << " in:\n" << r.err;
    EXPECT_EQ(r.out.find(bad), std::string::npos) << bad << " in:\n" << r.out;
  }
}

/// Runs graybench as user nobody (CI runs as root, so permissions need a second user). Each run
/// gets its own Open MPI session directory: concurrent singletons of one user share
/// /tmp/ompi.HOST.UID, and one that ends removes it while another creates its job directory
/// inside ("mkdir ... No such file or directory", orte_init fails; seen once in CI).
ProcResult graybench_as_nobody(std::vector<std::string> args) {
  TempDir session;
  fs::permissions(session.path(), fs::perms::all);
  args.insert(args.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             "--", GRAYBENCH_EXE});
  return run_process(args, {"OMPI_MCA_orte_tmpdir_base=" + session.path().string()});
}

bool can_switch_user() {
  return ::geteuid() == 0 && fs::exists("/usr/bin/setpriv");
}

TEST(CliMpi, HugeWorkerCountsAreAClearErrorForEveryStrategy) {
  TempDir d;
  make_set(d / "in", 2);
  for (const char* s : {"threads", "openmp", "pool", "processes"}) {
    const ProcResult r = mpirun(2, {"-i", (d / "in").string(), "-r", (d / "r.h5").string(),
                                    "--strategy", s, "--workers", "100000"});
    EXPECT_EQ(r.code, 2) << s << "\n" << r.err;
    EXPECT_NE(
        r.err.find(std::string("--workers 100000 for ") + s + ": this rank can start at most"),
        std::string::npos)
        << r.err;
    expect_clean(r);
    EXPECT_FALSE(fs::exists(d / "r.h5"));
  }
}

TEST(Cli, WorkerCountsBeyondTheRanksLimitsAreRefused) {
  if (!fs::exists("/usr/bin/prlimit")) GTEST_SKIP() << "needs prlimit (util-linux)";
  TempDir d;
  make_set(d / "in", 2);
  // Descriptors: 6 per worker process.
  ProcResult r =
      run_process({"/usr/bin/prlimit", "--nofile=200", GRAYBENCH_EXE, "-i", (d / "in").string(),
                   "-r", (d / "r.h5").string(), "--strategy", "processes", "--workers", "100"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("RLIMIT_NOFILE (ulimit -n) 200"), std::string::npos) << r.err;
  expect_clean(r);
  // Threads: RLIMIT_NPROC binds users other than root.
  if (!can_switch_user()) GTEST_SKIP() << "needs root and setpriv to run as a user with ulimit -u";
  fs::permissions(d.path(), fs::perms::all);
  r = run_process({"/usr/bin/prlimit", "--nproc=64", "/usr/bin/setpriv", "--reuid=65534",
                   "--regid=65534", "--clear-groups", "--", GRAYBENCH_EXE, "-i",
                   (d / "in").string(), "-r", (d / "r.h5").string(), "--strategy", "threads",
                   "--workers", "100"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("RLIMIT_NPROC (ulimit -u) 64"), std::string::npos) << r.err;
  expect_clean(r);
  EXPECT_FALSE(fs::exists(d / "r.h5"));
}

TEST(Cli, UnwritableOutputDirIsFoundBeforeRunning) {
  TempDir d;
  make_set(d / "in", 2);
  std::ofstream(d / "file") << "x";
  const ProcResult r = graybench(
      {"-i", (d / "in").string(), "-r", (d / "r.h5").string(), "-o", (d / "file/out").string()});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--output-dir " + (d / "file/out").string() + " cannot be created"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(d / "r.h5"));
  expect_clean(r);
}

TEST(Cli, AnotherUsersResultsFileIsRefusedBeforeRunningEvenInAnOpenDirectory) {
  if (!can_switch_user()) GTEST_SKIP() << "needs root and setpriv to act as a second user";
  TempDir d;
  make_set(d / "in", 2);
  const auto res = (d / "r.h5").string();
  ASSERT_EQ(graybench({"-i", (d / "in").string(), "-r", res, "-q"}).code, 0);
  // A shared, world-writable, non-sticky directory: rename would be allowed, writing is not.
  fs::permissions(d.path(), fs::perms::all);
  fs::permissions(res, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                           fs::perms::others_read);
  const std::string before = slurp(res);
  const ProcResult r = graybench_as_nobody({"-i", (d / "in").string(), "-r", res});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is not writable by this user (Permission denied); nothing was run"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("run-"), std::string::npos) << "it ran: " << r.out;
  struct stat st {};
  ASSERT_EQ(::stat(res.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);  // still root's file
  EXPECT_EQ(slurp(res), before);
  expect_clean(r);
}

TEST(Cli, ReadOnlyResultsFileIsRefusedBeforeRunning) {
  if (!can_switch_user()) GTEST_SKIP() << "needs root and setpriv (root may write a 0444 file)";
  TempDir d;
  make_set(d / "in", 2);
  fs::permissions(d.path(), fs::perms::all);
  const auto res = (d / "r.h5").string();
  ASSERT_EQ(graybench_as_nobody({"-i", (d / "in").string(), "-r", res, "-q"}).code, 0);
  fs::permissions(res, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const ProcResult r = graybench_as_nobody({"-i", (d / "in").string(), "-r", res});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is not writable by this user"), std::string::npos) << r.err;
  expect_clean(r);
}

TEST(Cli, ForeignLockFileIsRefusedBeforeRunningOrUsedAsIs) {
  if (!can_switch_user()) GTEST_SKIP() << "needs root and setpriv to act as a second user";
  TempDir d;
  make_set(d / "in", 2);
  fs::permissions(d.path(), fs::perms::all | fs::perms::sticky_bit);  // like /tmp
  const auto res = (d / "r.h5").string();
  std::ofstream(res + ".lock") << "";
  fs::permissions(res + ".lock", fs::perms::owner_read | fs::perms::owner_write);  // root's, 0600
  ProcResult r = graybench_as_nobody({"-i", (d / "in").string(), "-r", res});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("lock file " + res + ".lock cannot be created or opened: Permission denied"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(res));
  expect_clean(r);
  // Readable (a lock file left by an older graybench): flock works on it; it stays root's.
  fs::permissions(res + ".lock", fs::perms::owner_read | fs::perms::owner_write |
                                     fs::perms::group_read | fs::perms::others_read);
  r = graybench_as_nobody({"-i", (d / "in").string(), "-r", res, "-q"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_results(res).runs.size(), 1u);
  EXPECT_TRUE(fs::exists(res + ".lock"));
  expect_clean(r);
}

TEST(CliMpi, SymlinkToAMissingTargetCreatesTheTargetAndKeepsTheLink) {
  TempDir d;
  make_set(d / "in", 3);
  fs::create_directories(d / "store");
  fs::create_symlink(d / "store/results.h5", d / "link.h5");
  const ProcResult r = mpirun(2, {"-i", (d / "in").string(), "-r", (d / "link.h5").string(), "-q"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(d / "link.h5"));
  ASSERT_TRUE(fs::is_regular_file(d / "store/results.h5"));
  EXPECT_EQ(read_results((d / "store/results.h5").string()).runs.size(), 1u);
  expect_clean(r);
}

TEST(CliMpi, OwnerAndModeSurviveAnAppend) {
  TempDir d;
  make_set(d / "in", 3);
  const auto res = (d / "r.h5").string();
  ASSERT_EQ(mpirun(2, {"-i", (d / "in").string(), "-r", res, "-q"}).code, 0);
  ::chmod(res.c_str(), 0664);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(res.c_str(), 65534, 65534), 0);
  }
  struct stat before {};
  ::stat(res.c_str(), &before);
  const ProcResult r = mpirun(2, {"-i", (d / "in").string(), "-r", res, "-q"});
  EXPECT_EQ(r.code, 0) << r.err;
  struct stat after {};
  ::stat(res.c_str(), &after);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(read_results(res).runs.size(), 2u);
  for (const auto& e : fs::directory_iterator(d.path()))
    EXPECT_NE(e.path().extension(), ".lock") << "leftover " << e.path();
  expect_clean(r);
}

/// A small tmpfs mounted for one test (root only), unmounted at scope exit.
class SmallDisk {
 public:
  SmallDisk(const fs::path& where, const std::string& size) : where_(where) {
    fs::create_directories(where);
    mounted_ = ::geteuid() == 0 && run_process({"/bin/mount", "-t", "tmpfs", "-o", "size=" + size,
                                                "tmpfs", where.string()})
                                           .code == 0;
  }
  ~SmallDisk() {
    if (mounted_) run_process({"/bin/umount", where_.string()});
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path where_;
  bool mounted_ = false;
};

TEST(CliMpi, FullDiskSavesTheRunsToAFallbackFileWithTheReason) {
  TempDir d;
  SmallDisk disk(d / "disk", "512k");
  // RLIMIT_FSIZE, the other way to fill a "disk", also stops Open MPI's own shared-memory files.
  if (!disk.mounted()) GTEST_SKIP() << "needs root and mount to make a small tmpfs";
  GenOptions o;
  o.count = 1000;
  o.sizes = {{8, 8}};
  o.formats = {GenFormat::kPng};
  generate_dataset(d / "in", o);
  fs::create_directories(d / "tmp");
  const auto res = (d / "disk/r.h5").string();
  std::vector<std::string> argv = {GRAYBENCH_MPIEXEC,
                                   "-np",
                                   "2",
                                   "--oversubscribe",
                                   GRAYBENCH_EXE,
                                   "-i",
                                   (d / "in").string(),
                                   "-r",
                                   res,
                                   "--repeat",
                                   "4"};
  const ProcResult r =
      run_process(argv, {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                         "TMPDIR=" + (d / "tmp").string()});
  EXPECT_EQ(r.code, 0) << r.err;  // every image converted and every run saved somewhere
  EXPECT_NE(r.err.find("cannot save results to " + res + ": write "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": No space left on device"), std::string::npos) << r.err;
  std::vector<fs::path> fallbacks;
  for (const auto& e : fs::directory_iterator(d / "tmp"))
    if (e.path().string().find(".unsaved-") != std::string::npos) fallbacks.push_back(e.path());
  ASSERT_EQ(fallbacks.size(), 1u) << r.err;
  EXPECT_NE(r.err.find("the runs of this job are saved in " + fallbacks[0].string()),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("results: " + fallbacks[0].string()), std::string::npos) << r.out;
  const std::size_t kept = read_results(res).runs.size();  // intact, rolled back
  const std::size_t rescued = read_results(fallbacks[0].string()).runs.size();
  EXPECT_GE(kept, 1u);
  EXPECT_EQ(kept + rescued, 4u);
  for (const auto& e : fs::directory_iterator(d / "disk"))
    EXPECT_EQ(e.path().filename(), "r.h5") << "leftover " << e.path();
  expect_clean(r);
}

TEST(CliMpi, FailedImagesAreNamedOnTheConsoleBeforeTheLauncherSpeaks) {
  TempDir d;
  make_set(d / "in", 2);
  for (int k = 0; k < 12; ++k)
    std::ofstream(d / ("in/bad-" + std::to_string(100 + k) + ".png")) << "not a png";
  const auto res = (d / "r.h5").string();
  const ProcResult r = mpirun(2, {"-i", (d / "in").string(), "-r", res, "--repeat", "2"});
  EXPECT_EQ(r.code, 3) << r.err;
  std::size_t lines_failed = 0;
  for (std::size_t p = r.err.find("graybench: failed: "); p != std::string::npos;
       p = r.err.find("graybench: failed: ", p + 1))
    ++lines_failed;
  EXPECT_EQ(lines_failed, 10u) << r.err;  // once per image per job, not per run
  EXPECT_NE(r.err.find("graybench: failed: " + (d / "in/bad-100.png").string() +
                       ": decode_error: decode failed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("graybench: and 2 more \u2014 see " + res), std::string::npos) << r.err;
  const auto launcher = r.err.find("Primary job");
  if (launcher != std::string::npos) {
    EXPECT_LT(r.err.find("graybench: and 2 more"), launcher) << r.err;
  }
  expect_clean(r);
}

TEST(Cli, ConcurrentJobsWithTheLinkLockLoseNothingAndLeaveNoLockFiles) {
  TempDir d;
  make_set(d / "in", 2);
  const auto res = (d / "shared.h5").string();
  std::vector<ProcResult> results(3);
  std::vector<std::thread> jobs;
  for (auto& r : results) {
    jobs.emplace_back([&] {
      r = run_process({GRAYBENCH_EXE, "-i", (d / "in").string(), "-r", res, "--repeat", "3", "-q"},
                      {"GRAYBENCH_LOCK=link"});
    });
  }
  for (auto& j : jobs)
    j.join();
  for (const auto& r : results) {
    EXPECT_EQ(r.code, 0) << r.err;
    expect_clean(r);
  }
  EXPECT_EQ(read_results(res).runs.size(), 9u);
  for (const auto& e : fs::directory_iterator(d.path()))
    EXPECT_TRUE(e.path().filename() == "shared.h5" || e.path().filename() == "in")
        << "leftover " << e.path();
}

}  // namespace
}  // namespace graybench
