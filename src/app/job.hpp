#pragma once

#include <ostream>

#include "cli/config.hpp"
#include "core/errors.hpp"
#include "mpi/comm.hpp"

namespace graybench {

/// Runs the whole job on every rank: list (rank 0), then for each strategy/worker combination
/// and repetition: distribute, run, gather, append to the results file (rank 0).
/// Throws UsageError identically on every rank for bad input selections; other exceptions are
/// fatal. `out` receives rank 0's summary lines.
ExitCode run_job(const Config& config, const mpi::Comm& comm, std::ostream& out);

/// `graybench --repair-results FILE`: under the writers' lock (waiting for a save in progress),
/// rolls back a save of FILE that was killed half-way, so other readers (h5py, h5dump) can open
/// it again; says on `out` what it did, or that there was nothing to repair. Runs no job.
/// Throws UsageError when FILE does not exist and has no journal.
ExitCode repair_results(const std::string& path, std::ostream& out);

}  // namespace graybench
