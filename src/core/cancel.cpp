#include "core/cancel.hpp"

#include <csignal>

#include <atomic>

#include "core/posix.hpp"

namespace graybench {

namespace {
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free, "request_stop must be signal-safe");
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler must be signal-safe");

extern "C" void on_stop_signal(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
  g_stop.store(true, std::memory_order_relaxed);
}
}  // namespace

bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}

void request_stop() {
  g_stop.store(true, std::memory_order_relaxed);
}

void clear_stop() {
  g_stop.store(false, std::memory_order_relaxed);
  g_signal.store(0, std::memory_order_relaxed);
}

int stop_signal() {
  return g_signal.load(std::memory_order_relaxed);
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  if (sigemptyset(&sa.sa_mask) != 0) throw_errno("sigemptyset");
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGTERM, &sa, nullptr) != 0) throw_errno("sigaction(SIGTERM)");
  if (sigaction(SIGINT, &sa, nullptr) != 0) throw_errno("sigaction(SIGINT)");
}

}  // namespace graybench
