#pragma once

#include <cstdint>

namespace graybench {

/// Where an injected test failure strikes.
enum class TestFailureSite {
  kImage,  ///< a rank's per-image work (a worker thread, or the parent of a worker process)
  kFeed,   ///< a rank's draw from its work feed (next_batch), MPI counter included
};

/// Test-only failure injection, so the fail-fast path can be exercised through the real binary.
/// Deliberately not in the user documentation: GRAYBENCH_TEST_FAIL_RANK=R,
/// GRAYBENCH_TEST_FAIL_AFTER=N and GRAYBENCH_TEST_FAIL_IN=image|feed (default image) make
/// rank R's (N+1)-th event at that site (counted over the whole job) throw a non-image exception.
/// Unset or malformed variables leave the hook off.
void arm_test_failure_from_environment(int rank);

/// Arms the hook directly (unit tests): the (after+1)-th call at `site` throws.
void arm_test_failure(TestFailureSite site, std::int64_t after);

/// Turns the hook off.
void disarm_test_failure();

/// Called by every strategy once per image and by every feed once per draw; throws
/// std::runtime_error when the hook is armed for `site` and due. Thread-safe.
void test_failure_point(TestFailureSite site);

}  // namespace graybench
