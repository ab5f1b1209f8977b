#pragma once

#include <cstdint>
#include <string>

#include "core/work_item.hpp"
#include "io/codec.hpp"
#include "timing/records.hpp"

namespace graybench {

class Gil;
class MemoryBudget;

/// What the per-image work does, shared by every strategy.
struct WorkOptions {
  std::string output_dir;  ///< empty: convert and checksum only, write nothing
  int kernel_repeat = 1;   ///< run the kernel this many times (same result) to add CPU work
  Gil* gil = nullptr;      ///< emulated GIL held around the kernel, or none
  Decoder decoder = Decoder::kAuto;  ///< which decoders read the input
  int png_level = kPngLevelDefault;  ///< compression level of the PNGs written
  std::uint64_t max_pixels = 0;      ///< images whose header declares more fail (0: no limit)
  MemoryBudget* budget = nullptr;    ///< the rank's memory budget images take from, or none
};

/// Memory mode: reads and decodes `item` now, outside any timed region; a failure is kept in
/// the item and reported when it is processed. Images above `max_pixels` (0: none) fail.
void preload(WorkItem& item, Decoder decoder = Decoder::kAuto, std::uint64_t max_pixels = 0);

/// The per-image work: read and decode (unless preloaded), convert (kernel_repeat times),
/// checksum, and with an output dir encode and write the PNG. Every phase is timed; times are
/// relative to `origin`. Never throws for a bad image: the record carries status and error.
/// rank, worker, repeat and queue_wait_s are the caller's to fill.
/// With `gray_out`, the grayscale pixels are handed back (left empty on failure).
ImageRecord process_image(const WorkItem& item, const WorkOptions& options,
                          Clock::time_point origin, std::vector<std::uint8_t>* gray_out = nullptr);

/// Sorts `items` by decreasing work estimate (width x height from the file's header, else the
/// file size), stable: the scheduling order that keeps a queue's tail short.
void order_largest_first(std::vector<WorkItem>& items);

/// A record for an item that was never processed (run interrupted, worker lost).
ImageRecord unprocessed_record(const WorkItem& item, ImageStatus status, const std::string& why);

}  // namespace graybench
