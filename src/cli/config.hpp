#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "core/options.hpp"

namespace graybench {

/// How progress is shown (see app/progress.hpp): tty live line, log lines, auto, none.
enum class ProgressMode { kAuto, kTty, kLog, kNone };
inline constexpr std::array<EnumName<ProgressMode>, 4> kProgressModeNames{{
    {ProgressMode::kAuto, "auto", "tty when stderr is a terminal, else log"},
    {ProgressMode::kTty, "tty", "one live line redrawn in place"},
    {ProgressMode::kLog, "log", "plain lines at each 10 % step and at a bounded interval"},
    {ProgressMode::kNone, "none", "no progress"},
}};
constexpr std::span<const EnumName<ProgressMode>> enum_names(ProgressMode) {
  return kProgressModeNames;
}
constexpr std::string_view enum_noun(ProgressMode) {
  return "progress mode";
}

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
  /// warm: inputs as the page cache has them; cold: evicted before every repetition.
  using Cache = graybench::Cache;
  Cache cache = Cache::kWarm;
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
  Decoder decoder = Decoder::kAuto;  ///< --decoder
  int png_level = kPngLevelDefault;  ///< --png-level
  bool quiet = false;
  ProgressMode progress = ProgressMode::kAuto;  ///< kNone with --quiet
  double progress_interval_s = 10;  ///< log mode: most seconds between lines (0: every 10 %)
  std::string command_line;         ///< the invocation, shell-quoted, for the run metadata
};

/// What the command line asks for.
struct ParseResult {
  /// kRepairResults: roll back an interrupted save of config.results, run nothing.
  enum class Action { kRun, kHelp, kVersion, kRepairResults } action = Action::kRun;
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
