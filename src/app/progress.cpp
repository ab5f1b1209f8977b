#include "app/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace graybench {

Progress::Progress(bool enabled, std::string label, const std::atomic<std::uint64_t>* done,
                   std::uint64_t total, Clock::time_point start)
    : label_(std::move(label)), done_(done), total_(total), start_(start) {
  if (enabled && ::isatty(STDERR_FILENO)) thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lk(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string Progress::format(const std::string& label, std::uint64_t done, std::uint64_t total,
                             double elapsed_s) {
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  char eta[32] = "?";
  if (rate > 0 && total >= done) std::snprintf(eta, sizeof eta, "%.0f s", (total - done) / rate);
  char line[256];
  if (total == 0) {  // dynamic distribution: this rank's share is not known in advance
    std::snprintf(line, sizeof line, "%s: %llu images done (rank 0), %.1f images/s", label.c_str(),
                  static_cast<unsigned long long>(done), rate);
  } else {
    std::snprintf(line, sizeof line, "%s: %llu/%llu images (rank 0), %.1f images/s, ETA %s",
                  label.c_str(), static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total), rate, eta);
  }
  return line;
}

void Progress::loop() {
  std::unique_lock lk(m_);
  while (!cv_.wait_for(lk, std::chrono::milliseconds(250), [this] { return stop_; })) {
    const double elapsed = seconds_between(start_, Clock::now());
    if (elapsed < 1.0) continue;
    const auto line = format(label_, done_->load(std::memory_order_relaxed), total_, elapsed);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace graybench
