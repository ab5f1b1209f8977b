#pragma once

#include <filesystem>
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

}  // namespace graybench::test
