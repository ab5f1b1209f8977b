#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/fault_injection.hpp"
#include "common/work_item.hpp"
#include "mpi/comm.hpp"

namespace graybench {

/// How rank 0's image list is spread over the ranks (--distribution).
enum class Distribution {
  kBlock,    ///< contiguous slices, counts balanced to +-1
  kCyclic,   ///< round-robin: image i to rank i % ranks
  kSize,     ///< greedy longest-first on a work estimate (pixels from the header)
  kDynamic,  ///< chunks on demand from an MPI one-sided atomic counter; rank 0 works too
};

std::optional<Distribution> parse_distribution(std::string_view name);
std::string_view to_string(Distribution d);
/// Every policy name, comma-separated, for messages.
std::string_view distribution_names();

/// Which list indices each of `ranks` ranks gets under a static policy: every index exactly
/// once, each rank's indices ascending. `estimates` (one per file) drives kSize.
std::vector<std::vector<std::uint64_t>> plan_static(
    Distribution policy, std::size_t n_files, int ranks,
    const std::vector<std::uint64_t>& estimates = {});

/// Work estimate of each file for kSize: width x height read from its header where the format
/// allows, else its size in bytes (an unreadable header counts as its bytes).
std::vector<std::uint64_t> work_estimates(const std::vector<InputFile>& files);

/// Collective: rank 0 (which alone needs `files`) sends each rank its items with MPI_Scatterv.
std::vector<WorkItem> distribute_static(Distribution policy, const std::vector<InputFile>& files,
                                        const mpi::Comm& comm);

/// How kDynamic shares its counter (--dynamic-counter): auto tries an MPI one-sided window and
/// falls back to a dispatcher thread on rank 0 when the transport has no RMA atomics.
enum class CounterKind { kAuto, kRma, kDispatcher };
std::optional<CounterKind> parse_counter_kind(std::string_view name);

/// Collective: makes this rank's feed for one run under any policy. For static policies the feed
/// holds this rank's items; for kDynamic every rank receives the list (MPI_Bcast) and draws
/// `chunk` items at a time from a shared counter. Call finish() on every rank once its strategy
/// is done, then destroy it collectively (it may own an MPI window and communicator).
std::unique_ptr<WorkFeed> make_feed(Distribution policy, const std::vector<InputFile>& files,
                                    const mpi::Comm& comm, int chunk,
                                    CounterKind kind = CounterKind::kAuto);

/// A feed that hands over a fixed list in one batch.
class StaticFeed final : public WorkFeed {
 public:
  explicit StaticFeed(std::vector<WorkItem> items) : items_(std::move(items)) {}
  std::vector<WorkItem> next_batch() override {
    test_failure_point(TestFailureSite::kFeed);
    return std::exchange(items_, {});
  }
  std::vector<WorkItem>& items() { return items_; }

 private:
  std::vector<WorkItem> items_;
};

}  // namespace graybench
