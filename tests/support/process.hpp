#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace graybench::test {

/// Exit status and captured output of a child process.
struct ProcResult {
  int code = -1;  ///< exit code, or 128 + signal
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] is a path) with extra `env` entries ("NAME=value"), waits for it and
/// captures stdout and stderr.
ProcResult run_process(const std::vector<std::string>& argv,
                       const std::vector<std::string>& env = {});

/// As run_process, but gives up after `limit`: the child's whole process group (it runs in its
/// own, so mpirun's ranks and their workers go too) is killed and nullopt returned.
std::optional<ProcResult> run_process_within(std::chrono::milliseconds limit,
                                             const std::vector<std::string>& argv,
                                             const std::vector<std::string>& env = {});

class TempDir;

/// A child process running in the background, its output captured to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void signal(int sig) const;
  /// Waits for the exit and returns the status and output.
  ProcResult wait();
  /// Waits at most `limit` for the exit; on timeout kills the child's process group (then
  /// reaps it) and returns nullopt.
  std::optional<ProcResult> wait_within(std::chrono::milliseconds limit);
  /// A readiness signal: waits until the child's stdout contains `text` (true), or it exits or
  /// `limit` passes first (false).
  bool wait_for_stdout(const std::string& text, std::chrono::milliseconds limit);

 private:
  std::filesystem::path io_;
  int pid_ = -1;
};

/// A fresh temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

/// Reads a whole file as bytes.
std::string slurp(const std::filesystem::path& p);

/// How many times `what` occurs in `text` (overlapping occurrences counted).
int count_of(const std::string& text, const std::string& what);

/// The CLI tests' small seeded image set: `count` images of 48x32 and 31x17 in `dir`.
void make_small_set(const std::filesystem::path& dir, int count, std::uint64_t seed = 1);

}  // namespace graybench::test
