// `graybench --repair-results FILE` through the real binary, on files left as a save killed
// half-way leaves them (docs/schema.md "Crash safety").
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <optional>

#include "h5/results.hpp"
#include "h5/store.hpp"
#include "io/generator.hpp"
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

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// The journal's format (src/h5/store.cpp), written independently here.
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string u64(std::uint64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

std::string journal_header(std::uint64_t base, bool created) {
  const std::string head = std::string("graybench-jrnl1\n") + u64(base) + u64(created ? 1 : 0);
  return head + u64(fnv1a(head));
}

std::string journal_record(std::uint64_t offset, const std::string& bytes) {
  const std::string head = u64(offset) + u64(bytes.size()) + bytes;
  return head + u64(fnv1a(head));
}

/// r.h5 and r.h5.journal as a save killed after it had overwritten half of what it changes in
/// place leaves them: `committed` holds one run, the save appended more.
struct Interrupted {
  TempDir dir;
  fs::path path = dir / "r.h5";
  std::string committed;

  Interrupted() {
    GenOptions o;
    o.count = 3;
    o.seed = 5;
    o.sizes = {{48, 32}, {31, 17}};
    generate_dataset(dir / "in", o);
    const std::string in = (dir / "in").string();
    EXPECT_EQ(graybench({"-i", in, "-r", path.string(), "-q"}).code, 0);
    committed = slurp(path);
    EXPECT_EQ(graybench({"-i", in, "-r", path.string(), "-q", "--repeat", "2"}).code, 0);
    std::string state = slurp(path);
    std::vector<std::pair<std::size_t, std::size_t>> changed;  // [lo, hi) within the old size
    for (std::size_t i = 0; i < committed.size(); ++i) {
      if (state[i] == committed[i]) continue;
      if (!changed.empty() && changed.back().second == i) {
        ++changed.back().second;
      } else {
        changed.emplace_back(i, i + 1);
      }
    }
    EXPECT_FALSE(changed.empty());
    std::string journal = journal_header(committed.size(), false);
    for (std::size_t k = 0; k < changed.size(); ++k) {
      const auto [lo, hi] = changed[k];
      if (k <= changed.size() / 2) journal += journal_record(lo, committed.substr(lo, hi - lo));
      if (k > changed.size() / 2) state.replace(lo, hi - lo, committed, lo, hi - lo);
    }
    spit(path, state);
    spit(journal_path(), journal);
  }
  fs::path journal_path() const { return fs::path(path.string() + ".journal"); }
};

TEST(RepairResults, RollsBackAnInterruptedSaveToTheCommittedFileByteForByte) {
  Interrupted s;
  const ProcResult r = graybench({"--repair-results", s.path.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("repaired " + s.path.string() + ": rolled back an interrupted save"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(slurp(s.path), s.committed);
  EXPECT_FALSE(fs::exists(s.journal_path()));
  EXPECT_FALSE(fs::exists(s.path.string() + ".lock"));
  EXPECT_EQ(read_results(s.path.string()).run_names, std::vector<std::string>{"run-00001"});

  const ProcResult again = graybench({"--repair-results", s.path.string()});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to repair"), std::string::npos) << again.out;
  EXPECT_EQ(slurp(s.path), s.committed);
}

TEST(RepairResults, AJournalOfASaveCreatingTheFileRemovesBoth) {
  Interrupted s;
  spit(s.journal_path(), journal_header(0, true));
  const ProcResult r = graybench({"--repair-results", s.path.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("held no committed run"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(s.path));
  EXPECT_FALSE(fs::exists(s.journal_path()));
}

TEST(RepairResults, ATornJournalHeaderMeansNothingChangedAndOnlyTheJournalGoes) {
  Interrupted s;
  spit(s.path, s.committed);
  spit(s.journal_path(), journal_header(s.committed.size(), false).substr(0, 20));
  const ProcResult r = graybench({"--repair-results", s.path.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("interrupted before it changed anything"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(s.path), s.committed);
  EXPECT_FALSE(fs::exists(s.journal_path()));
}

TEST(RepairResults, WaitsForASaveInProgressThenFindsItsOutcome) {
  Interrupted s;
  std::optional<ResultsLock> writer(std::in_place, s.path);  // a save in progress holds it
  // stderr joined to stdout, so the wait notice can be waited for.
  test::Child repair({"/bin/sh", "-c", "exec \"$0\" --repair-results \"$1\" 2>&1", GRAYBENCH_EXE,
                      s.path.string()});
  ASSERT_TRUE(repair.wait_for_stdout("waiting for the lock", std::chrono::seconds(120)));
  EXPECT_TRUE(fs::exists(s.journal_path()));  // nothing done while the save holds the lock
  writer.reset();
  const ProcResult r = repair.wait();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("rolled back an interrupted save"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(s.path), s.committed);
}

TEST(RepairResults, UsageErrorsExitTwoWithOneLine) {
  TempDir d;
  std::ofstream(d / "r.h5") << "x";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--repair-results"}, "the required argument for option '--repair-results' is missing"},
      {{"--repair-results", (d / "missing.h5").string()}, "no such file"},
      {{"--repair-results", ""}, "empty file name"},
      {{"--repair-results", d.path().string()}, "is a directory"},
      {{"--repair-results", (d / "r.h5").string(), "--input", d.path().string()},
       "takes no other option (got --input)"},
      {{"--repair-results", (d / "r.h5").string(), "--results", (d / "r.h5").string()},
       "takes no other option (got --results)"},
  };
  for (const auto& [args, message] : cases) {
    const ProcResult r = graybench(args);
    EXPECT_EQ(r.code, 2) << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(slurp(d / "r.h5"), "x");
}

TEST(RepairResults, IsListedInHelp) {
  const ProcResult r = graybench({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("graybench --repair-results FILE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--repair-results FILE"), std::string::npos);
}

}  // namespace
}  // namespace graybench
