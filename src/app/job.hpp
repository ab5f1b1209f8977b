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

}  // namespace graybench
