#include "app/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace graybench {

namespace {

/// Progress appears only once a run has lasted this long: short runs stay quiet.
constexpr double kFirstLineAfterS = 1.0;

int step_of(std::uint64_t done, std::uint64_t total) {
  return total == 0 ? 0 : static_cast<int>(10 * std::min(done, total) / total);
}

}  // namespace

ProgressMode Progress::resolve(ProgressMode mode, std::FILE* out) {
  if (mode != ProgressMode::kAuto) return mode;
  return ::isatty(::fileno(out)) ? ProgressMode::kTty : ProgressMode::kLog;
}

Progress::Progress(ProgressSpec spec, const std::atomic<std::uint64_t>* done,
                   Clock::time_point start, std::FILE* out)
    : spec_(std::move(spec)), done_(done), start_(start), out_(out) {
  spec_.mode = resolve(spec_.mode, out_);
  if (spec_.mode != ProgressMode::kNone) thread_ = std::thread([this] { loop(); });
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

std::uint64_t Progress::estimate_all(std::uint64_t done, std::uint64_t share, std::uint64_t total,
                                     int ranks) {
  if (ranks <= 1) return std::min(done, total);
  double all = 0;
  if (share > 0) {
    all = static_cast<double>(done) * static_cast<double>(total) / static_cast<double>(share);
  } else {  // dynamic: every rank takes work at about rank 0's pace
    all = static_cast<double>(done) * ranks;
  }
  return std::min<std::uint64_t>(total, static_cast<std::uint64_t>(std::llround(all)));
}

std::string Progress::format(const ProgressSpec& spec, std::uint64_t done, double elapsed_s) {
  const std::uint64_t all = estimate_all(done, spec.share, spec.total, spec.ranks);
  const double rate = elapsed_s > 0 ? static_cast<double>(all) / elapsed_s : 0.0;
  const double pct = spec.total ? 100.0 * static_cast<double>(all) / spec.total : 0.0;
  char eta[32] = "?";
  if (rate > 0) std::snprintf(eta, sizeof eta, "%.0f s", (spec.total - all) / rate);
  const char* approx = spec.ranks > 1 ? "~" : "";
  char run[48] = "";
  if (spec.runs > 0) std::snprintf(run, sizeof run, "run %d/%d ", spec.run, spec.runs);
  char line[320];
  std::snprintf(line, sizeof line, "%s%s: %s%llu/%llu images (%.0f%%), %s%.1f images/s, ETA %s",
                run, spec.label.c_str(), approx, static_cast<unsigned long long>(all),
                static_cast<unsigned long long>(spec.total), pct, approx, rate, eta);
  return line;
}

bool Progress::log_due(const ProgressSpec& spec, double elapsed_s, double last_s, int step,
                       int last_step) {
  if (spec.log_interval_s <= 0) return step > last_step;
  if (elapsed_s < kFirstLineAfterS) return false;
  if (last_s < 0) return true;
  return step > last_step || elapsed_s - last_s >= spec.log_interval_s;
}

void Progress::loop() {
  const bool tty = spec_.mode == ProgressMode::kTty;
  double last_s = -1;
  int last_step = -1;
  std::unique_lock lk(m_);
  auto tick = [&](bool final) {
    const double elapsed = seconds_between(start_, Clock::now());
    const auto done = done_->load(std::memory_order_relaxed);
    if (tty) {
      if (elapsed < kFirstLineAfterS) return;
      std::fprintf(out_, "\r\033[K%s", format(spec_, done, elapsed).c_str());
      std::fflush(out_);
      drawn_ = true;
      return;
    }
    const int step =
        step_of(estimate_all(done, spec_.share, spec_.total, spec_.ranks), spec_.total);
    // A run that printed lines closes with its last count; with interval 0 every run does.
    const bool due = final ? (spec_.log_interval_s <= 0 || last_s >= 0) && step > last_step
                           : log_due(spec_, elapsed, last_s, step, last_step);
    if (due) {
      std::fprintf(out_, "%s: %s\n", spec_.program.c_str(), format(spec_, done, elapsed).c_str());
      std::fflush(out_);
      last_s = elapsed;
      last_step = step;
    }
  };
  while (!cv_.wait_for(lk, std::chrono::milliseconds(250), [this] { return stop_; }))
    tick(false);
  if (tty) {
    if (drawn_) {
      std::fprintf(out_, "\r\033[K");
      std::fflush(out_);
    }
  } else {
    tick(true);
  }
}

}  // namespace graybench
