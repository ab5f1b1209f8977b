#include "strategies/strategy.hpp"

#include <stdexcept>

namespace graybench {

const std::vector<StrategyInfo>& strategy_table() {
  static const std::vector<StrategyInfo> table = {
      {Strategy::kSequential, "sequential", "one thread, images in order (the baseline)",
       run_sequential, false},
  };
  return table;
}

const StrategyInfo& strategy_info(Strategy s) {
  for (const auto& info : strategy_table()) {
    if (info.id == s) return info;
  }
  throw std::logic_error("strategy missing from the table");
}

std::optional<Strategy> parse_strategy(std::string_view name) {
  for (const auto& info : strategy_table()) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

}  // namespace graybench
