#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "timing/records.hpp"

namespace graybench {

/// Rank 0's progress line on a terminal: images done / total, rate and ETA, redrawn in place on
/// stderr. Shown only when enabled, stderr is a TTY and the run has lasted a second; erased at
/// the end. The counter is this rank's own share.
class Progress {
 public:
  Progress(bool enabled, std::string label, const std::atomic<std::uint64_t>* done,
           std::uint64_t total, Clock::time_point start);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// The line for `done` of `total` after `elapsed_s` seconds (exposed for tests).
  static std::string format(const std::string& label, std::uint64_t done, std::uint64_t total,
                            double elapsed_s);

 private:
  void loop();
  std::string label_;
  const std::atomic<std::uint64_t>* done_;
  std::uint64_t total_;
  Clock::time_point start_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

}  // namespace graybench
