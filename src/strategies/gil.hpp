#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace graybench {

/// An emulation of CPython's Global Interpreter Lock, covering exactly the grayscale kernel
/// (not read, decode, encode or write: those stand for C code and I/O that release the GIL).
/// A thread must hold it to run the kernel. The holder checks between slices of pixels; once it
/// has held the lock for the switch interval and another thread is waiting, it hands the lock
/// over and waits its turn again (CPython >= 3.2's forced switching). One Gil per process:
/// threads of one rank serialise on it, separate processes do not.
class Gil {
 public:
  explicit Gil(std::chrono::nanoseconds interval) : interval_(interval) {}

  void acquire();
  void release();
  /// Called by the holder between slices of work.
  void maybe_yield();
  /// How many times the lock was handed from one thread to another.
  std::uint64_t switches() const;

 private:
  const std::chrono::nanoseconds interval_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool held_ = false;
  bool handoff_ = false;  // the last holder yielded: it may not take the lock back first
  std::thread::id last_holder_;
  int waiting_ = 0;
  std::uint64_t switches_ = 0;
  std::chrono::steady_clock::time_point acquired_at_;
};

/// Holds the GIL for a scope (no-op for a null Gil).
class GilSection {
 public:
  explicit GilSection(Gil* gil) : gil_(gil) {
    if (gil_) gil_->acquire();
  }
  ~GilSection() {
    if (gil_) gil_->release();
  }
  GilSection(const GilSection&) = delete;
  GilSection& operator=(const GilSection&) = delete;

 private:
  Gil* gil_;
};

}  // namespace graybench
