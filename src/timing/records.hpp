#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/errors.hpp"
#include "core/fields.hpp"
#include "core/wire.hpp"

namespace graybench {

using Clock = std::chrono::steady_clock;

/// Seconds from `from` to `to` on the steady clock.
inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// The columns of /runs/<run>/images and /runs/<run>/ranks, each declared once:
// X(type, name, unit, meaning). The struct members, the wire encoding (MPI gather and the worker
// protocol), the HDF5 compound types and the docs/schema.md test all come from these lists.
// Adding a column: one line here, one row in docs/schema.md.
// clang-format off
#define GRAYBENCH_IMAGE_FIELDS(X) \
  X(std::uint64_t, image,        "",       "index in the run's input list (`inputs` attribute)") \
  X(std::string,   path,         "",       "absolute input path") \
  X(std::int32_t,  rank,         "",       "MPI rank that processed it") \
  X(std::int32_t,  worker,       "",       "worker (thread or process) id within the rank, 0-based") \
  X(std::int32_t,  repeat,       "",       "repetition index, as the run attribute") \
  X(std::uint32_t, width,        "pixels", "image width (0 if it could not be decoded)") \
  X(std::uint32_t, height,       "pixels", "image height (0 if it could not be decoded)") \
  X(std::uint32_t, channels,     "",       "samples per pixel in the file: 1 L, 2 LA, 3 RGB, 4 RGBA") \
  X(std::uint32_t, bit_depth,    "bits",   "bits per sample in the file (8, or 16 for 16-bit PNG)") \
  X(std::uint64_t, bytes_in,     "bytes",  "encoded input bytes read") \
  X(std::uint64_t, bytes_out,    "bytes",  "bytes of the grayscale PNG written (0 without --output-dir)") \
  X(ImageStatus,   status,       "",       "outcome: ok, or why the image failed (table below)") \
  X(std::string,   error,        "",       "short message, empty when ok") \
  X(std::uint64_t, checksum,     "",       "checksum of the W x H grayscale bytes, row-major (0 on failure)") \
  X(double,        t_start,      "s",      "start, since the run's common start") \
  X(double,        t_end,        "s",      "end, since the run's common start") \
  X(double,        read_s,       "s",      "reading the file (0 in memory mode)") \
  X(double,        decode_s,     "s",      "decoding it (0 in memory mode)") \
  X(double,        convert_s,    "s",      "the grayscale kernel and the checksum") \
  X(double,        encode_s,     "s",      "encoding the grayscale PNG") \
  X(double,        write_s,      "s",      "writing the PNG") \
  X(double,        queue_wait_s, "s",      "from the image becoming available to a worker starting it") \
  X(double,        ipc_s,        "s",      "processes: moving this image between parent and worker") \
  X(std::uint64_t, ipc_bytes,    "bytes",  "processes, memory mode: pixel bytes moved between parent and worker (files mode: 0)") \
  X(std::int32_t,  attempts,     "",       "workers that took it: 1, 2 when retried after its worker died or hung, 0 if none") \
  /* new image columns go above this line */

#define GRAYBENCH_RANK_FIELDS(X) \
  X(std::int32_t,  rank,         "",       "MPI rank") \
  X(std::string,   host,         "",       "host name") \
  X(std::string,   node,         "",       "node name: SLURMD_NODENAME under Slurm, else the host name") \
  X(std::uint64_t, n_images,     "",       "images given to this rank") \
  X(std::uint64_t, n_failed,     "",       "of which failed") \
  X(double,        wall_s,       "s",      "common start to after the final barrier") \
  X(double,        compute_s,    "s",      "common start to this rank's last image done") \
  X(double,        distribute_s, "s",      "receiving this rank's share of the list") \
  X(double,        gather_s,     "s",      "sending this rank's rows to rank 0") \
  X(double,        idle_s,       "s",      "from the strategy's return to leaving the final barrier") \
  X(double,        setup_s,      "s",      "strategy start-up on this rank") \
  X(double,        teardown_s,   "s",      "strategy shut-down on this rank") \
  X(double,        user_s,       "s",      "user CPU time of the rank and its waited-for children") \
  X(double,        sys_s,        "s",      "system CPU time of the rank and its waited-for children") \
  X(std::int64_t,  max_rss_kb,   "KiB",    "peak resident memory of the rank (or its largest child) so far") \
  X(std::string,   cpus,         "",       "CPUs the rank may run on, e.g. 0-3,8") \
  X(std::string,   worker_cpus,  "",       "per worker id:cpus joined by ;, where known") \
  /* new rank columns go above this line */
// clang-format on

/// One row of /runs/<run>/images: one image in one repetition (docs/schema.md).
struct ImageRecord {
  GRAYBENCH_IMAGE_FIELDS(GRAYBENCH_MEMBER)
};

/// One row of /runs/<run>/ranks.
struct RankRecord {
  GRAYBENCH_RANK_FIELDS(GRAYBENCH_MEMBER)
};

#define GRAYBENCH_IMAGE_FIELD(type, name, unit, meaning) \
  Field<ImageRecord>{#name, &ImageRecord::name, unit, meaning},
#define GRAYBENCH_RANK_FIELD(type, name, unit, meaning) \
  Field<RankRecord>{#name, &RankRecord::name, unit, meaning},
inline constexpr auto kImageFields =
    std::to_array<Field<ImageRecord>>({GRAYBENCH_IMAGE_FIELDS(GRAYBENCH_IMAGE_FIELD)});
inline constexpr auto kRankFields =
    std::to_array<Field<RankRecord>>({GRAYBENCH_RANK_FIELDS(GRAYBENCH_RANK_FIELD)});
#undef GRAYBENCH_IMAGE_FIELD
#undef GRAYBENCH_RANK_FIELD

constexpr std::span<const Field<ImageRecord>> record_fields(const ImageRecord*) {
  return kImageFields;
}
constexpr std::span<const Field<RankRecord>> record_fields(const RankRecord*) {
  return kRankFields;
}

/// A run or file attribute value: integers, floats or strings.
using AttrValue = std::variant<std::int64_t, double, std::string>;

/// Ordered attribute list: written in insertion order, a later set() replaces.
class Attributes {
 public:
  void set(const std::string& name, AttrValue value);
  const AttrValue* find(const std::string& name) const;
  std::string str(const std::string& name) const;  ///< "" if absent or not a string
  std::int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, AttrValue>> items_;
};

/// Everything one measured run stores: attributes, image rows, rank rows.
struct RunResult {
  Attributes attrs;
  std::vector<ImageRecord> images;
  std::vector<RankRecord> ranks;
};

/// CPU time and peak memory of this process (and its waited-for children).
struct ResourceUsage {
  double user_s = 0;
  double sys_s = 0;
  std::int64_t max_rss_kb = 0;
  static ResourceUsage now();
};

}  // namespace graybench
