#include "common/cancel.hpp"

#include <atomic>

namespace graybench {

namespace {
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "request_stop must be signal-safe");
}  // namespace

bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}
void request_stop() {
  g_stop.store(true, std::memory_order_relaxed);
}
void clear_stop() {
  g_stop.store(false, std::memory_order_relaxed);
}

}  // namespace graybench
