#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/wire.hpp"

namespace graybench {

using Clock = std::chrono::steady_clock;

/// Seconds from `from` to `to` on the steady clock.
inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// One row of /runs/<run>/images: one image in one repetition (docs/schema.md).
struct ImageRecord {
  std::uint64_t image = 0;  ///< index in /inputs
  std::string path;
  std::int32_t rank = 0;
  std::int32_t worker = 0;
  std::int32_t repeat = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t channels = 0;
  std::uint32_t bit_depth = 0;
  std::uint64_t bytes_in = 0;   ///< encoded input size
  std::uint64_t bytes_out = 0;  ///< encoded PNG size (0 without --output-dir)
  std::int32_t status = 0;      ///< ImageStatus
  std::string error;
  std::uint64_t checksum = 0;  ///< FNV-1a 64 of the W*H gray bytes (0 on failure)
  double t_start = 0;          ///< seconds since the run's common start
  double t_end = 0;
  double read_s = 0;
  double decode_s = 0;
  double convert_s = 0;
  double encode_s = 0;
  double write_s = 0;
  double queue_wait_s = 0;
  double ipc_s = 0;             ///< time moving this image's result between processes
  std::uint64_t ipc_bytes = 0;  ///< bytes moved between processes for this image
  std::int32_t attempts = 1;    ///< workers that took it: 2 when retried after a worker died
};

/// One row of /runs/<run>/ranks.
struct RankRecord {
  std::int32_t rank = 0;
  std::string host;
  std::uint64_t n_images = 0;
  std::uint64_t n_failed = 0;
  double wall_s = 0;        ///< common start to after the final barrier
  double compute_s = 0;     ///< common start to this rank's last image done
  double distribute_s = 0;  ///< handing out the image list for this run
  double gather_s = 0;      ///< sending records to rank 0
  double idle_s = 0;        ///< waiting at the final barrier
  double setup_s = 0;       ///< strategy set-up (pool/threads/process spawn)
  double teardown_s = 0;    ///< strategy tear-down
  double user_s = 0;        ///< CPU time of the rank and its worker processes
  double sys_s = 0;
  std::int64_t max_rss_kb = 0;
  std::string cpus;         ///< CPUs this rank may run on, e.g. "0-3,8"
  std::string worker_cpus;  ///< per worker "id:cpus" joined with ';' where known
};

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

void put(WireWriter& w, const ImageRecord& r);
void get(WireReader& r, ImageRecord& out);
void put(WireWriter& w, const RankRecord& r);
void get(WireReader& r, RankRecord& out);

/// CPU time and peak memory of this process (and its waited-for children).
struct ResourceUsage {
  double user_s = 0;
  double sys_s = 0;
  std::int64_t max_rss_kb = 0;
  static ResourceUsage now();
};

}  // namespace graybench
