#pragma once

#include <string>

#include "cli/config.hpp"
#include "mpi/comm.hpp"

namespace graybench {

/// Workers per rank no strategy may exceed, whatever the limits allow: far above any useful
/// oversubscription of a node, low enough that a typo (--workers 100000) is an error, not a
/// machine brought to its knees.
inline constexpr long kMaxWorkersPerRank = 4096;

/// The most workers this process can start for a strategy that uses threads (`processes` false)
/// or child processes (`processes` true), and the limit that decides it ("RLIMIT_NOFILE 1024",
/// ...). Reads the rlimits, the kernel's thread limit and the cgroup's pids.max.
struct WorkerLimit {
  long max;
  std::string reason;
};
WorkerLimit worker_limit(bool processes);

/// Collective: every rank checks that it can start the largest worker count of the sweep for
/// each parallel strategy, and that --output-dir (if given) can be created and written.
/// Throws UsageError identically on every rank otherwise.
void preflight(const Config& config, const mpi::Comm& comm);

}  // namespace graybench
