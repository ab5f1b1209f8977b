#include "strategies/gil.hpp"

namespace graybench {

void Gil::acquire() {
  const auto me = std::this_thread::get_id();
  std::unique_lock lk(m_);
  ++waiting_;
  cv_.wait(lk, [&] { return !held_ && !(handoff_ && last_holder_ == me && waiting_ > 1); });
  --waiting_;
  if (handoff_ && last_holder_ != me) ++switches_;
  held_ = true;
  handoff_ = false;
  acquired_at_ = std::chrono::steady_clock::now();
}

void Gil::release() {
  {
    std::lock_guard lk(m_);
    held_ = false;
    last_holder_ = std::this_thread::get_id();
  }
  cv_.notify_all();
}

void Gil::maybe_yield() {
  if (std::chrono::steady_clock::now() - acquired_at_ < interval_) return;
  {
    std::lock_guard lk(m_);
    if (waiting_ == 0) {
      acquired_at_ = std::chrono::steady_clock::now();
      return;
    }
    held_ = false;
    handoff_ = true;
    last_holder_ = std::this_thread::get_id();
  }
  cv_.notify_all();
  acquire();
}

std::uint64_t Gil::switches() const {
  std::lock_guard lk(m_);
  return switches_;
}

}  // namespace graybench
