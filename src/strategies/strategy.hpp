#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/options.hpp"
#include "core/work_item.hpp"
#include "strategies/pipeline.hpp"
#include "timing/records.hpp"

namespace graybench {

/// Everything a strategy needs for one run on one rank.
struct StrategyContext {
  WorkFeed* feed = nullptr;
  WorkOptions work;
  int workers = 1;
  Clock::time_point origin;                    ///< the run's common start
  std::atomic<std::uint64_t>* done = nullptr;  ///< images finished, for the progress line
  OmpSchedule omp;
  Ipc ipc = Ipc::kPipe;
  std::string worker_exe;                    ///< graybench binary that has --worker-mode
  std::chrono::nanoseconds gil_interval{0};  ///< > 0: worker processes emulate the GIL too
};

/// What a strategy returns: one record per item it was given (any order), and its own costs.
struct StrategyOutcome {
  std::vector<ImageRecord> records;
  double setup_s = 0;       ///< starting threads/pool/processes, outside per-image work
  double teardown_s = 0;    ///< joining/stopping them after the last image
  std::string worker_cpus;  ///< "worker:cpus;..." where known
  Attributes attrs;         ///< strategy-specific run attributes (settings in effect)
  /// Items this rank drew from an on-demand feed but could not run (its workers ran out): the
  /// job hands them to ranks that still can (see app/redistribute.hpp).
  std::vector<WorkItem> returned;
  bool gave_up = false;  ///< the rank can run nothing more in this run
};

using StrategyFn = StrategyOutcome (*)(const StrategyContext&);

/// A strategy's run function and traits; its name and description come from kStrategyNames.
struct StrategyInfo {
  Strategy id;
  std::string_view name;
  std::string_view description;
  StrategyFn run;
  bool parallel;  ///< false: runs once whatever the worker list (sequential)
};

/// The table that drives dispatch and the parameterised tests, in kStrategyNames's order.
const std::vector<StrategyInfo>& strategy_table();
const StrategyInfo& strategy_info(Strategy s);

StrategyOutcome run_sequential(const StrategyContext& ctx);
StrategyOutcome run_threads(const StrategyContext& ctx);
StrategyOutcome run_openmp(const StrategyContext& ctx);
StrategyOutcome run_pool(const StrategyContext& ctx);
StrategyOutcome run_processes(const StrategyContext& ctx);

/// Processes one item on a worker: the record with worker id, queue wait and the done count.
/// Items arriving after a stop request become not_processed rows.
ImageRecord work_on(const StrategyContext& ctx, const WorkItem& item, int worker);

/// "id:cpus" entries joined with ';' from (worker, cpu list) pairs sorted by worker.
std::string join_worker_cpus(std::vector<std::pair<int, std::string>> entries);

}  // namespace graybench
