#include <gtest/gtest.h>

#include <hdf5.h>
#include <sys/stat.h>

#include <csignal>
#include <cstddef>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/errors.hpp"
#include "h5/results.hpp"
#include "h5/store.hpp"
#include "kernel/checksum.hpp"
#include "support/process.hpp"
#include "support/records.hpp"
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
  for (int i = 0; i < n; ++i)
    run.images.push_back(test::distinct_record<ImageRecord>(i));
  for (int k = 0; k < 2; ++k)
    run.ranks.push_back(test::distinct_record<RankRecord>(k));
  return run;
}

std::vector<InputFile> inputs(int n) {
  std::vector<InputFile> v;
  for (int i = 0; i < n; ++i)
    v.push_back({"/in/img-" + std::to_string(i) + ".png", 100u + i, "ignored"});
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
  for (std::size_t i = 0; i < 5; ++i)
    test::expect_same_fields(run.images[i], expected.images[i]);
  ASSERT_EQ(run.ranks.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    test::expect_same_fields(run.ranks[i], expected.ranks[i]);
  ASSERT_EQ(f.inputs.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    test::expect_same_fields(f.inputs[i], inputs(5)[i], /*stored_only=*/true);
  EXPECT_EQ(f.root.str("checksum_algorithm"), kChecksumAlgorithm);
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

// A graybench/1 file as that version wrote it: status a plain int32, fewer run attributes. Made
// with the HDF5 C API so it does not depend on this build's writer; only a few columns, which
// also shows that columns a file lacks read as defaults.
void write_v1_file(const std::string& path) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const char* schema = "graybench/1";
  const hid_t a = H5Acreate2(file, "schema", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, str, &schema);
  H5Aclose(a);
  struct Row {
    std::uint64_t image;
    const char* path;
    std::int32_t status;
    double t_end;
  };
  const hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(Row));
  H5Tinsert(type, "image", offsetof(Row, image), H5T_NATIVE_UINT64);
  H5Tinsert(type, "path", offsetof(Row, path), str);
  H5Tinsert(type, "status", offsetof(Row, status), H5T_NATIVE_INT32);
  H5Tinsert(type, "t_end", offsetof(Row, t_end), H5T_NATIVE_DOUBLE);
  const Row rows[2] = {{0, "/in/a.png", 0, 0.5}, {1, "/in/b.png", 2, 0.75}};
  const hsize_t n = 2;
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t runs = H5Gcreate2(file, "/runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t run = H5Gcreate2(runs, "run-00001", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t ds = H5Dcreate2(run, "images", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
  const hid_t rtype = H5Tcreate(H5T_COMPOUND, sizeof(std::int32_t));
  H5Tinsert(rtype, "rank", 0, H5T_NATIVE_INT32);
  const std::int32_t rank0 = 0;
  const hsize_t one = 1;
  const hid_t rspace = H5Screate_simple(1, &one, nullptr);
  const hid_t rds = H5Dcreate2(run, "ranks", rtype, rspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(rds, rtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, &rank0);
  for (hid_t id : {rds, ds})
    H5Dclose(id);
  for (hid_t id : {run, runs})
    H5Gclose(id);
  for (hid_t id : {rspace, space, scalar})
    H5Sclose(id);
  for (hid_t id : {rtype, type, str})
    H5Tclose(id);
  H5Fclose(file);
}

TEST(Results, ReadsSchemaVersion1) {
  TempDir d;
  const auto path = (d / "v1.h5").string();
  write_v1_file(path);
  const ResultsFile f = read_results(path);
  EXPECT_EQ(f.root.str("schema"), "graybench/1");
  ASSERT_EQ(f.runs.size(), 1u);
  const auto& images = f.runs[0].images;
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[1].path, "/in/b.png");
  EXPECT_EQ(images[1].status, ImageStatus::kDecodeError);
  EXPECT_DOUBLE_EQ(images[1].t_end, 0.75);
  EXPECT_EQ(images[1].checksum, 0u);  // not in that file: the default
  // This build appends only to files of its own schema.
  EXPECT_THROW(check_results_target(path), UsageError);
}

TEST(Results, StatusIsAnHdf5EnumNamedByTheStatusTable) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  append_runs(path, inputs(2), {sample_run("x", 2)});
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t ds = H5Dopen2(file, "/runs/run-00001/images", H5P_DEFAULT);
  const hid_t type = H5Dget_type(ds);
  const int idx = H5Tget_member_index(type, "status");
  ASSERT_GE(idx, 0);
  const hid_t status = H5Tget_member_type(type, static_cast<unsigned>(idx));
  EXPECT_EQ(H5Tget_class(status), H5T_ENUM);
  EXPECT_EQ(H5Tget_nmembers(status), static_cast<int>(names_of<ImageStatus>().size()));
  for (const auto& entry : names_of<ImageStatus>()) {
    char name[64] = {};
    const auto v = static_cast<std::int32_t>(entry.value);
    ASSERT_GE(H5Tenum_nameof(status, &v, name, sizeof name), 0);
    EXPECT_EQ(std::string(name), entry.name);
  }
  H5Tclose(status);
  H5Tclose(type);
  H5Dclose(ds);
  H5Fclose(file);
}

std::string read_error(const std::string& path) {
  try {
    read_results(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Results, MissingDatasetErrorNamesTheInnermostCause) {
  TempDir d;
  const auto path = (d / "r.h5").string();
  append_runs(path, inputs(1), {sample_run("x", 1)});
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Ldelete(file, "/runs/run-00001/images", H5P_DEFAULT), 0);
  H5Fclose(file);
  const std::string msg = read_error(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("open dataset images"), std::string::npos) << msg;
  EXPECT_NE(msg.find("doesn't exist"), std::string::npos) << msg;
}

TEST(Results, NotHdf5ErrorNamesTheCause) {
  TempDir d;
  const auto path = (d / "text.h5").string();
  std::ofstream(path) << "just text, no HDF5 signature\n";
  const std::string msg = read_error(path);
  EXPECT_NE(msg.find("open the file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("signature"), std::string::npos) << msg;
}

}  // namespace
}  // namespace graybench
