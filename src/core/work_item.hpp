#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/fields.hpp"
#include "core/image.hpp"
#include "core/wire.hpp"

namespace graybench {

/// One input image as every rank sees it.
struct InputFile {
  std::string path;        ///< absolute, lexically normal path
  std::uint64_t size = 0;  ///< bytes on disk when listed
  std::string output_rel;  ///< output path relative to --output-dir (see mirror_name)
};

/// Rows of /inputs and /input_sets/<fingerprint>; output_rel travels between ranks only.
inline constexpr std::array<Field<InputFile>, 3> kInputFileFields{{
    {"path", &InputFile::path, "", "absolute path"},
    {"size", &InputFile::size, "bytes", "bytes on disk when listed"},
    {"output_rel", &InputFile::output_rel, "", "output path relative to --output-dir", false},
}};
constexpr std::span<const Field<InputFile>> record_fields(const InputFile*) {
  return kInputFileFields;
}

/// One image handed to a rank for one run: its index in the input list, its description and,
/// in memory mode, the image read and decoded before the timed region.
struct WorkItem {
  std::uint64_t index = 0;
  InputFile file;
  std::optional<Image> decoded;                   ///< memory mode: the decoded image
  ImageStatus preload_status = ImageStatus::kOk;  ///< memory mode: a failed read/decode
  std::string preload_error;
  double available_s = 0;  ///< when it became available to workers (seconds since run start)
};

/// What travels of an item between ranks and to worker processes: its index and file (the
/// decoded image, if any, travels separately).
inline void put_item(WireWriter& w, std::uint64_t index, const InputFile& file) {
  w.put(index);
  put(w, file);
}
inline void put(WireWriter& w, const WorkItem& item) {
  put_item(w, item.index, item.file);
}
inline void get(WireReader& r, WorkItem& item) {
  item.index = r.get<std::uint64_t>();
  get(r, item.file);
}

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
  /// The items this rank holds before the run starts: a static share (memory mode preloads
  /// them; progress shows their count), or none for an on-demand feed.
  virtual std::vector<WorkItem>* known_items() { return nullptr; }
};

}  // namespace graybench
