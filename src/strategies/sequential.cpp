#include "strategies/strategy.hpp"
#include "timing/metadata.hpp"

namespace graybench {

StrategyOutcome run_sequential(const StrategyContext& ctx) {
  StrategyOutcome out;
  for (auto batch = ctx.feed->next_batch(); !batch.empty(); batch = ctx.feed->next_batch()) {
    const double now = seconds_between(ctx.origin, Clock::now());
    for (auto& item : batch) {
      item.available_s = now;
      out.records.push_back(work_on(ctx, item, 0));
    }
  }
  out.worker_cpus = join_worker_cpus({{0, affinity_cpus()}});
  return out;
}

}  // namespace graybench
