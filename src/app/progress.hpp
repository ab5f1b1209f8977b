#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "cli/config.hpp"
#include "timing/records.hpp"

namespace graybench {

/// What one run's progress reports on. ProgressMode (cli/config.hpp): `tty` redraws one live
/// line in place, `log` prints plain lines at a bounded interval (mpirun, Slurm logs, pipes),
/// `auto` is tty when the stream is a terminal and log otherwise, `none` prints nothing.
struct ProgressSpec {
  ProgressMode mode = ProgressMode::kAuto;
  std::string program = "graybench";  ///< prefix of log lines
  std::string label;                  ///< e.g. "threads w=2 #0"
  int run = 1;                        ///< 1-based index of this run in the sweep
  int runs = 1;                       ///< measured runs in the sweep; 0: not a sweep (no "run k/n")
  std::uint64_t total = 0;            ///< images of the run, all ranks together
  std::uint64_t share = 0;            ///< rank 0's share of them; 0 when unknown (dynamic)
  int ranks = 1;                      ///< MPI ranks
  double log_interval_s = 10;  ///< log mode: at most this long between lines; 0: every 10 % step
                               ///< and a last line at the end of the run
};

/// Rank 0's progress of one run, on stderr. Images done across all ranks are *estimated* from
/// rank 0's own counter, without any MPI traffic (only the main thread calls MPI): scaled by
/// total/share when rank 0's share is known, by the rank count under dynamic distribution.
/// The line marks the estimate with "~" when there is more than one rank.
class Progress {
 public:
  Progress(ProgressSpec spec, const std::atomic<std::uint64_t>* done, Clock::time_point start,
           std::FILE* out = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Images done by all ranks, estimated from rank 0's `done` (never above `total`).
  static std::uint64_t estimate_all(std::uint64_t done, std::uint64_t share, std::uint64_t total,
                                    int ranks);
  /// The line for rank 0 having done `done` images after `elapsed_s` seconds.
  static std::string format(const ProgressSpec& spec, std::uint64_t done, double elapsed_s);
  /// Log mode: whether to print now, given the time and 10 % step of the last line printed
  /// (`last_s` < 0 and `last_step` < 0 before the first line).
  static bool log_due(const ProgressSpec& spec, double elapsed_s, double last_s, int step,
                      int last_step);
  /// The mode in effect: auto resolved against whether `out` is a terminal.
  static ProgressMode resolve(ProgressMode mode, std::FILE* out);

 private:
  void loop();
  ProgressSpec spec_;
  const std::atomic<std::uint64_t>* done_;
  Clock::time_point start_;
  std::FILE* out_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

}  // namespace graybench
