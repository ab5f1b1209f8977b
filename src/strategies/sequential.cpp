#include "common/cancel.hpp"
#include "common/errors.hpp"
#include "strategies/strategy.hpp"

namespace graybench {

StrategyOutcome run_sequential(const StrategyContext& ctx) {
  StrategyOutcome out;
  for (auto batch = ctx.feed->next_batch(); !batch.empty(); batch = ctx.feed->next_batch()) {
    for (const auto& item : batch) {
      if (stop_requested()) {
        out.records.push_back(unprocessed_record(
            item, static_cast<int>(ImageStatus::kNotProcessed), "run interrupted"));
        continue;
      }
      ImageRecord rec = process_image(item, ctx.work, ctx.origin);
      rec.queue_wait_s = rec.t_start - item.available_s;
      out.records.push_back(std::move(rec));
      if (ctx.done) ctx.done->fetch_add(1, std::memory_order_relaxed);
    }
  }
  return out;
}

}  // namespace graybench
