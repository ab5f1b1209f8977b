#include "strategies/strategy.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "core/cancel.hpp"
#include "core/errors.hpp"
#include "core/fault_injection.hpp"

namespace graybench {

namespace {

/// What each strategy runs, and whether a worker count applies to it.
struct Dispatch {
  StrategyFn run;
  bool parallel;
};

Dispatch dispatch(Strategy s) {
  switch (s) {
    case Strategy::kSequential:
      return {run_sequential, false};
    case Strategy::kThreads:
      return {run_threads, true};
    case Strategy::kOpenmp:
      return {run_openmp, true};
    case Strategy::kPool:
      return {run_pool, true};
    case Strategy::kProcesses:
      return {run_processes, true};
  }
  throw std::logic_error("strategy without a run function");
}

}  // namespace

const std::vector<StrategyInfo>& strategy_table() {
  static const std::vector<StrategyInfo> table = [] {
    std::vector<StrategyInfo> t;
    for (const auto& entry : names_of<Strategy>()) {
      const Dispatch d = dispatch(entry.value);
      t.push_back({entry.value, entry.name, entry.meaning, d.run, d.parallel});
    }
    return t;
  }();
  return table;
}

const StrategyInfo& strategy_info(Strategy s) {
  for (const auto& info : strategy_table()) {
    if (info.id == s) return info;
  }
  throw std::logic_error("strategy missing from the table");
}

ImageRecord work_on(const StrategyContext& ctx, const WorkItem& item, int worker) {
  test_failure_point(TestFailureSite::kImage);
  ImageRecord rec = stop_requested()
                        ? unprocessed_record(item, ImageStatus::kNotProcessed, "run interrupted")
                        : process_image(item, ctx.work, ctx.origin);
  rec.worker = worker;
  if (rec.status != ImageStatus::kNotProcessed) {
    rec.queue_wait_s = std::max(0.0, rec.t_start - item.available_s);
    if (ctx.done) ctx.done->fetch_add(1, std::memory_order_relaxed);
  }
  return rec;
}

std::string join_worker_cpus(std::vector<std::pair<int, std::string>> entries) {
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& [w, cpus] : entries) {
    if (!out.empty()) out += ';';
    out += std::to_string(w) + ":" + cpus;
  }
  return out;
}

}  // namespace graybench
