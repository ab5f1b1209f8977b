#include "core/fault_injection.hpp"

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace graybench {

namespace {
/// Events left before the failure; negative: disarmed. Atomic: worker threads count concurrently.
std::atomic<std::int64_t> g_left{-1};
std::atomic<TestFailureSite> g_site{TestFailureSite::kImage};

bool parse_int(const char* text, std::int64_t& out) {
  if (text == nullptr) return false;
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}
}  // namespace

void arm_test_failure_from_environment(int rank) {
  std::int64_t fail_rank = 0;
  std::int64_t after = 0;
  if (!parse_int(std::getenv("GRAYBENCH_TEST_FAIL_RANK"), fail_rank) || fail_rank != rank) return;
  if (!parse_int(std::getenv("GRAYBENCH_TEST_FAIL_AFTER"), after) || after < 0) after = 0;
  const char* in = std::getenv("GRAYBENCH_TEST_FAIL_IN");
  const bool feed = in != nullptr && std::string_view(in) == "feed";
  arm_test_failure(feed ? TestFailureSite::kFeed : TestFailureSite::kImage, after);
}

void arm_test_failure(TestFailureSite site, std::int64_t after) {
  g_site.store(site, std::memory_order_relaxed);
  g_left.store(after, std::memory_order_relaxed);
}

void disarm_test_failure() {
  g_left.store(-1, std::memory_order_relaxed);
}

void test_failure_point(TestFailureSite site) {
  if (g_left.load(std::memory_order_relaxed) < 0 || g_site.load(std::memory_order_relaxed) != site)
    return;
  // Exactly one caller takes the count from 0 to -1 and throws; later calls find it negative.
  if (g_left.fetch_sub(1, std::memory_order_relaxed) == 0) {
    throw std::runtime_error(std::string("injected test failure in the ") +
                             (site == TestFailureSite::kFeed ? "feed" : "image work") +
                             " (GRAYBENCH_TEST_FAIL_AFTER)");
  }
}

}  // namespace graybench
