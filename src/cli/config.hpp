#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/options.hpp"

namespace graybench {

/// The job's settings, from the command line.
struct Config {
  std::vector<std::string> inputs;
  std::vector<std::string> lists;
  std::optional<std::string> output_dir;
  std::string results = "graybench.h5";
  std::vector<Strategy> strategies = {Strategy::kSequential};
  std::vector<int> workers = {1};
  std::string workers_source = "default";  ///< where the worker list came from
  /// files: read+decode inside the timed work; memory: files loaded before the timed region.
  using Mode = graybench::Mode;
  Mode mode = Mode::kFiles;
  int kernel_repeat = 1;
  std::uint64_t max_pixels = std::uint64_t{1} << 28;  ///< larger images fail (--max-pixels)
  bool gil = false;
  double gil_interval_ms = 5.0;
  OmpSchedule omp;
  Ipc ipc = Ipc::kPipe;
  int repeat = 1;
  int warmup = 0;
  Distribution distribution = Distribution::kBlock;
  int chunk = 1;  ///< images per request under the dynamic distribution
  CounterKind dynamic_counter = CounterKind::kAuto;
  bool quiet = false;
  std::string command_line;  ///< the invocation, shell-quoted, for the run metadata
};

/// What the command line asks for.
struct ParseResult {
  enum class Action { kRun, kHelp, kVersion } action = Action::kRun;
  Config config;
  std::string text;  ///< help or version text to print
};

/// Parses `args` (args[0] is the program name). Throws UsageError with one clear line.
/// `env` looks up environment variables (the default worker count comes from
/// SLURM_CPUS_PER_TASK, then OMP_NUM_THREADS, then 1).
ParseResult parse_command_line(const std::vector<std::string>& args,
                               const std::function<const char*(const char*)>& env = std::getenv);

/// Quotes `args` for a POSIX shell and joins them with spaces.
std::string shell_join(const std::vector<std::string>& args);

}  // namespace graybench
