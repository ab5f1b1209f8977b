#pragma once

// One run, in three steps with explicit inputs and outputs:
//   execute_on_rank (every rank: feed -> strategy -> this rank's rows)
//   gather_run      (collective: every rank's rows to rank 0)
//   assemble_run    (rank 0: sorted rows and the run's attributes; no MPI, no I/O)

#include <chrono>
#include <cstdint>
#include <vector>

#include "cli/config.hpp"
#include "core/work_item.hpp"
#include "mpi/comm.hpp"
#include "timing/records.hpp"

namespace graybench {

/// One measured or warm-up execution of a strategy with a worker count.
struct RunSpec {
  Strategy strategy;
  int workers;
  int repeat;
  bool warmup;
  int run = 0;   ///< 1-based index among the sweep's measured runs (0 for a warm-up)
  int runs = 0;  ///< measured runs in the sweep
};

/// What one rank measured in one run, before the gather.
struct RankRun {
  std::vector<ImageRecord> images;  ///< this rank's rows, stamped with rank and repeat
  RankRecord rank;                  ///< this rank's row (gather_s is filled by gather_run)
  Attributes strategy_attrs;        ///< the strategy's own attributes (settings in effect)
  std::string mechanism;            ///< how items were handed out (WorkFeed::mechanism)
  std::int64_t gil_switches = -1;   ///< emulated GIL hand-overs, -1 without --gil
  /// Share of the inputs' pages in the page cache at the start (all ranks; -1: none inspected).
  double cache_resident_fraction = -1;
  std::chrono::system_clock::time_point started, finished;  ///< common start, final barrier
};

/// Collective: runs `spec` on this rank over rank 0's `files` (the other ranks' lists are
/// empty; the distribution sends each its share). `estimates` (rank 0, one per file) drive the
/// `size` distribution.
RankRun execute_on_rank(const RunSpec& spec, const Config& config, const mpi::Comm& comm,
                        const std::vector<InputFile>& files,
                        const std::vector<std::uint64_t>& estimates);

/// Every rank's rows at rank 0 (empty elsewhere), and the headline wall time (all ranks).
struct GatheredRun {
  std::vector<ImageRecord> images;
  std::vector<RankRecord> ranks;
  double wall_s = 0;  ///< max over ranks of their wall_s
};

/// Collective: sends `mine` to rank 0; measures this rank's gather_s on the way.
GatheredRun gather_run(RankRun& mine, const mpi::Comm& comm);

/// Rank 0: the run as stored, rows sorted by image, with the run's own attributes (the job's
/// common attributes are added by the caller). `n_inputs` is the size of the input list.
RunResult assemble_run(const RunSpec& spec, const RankRun& root, GatheredRun gathered,
                       std::size_t n_inputs);

}  // namespace graybench
