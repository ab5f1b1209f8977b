#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/codec.hpp"
#include "io/listing.hpp"

namespace graybench {

/// One image handed to a rank for one run: its index in the input list, its description and,
/// in memory mode, the image read and decoded before the timed region.
struct WorkItem {
  std::uint64_t index = 0;
  InputFile file;
  std::optional<Image> decoded;     ///< memory mode: the decoded image
  std::int32_t preload_status = 0;  ///< memory mode: ImageStatus of a failed read/decode
  std::string preload_error;
  double available_s = 0;  ///< when it became available to workers (seconds since run start)
};

/// Where a strategy gets its items. Static distributions hand everything over in one batch;
/// dynamic distribution hands out chunks on demand. Called from the rank's main thread only,
/// because a refill may call MPI.
class WorkFeed {
 public:
  virtual ~WorkFeed() = default;
  /// The next items for this rank; empty once the run has no more.
  virtual std::vector<WorkItem> next_batch() = 0;
  /// Called by the main thread once the strategy returned, before any other MPI call: ends
  /// whatever the feed runs in the background (rank 0's dispatcher).
  virtual void finish() {}
  /// Called by the main thread when this rank can run nothing more (its worker processes ran
  /// out): it draws no more, so the rest of an on-demand feed goes to the other ranks.
  virtual void leave() {}
  /// True when items are drawn on demand (dynamic distribution): a strategy should draw small
  /// batches as its workers free up rather than plan a loop over a known set.
  virtual bool on_demand() const { return false; }
  /// How items are handed out, for the run metadata ("static", "rma", "dispatcher").
  virtual std::string mechanism() const { return "static"; }
};

}  // namespace graybench
