#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/errors.hpp"
#include "h5/results.hpp"
#include "h5/store.hpp"
#include "support/process.hpp"
#include "timing/metadata.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;
using test::slurp;
using test::TempDir;

RunResult sample_run(const std::string& strategy, int n) {
  RunResult run;
  run.attrs.set("strategy", strategy);
  run.attrs.set("workers", std::int64_t{2});
  run.attrs.set("wall_s", 1.25);
  run.attrs.set("status", std::string("complete"));
  for (int i = 0; i < n; ++i) {
    ImageRecord r;
    r.image = static_cast<std::uint64_t>(i);
    r.path = "/in/img-" + std::to_string(i) + ".png";
    r.rank = i % 2;
    r.worker = i % 3;
    r.width = 10u + i;
    r.height = 20;
    r.channels = 3;
    r.bit_depth = 8;
    r.bytes_in = 100u + i;
    r.bytes_out = 50;
    r.status = i == 1 ? 2 : 0;
    r.error = i == 1 ? "decode failed: corrupt" : "";
    r.checksum = 0xFFFFFFFFFFFFFFF0ull + static_cast<std::uint64_t>(i);
    r.t_start = i;
    r.t_end = i + 0.5;
    r.read_s = 0.1;
    r.decode_s = 0.2;
    r.convert_s = 0.3;
    r.encode_s = 0.4;
    r.write_s = 0.5;
    r.queue_wait_s = 0.6;
    r.ipc_s = 0.7;
    r.ipc_bytes = 8;
    run.images.push_back(r);
  }
  for (int k = 0; k < 2; ++k) {
    RankRecord rr;
    rr.rank = k;
    rr.host = "node" + std::to_string(k);
    rr.n_images = 3;
    rr.wall_s = 1.0 + k;
    rr.compute_s = 0.9;
    rr.user_s = 0.5;
    rr.sys_s = 0.1;
    rr.max_rss_kb = 12345;
    rr.cpus = "0-3";
    rr.worker_cpus = "0:0;1:1";
    run.ranks.push_back(rr);
  }
  return run;
}

std::vector<InputFile> inputs(int n) {
  std::vector<InputFile> v;
  for (int i = 0; i < n; ++i)
    v.push_back({"/in/img-" + std::to_string(i) + ".png", 100u + i, ""});
  return v;
}

TEST(Results, RoundTripEveryField) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  const auto names = append_runs(path, inputs(5), {sample_run("sequential", 5)});
  ASSERT_EQ(names, std::vector<std::string>{"run-00001"});
  const ResultsFile f = read_results(path);
  EXPECT_EQ(f.root.str("schema"), kSchema);
  ASSERT_EQ(f.runs.size(), 1u);
  const RunResult& run = f.runs[0];
  EXPECT_EQ(run.attrs.str("strategy"), "sequential");
  EXPECT_EQ(run.attrs.integer("workers"), 2);
  EXPECT_DOUBLE_EQ(run.attrs.real("wall_s"), 1.25);
  EXPECT_EQ(run.attrs.str("inputs").rfind("/input_sets/", 0), 0u);
  const RunResult expected = sample_run("sequential", 5);
  ASSERT_EQ(run.images.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto &a = run.images[i], &e = expected.images[i];
    EXPECT_EQ(a.image, e.image);
    EXPECT_EQ(a.path, e.path);
    EXPECT_EQ(a.rank, e.rank);
    EXPECT_EQ(a.worker, e.worker);
    EXPECT_EQ(a.width, e.width);
    EXPECT_EQ(a.bit_depth, e.bit_depth);
    EXPECT_EQ(a.bytes_in, e.bytes_in);
    EXPECT_EQ(a.status, e.status);
    EXPECT_EQ(a.error, e.error);
    EXPECT_EQ(a.checksum, e.checksum);
    EXPECT_DOUBLE_EQ(a.t_end, e.t_end);
    EXPECT_DOUBLE_EQ(a.write_s, e.write_s);
    EXPECT_DOUBLE_EQ(a.queue_wait_s, e.queue_wait_s);
    EXPECT_EQ(a.ipc_bytes, e.ipc_bytes);
  }
  ASSERT_EQ(run.ranks.size(), 2u);
  EXPECT_EQ(run.ranks[1].host, "node1");
  EXPECT_EQ(run.ranks[1].max_rss_kb, 12345);
  EXPECT_EQ(run.ranks[1].worker_cpus, "0:0;1:1");
  ASSERT_EQ(f.inputs.size(), 5u);
  EXPECT_EQ(f.inputs[4].size, 104u);
}

TEST(Results, AppendingAddsRunsAndKeepsOldOnes) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  append_runs(path, inputs(3), {sample_run("sequential", 3)});
  const auto names = append_runs(path, inputs(3), {sample_run("a", 3), sample_run("b", 3)});
  EXPECT_EQ(names, (std::vector<std::string>{"run-00002", "run-00003"}));
  // A different input list is stored beside the first; /inputs stays the first.
  append_runs(path, inputs(4), {sample_run("c", 4)});
  const ResultsFile f = read_results(path);
  EXPECT_EQ(f.run_names,
            (std::vector<std::string>{"run-00001", "run-00002", "run-00003", "run-00004"}));
  EXPECT_EQ(f.runs[0].attrs.str("strategy"), "sequential");
  EXPECT_EQ(f.runs[2].attrs.str("strategy"), "b");
  EXPECT_EQ(f.inputs.size(), 3u);
  EXPECT_NE(f.runs[3].attrs.str("inputs"), f.runs[0].attrs.str("inputs"));
}

TEST(Results, InterruptedWriteLeavesFileIntact) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  append_runs(path, inputs(3), {sample_run("first", 3)});
  const std::string before = slurp(path);
  EXPECT_THROW(append_runs(path, inputs(3), {sample_run("second", 3)},
                           [] { throw std::runtime_error("simulated crash"); }),
               std::runtime_error);
  EXPECT_EQ(slurp(path), before);
  for (const auto& e : fs::directory_iterator(d.path())) {
    const auto name = e.path().filename().string();
    EXPECT_EQ(name, "r.h5") << "leftover " << e.path();
  }
  const ResultsFile f = read_results(path);
  ASSERT_EQ(f.runs.size(), 1u);
  EXPECT_EQ(f.runs[0].attrs.str("strategy"), "first");
}

TEST(Results, FailedFirstWriteCreatesNothing) {
  TempDir d;
  const auto path = (d / "new.h5").string();
  EXPECT_THROW(
      append_runs(path, inputs(1), {sample_run("x", 1)}, [] { throw std::runtime_error("boom"); }),
      std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
}

TEST(Results, AppendsThroughASymlinkToTheFileItNames) {
  TempDir d;
  fs::create_directories(d / "real");
  const auto real = (d / "real/r.h5").string();
  append_runs(real, inputs(1), {sample_run("first", 1)});
  fs::create_symlink(real, d / "link.h5");
  append_runs((d / "link.h5").string(), inputs(1), {sample_run("second", 1)});
  EXPECT_TRUE(fs::is_symlink(d / "link.h5"));
  EXPECT_EQ(read_results(real).runs.size(), 2u);
}

TEST(Results, ConcurrentWritersTakeTurns) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  std::vector<std::thread> writers;
  // Separate processes in real use; threads here share the lock path, which is what matters.
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int k = 0; k < 5; ++k)
        append_runs(path, inputs(2), {sample_run("w" + std::to_string(t), 2)});
    });
  }
  for (auto& w : writers)
    w.join();
  EXPECT_EQ(read_results(path).runs.size(), 20u);
}

TEST(Results, TargetChecks) {
  TempDir d;
  EXPECT_NO_THROW(check_results_target((d / "new.h5").string()));
  std::ofstream(d / "text.h5") << "not hdf5";
  EXPECT_THROW(check_results_target((d / "text.h5").string()), UsageError);
  EXPECT_THROW(check_results_target((d / "nodir/x.h5").string()), UsageError);
  EXPECT_THROW(check_results_target(d.path().string()), UsageError);
  const auto ok = (d / "ok.h5").string();
  append_runs(ok, inputs(1), {sample_run("x", 1)});
  EXPECT_NO_THROW(check_results_target(ok));
}

// Row i of crash-test run K holds checksum K * 1'000'000'007 + i (support/save_child.cpp).
constexpr std::uint64_t kStride = 1'000'000'007ull;

/// Every run of a crash-test file intact, numbered 0..n-1 in order; returns n.
std::size_t verify_crash_file(const std::string& path, std::size_t rows) {
  const ResultsFile f = read_results(path);
  for (std::size_t k = 0; k < f.runs.size(); ++k) {
    const RunResult& run = f.runs[k];
    EXPECT_EQ(run.attrs.integer("sequence"), static_cast<std::int64_t>(k)) << f.run_names[k];
    EXPECT_EQ(run.images.size(), rows) << f.run_names[k];
    std::size_t bad = 0;
    for (std::size_t i = 0; i < run.images.size(); ++i)
      bad += run.images[i].checksum != k * kStride + i;
    EXPECT_EQ(bad, 0u) << f.run_names[k];
  }
  return f.runs.size();
}

/// The same check by h5py, an independent reader; "" if it agrees, else its complaint.
std::string h5py_check(const std::string& path, std::size_t runs) {
  const std::string script = R"(
import sys, h5py, numpy as np
path, want = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    names = sorted(f["runs"])
    assert len(names) == want, f"{len(names)} runs, expected {want}"
    for k, name in enumerate(names):
        g = f["runs"][name]
        assert int(g.attrs["sequence"]) == k, name
        c = g["images"]["checksum"].astype(np.uint64)
        expect = np.uint64(k) * np.uint64(1000000007) + np.arange(len(c), dtype=np.uint64)
        assert (c == expect).all(), name
)";
  const test::ProcResult r =
      test::run_process({"/usr/bin/python3", "-c", script, path, std::to_string(runs)});
  return r.code == 0 ? "" : r.err;
}

// A writer is SIGKILLed at random moments while it appends large runs; after each kill every run
// it had finished must read back intact, with graybench's reader and with h5py, once the next
// graybench (here its pre-run check) has rolled the interrupted save back.
TEST(Results, SigkillAtRandomPointsOfLargeSavesNeverDamagesEarlierRuns) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  constexpr std::size_t kRows = 20000;
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::size_t in_file = 0;
  int journal_left = 0, h5py_failed_before_rollback = 0;
  for (int round = 0; round < 8; ++round) {
    test::Child writer(
        {GRAYBENCH_SAVE_CHILD, path, std::to_string(kRows), std::to_string(in_file), "1000"});
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
    writer.signal(SIGKILL);
    const test::ProcResult r = writer.wait();
    std::size_t saved = 0;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
      saved += line.rfind("saved ", 0) == 0;
    if (!fs::exists(path)) {
      ASSERT_EQ(saved, 0u);
      continue;
    }
    if (fs::exists(path + ".journal")) {
      ++journal_left;
      h5py_failed_before_rollback += !h5py_check(path, in_file + saved).empty();
    }
    check_results_target(path);  // what every graybench run does first: rolls back
    if (!fs::exists(path)) {     // killed inside the save that created the file
      ASSERT_EQ(in_file + saved, 0u);
      continue;
    }
    EXPECT_FALSE(fs::exists(path + ".journal"));
    EXPECT_FALSE(fs::exists(path + ".lock"));
    const std::size_t now = verify_crash_file(path, kRows);
    // Finished runs are all there; a run killed after its commit but before it said so may be.
    EXPECT_GE(now, in_file + saved);
    EXPECT_LE(now, in_file + saved + 1);
    in_file = now;
  }
  EXPECT_EQ(h5py_check(path, in_file), "");
  std::cout << "crash test: " << in_file << " runs kept over 8 kills; " << journal_left
            << " kills landed inside a save (" << h5py_failed_before_rollback
            << " of them left a file h5py could not read until rolled back)\n";
}

TEST(Results, OwnerModeAndSymlinkTargetSurviveAnAppend) {
  TempDir d;
  const auto real = d / "real/r.h5";
  fs::create_directories(real.parent_path());
  fs::create_symlink(real, d / "link.h5");  // dangling: the target is created where it points
  append_runs((d / "link.h5").string(), inputs(1), {sample_run("first", 1)});
  EXPECT_TRUE(fs::is_symlink(d / "link.h5"));
  ASSERT_TRUE(fs::is_regular_file(real));
  ::chmod(real.c_str(), 0640);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(real.c_str(), 65534, 65534), 0);
  }
  struct stat before {};
  ::stat(real.c_str(), &before);
  append_runs((d / "link.h5").string(), inputs(1), {sample_run("second", 1)});
  struct stat after {};
  ::stat(real.c_str(), &after);
  EXPECT_EQ(after.st_ino, before.st_ino);  // the same file, not a replacement
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(read_results(real.string()).runs.size(), 2u);
}

TEST(Results, LinkLockWorksAndBreaksALockLeftByADeadProcess) {
  TempDir d;
  const auto path = d / "r.h5";
  ::setenv("GRAYBENCH_LOCK", "link", 1);
  // A lock left by a process of this host that no longer exists.
  std::ofstream(d / "r.h5.lock") << hostname() << " 999999999";
  append_runs(path.string(), inputs(1), {sample_run("a", 1)});
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&] {
      for (int k = 0; k < 3; ++k)
        append_runs(path.string(), inputs(1), {sample_run("b", 1)});
    });
  }
  for (auto& w : writers)
    w.join();
  ::unsetenv("GRAYBENCH_LOCK");
  EXPECT_EQ(read_results(path.string()).runs.size(), 10u);
  for (const auto& e : fs::directory_iterator(d.path()))
    EXPECT_EQ(e.path().filename(), "r.h5") << "leftover " << e.path();
}

TEST(Results, LockFilesAreRemovedAndForeignOnesLeftAlone) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  append_runs(path, inputs(1), {sample_run("a", 1)});
  EXPECT_FALSE(fs::exists(path + ".lock"));
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a lock file of another user";
  std::ofstream(path + ".lock") << "";
  ASSERT_EQ(::chown((path + ".lock").c_str(), 65534, 65534), 0);
  append_runs(path, inputs(1), {sample_run("b", 1)});
  EXPECT_TRUE(fs::exists(path + ".lock"));  // not ours: not removed
  EXPECT_EQ(read_results(path).runs.size(), 2u);
}

}  // namespace
}  // namespace graybench
