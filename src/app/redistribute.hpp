#pragma once

#include "mpi/comm.hpp"
#include "strategies/strategy.hpp"

namespace graybench {

/// Collective, under --distribution dynamic, after every rank's strategy returned: the images
/// a rank handed back (`outcome.returned`, its worker processes ran out) are spread over the
/// ranks that did not give up, which run them with the same strategy and add their records
/// (and set-up/tear-down costs) to `outcome`. With no such rank they become worker_lost rows
/// of the rank that held them. Returns, on rank 0, how many images changed rank.
std::uint64_t redistribute_returned(const StrategyContext& ctx, Strategy strategy,
                                    StrategyOutcome& outcome, const mpi::Comm& comm);

}  // namespace graybench
