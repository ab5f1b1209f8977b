#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/work_item.hpp"
#include "mpi/comm.hpp"

namespace graybench {

/// How rank 0's image list is spread over the ranks (--distribution).
enum class Distribution { kBlock };

std::optional<Distribution> parse_distribution(std::string_view name);
std::string_view to_string(Distribution d);

/// Which list indices each of `ranks` ranks gets under a static policy: every index exactly once.
std::vector<std::vector<std::uint64_t>> plan_static(Distribution policy,
                                                    const std::vector<InputFile>& files,
                                                    int ranks);

/// Collective: rank 0 (which alone needs `files`) sends each rank its items with MPI_Scatterv.
std::vector<WorkItem> distribute_static(Distribution policy, const std::vector<InputFile>& files,
                                        const mpi::Comm& comm);

/// A feed that hands over a fixed list in one batch.
class StaticFeed final : public WorkFeed {
 public:
  explicit StaticFeed(std::vector<WorkItem> items) : items_(std::move(items)) {}
  std::vector<WorkItem> next_batch() override { return std::exchange(items_, {}); }

 private:
  std::vector<WorkItem> items_;
};

}  // namespace graybench
