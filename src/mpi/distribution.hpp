#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/fault_injection.hpp"
#include "core/options.hpp"
#include "core/work_item.hpp"
#include "mpi/comm.hpp"

namespace graybench {

/// Which list indices each of `ranks` ranks gets under a static policy: every index exactly
/// once, each rank's indices ascending. `estimates` (one per file) drives kSize.
std::vector<std::vector<std::uint64_t>> plan_static(
    Distribution policy, std::size_t n_files, int ranks,
    const std::vector<std::uint64_t>& estimates = {});

/// Collective: rank 0 (which alone needs `files`) sends each rank its items with MPI_Scatterv.
/// `estimates` (rank 0, one per file; io/'s work_estimates) drive kSize.
std::vector<WorkItem> distribute_static(Distribution policy, const std::vector<InputFile>& files,
                                        const mpi::Comm& comm,
                                        const std::vector<std::uint64_t>& estimates = {});

/// Collective: makes this rank's feed for one run under any policy (kDynamic: `kind` says how
/// the counter is shared; auto tries an MPI one-sided window and falls back to a dispatcher
/// thread on rank 0). For static policies the feed holds this rank's items (kSize needs
/// `estimates` on rank 0); for kDynamic every rank receives the list (MPI_Bcast) and draws
/// `chunk` items at a time from a shared counter. Call finish() on every rank once its strategy
/// is done, then destroy it collectively (it may own an MPI window and communicator).
std::unique_ptr<WorkFeed> make_feed(Distribution policy, const std::vector<InputFile>& files,
                                    const mpi::Comm& comm, int chunk,
                                    CounterKind kind = CounterKind::kAuto,
                                    const std::vector<std::uint64_t>& estimates = {});

/// A feed that hands over a fixed list in one batch.
class StaticFeed final : public WorkFeed {
 public:
  explicit StaticFeed(std::vector<WorkItem> items) : items_(std::move(items)) {}
  std::vector<WorkItem> next_batch() override {
    test_failure_point(TestFailureSite::kFeed);
    return std::exchange(items_, {});
  }
  std::vector<WorkItem>& items() { return items_; }
  std::vector<WorkItem>* known_items() override { return &items_; }

 private:
  std::vector<WorkItem> items_;
};

}  // namespace graybench
