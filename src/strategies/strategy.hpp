#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/work_item.hpp"
#include "strategies/pipeline.hpp"
#include "timing/records.hpp"

namespace graybench {

/// The closed set of intra-node strategies.
enum class Strategy { kSequential };

/// Everything a strategy needs for one run on one rank.
struct StrategyContext {
  WorkFeed* feed = nullptr;
  WorkOptions work;
  int workers = 1;
  Clock::time_point origin;                   ///< the run's common start
  std::atomic<std::uint64_t>* done = nullptr;  ///< images finished, for the progress line
};

/// What a strategy returns: one record per item it was given (any order), and its own costs.
struct StrategyOutcome {
  std::vector<ImageRecord> records;
  double setup_s = 0;        ///< starting threads/pool/processes, outside per-image work
  double teardown_s = 0;     ///< joining/stopping them
  std::string worker_cpus;   ///< "worker:cpus;..." where known
};

using StrategyFn = StrategyOutcome (*)(const StrategyContext&);

struct StrategyInfo {
  Strategy id;
  std::string_view name;
  std::string_view description;
  StrategyFn run;
  bool parallel;  ///< false: runs once whatever the worker list (sequential)
};

/// The table that drives CLI choices, dispatch and the parameterised tests.
const std::vector<StrategyInfo>& strategy_table();
const StrategyInfo& strategy_info(Strategy s);
std::optional<Strategy> parse_strategy(std::string_view name);

StrategyOutcome run_sequential(const StrategyContext& ctx);

}  // namespace graybench
