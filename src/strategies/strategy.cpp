#include "strategies/strategy.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/cancel.hpp"
#include "common/errors.hpp"
#include "common/fault_injection.hpp"

namespace graybench {

const std::vector<StrategyInfo>& strategy_table() {
  static const std::vector<StrategyInfo> table = {
      {Strategy::kSequential, "sequential", "one thread, images in order (the baseline)",
       run_sequential, false},
      {Strategy::kThreads, "threads", "N std::threads pulling from a shared work queue",
       run_threads, true},
      {Strategy::kOpenmp, "openmp", "an OpenMP parallel loop (--omp-schedule)", run_openmp, true},
      {Strategy::kPool, "pool", "a persistent thread pool, one future per image", run_pool, true},
      {Strategy::kProcesses, "processes", "N spawned worker processes fed over pipes (--ipc)",
       run_processes, true},
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

std::optional<OmpSchedule> parse_omp_schedule(std::string_view text) {
  OmpSchedule s;
  const auto comma = text.find(',');
  const std::string_view kind = text.substr(0, comma);
  if (kind == "static") {
    s.kind = OmpSchedule::Kind::kStatic;
  } else if (kind == "dynamic") {
    s.kind = OmpSchedule::Kind::kDynamic;
  } else if (kind == "guided") {
    s.kind = OmpSchedule::Kind::kGuided;
  } else {
    return std::nullopt;
  }
  s.chunk = 0;
  if (comma != std::string_view::npos) {
    const std::string chunk(text.substr(comma + 1));
    std::size_t used = 0;
    try {
      s.chunk = std::stoi(chunk, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != chunk.size() || s.chunk < 1) return std::nullopt;
  } else if (s.kind == OmpSchedule::Kind::kDynamic) {
    s.chunk = 1;
  }
  return s;
}

std::string to_string(const OmpSchedule& s) {
  std::string out = s.kind == OmpSchedule::Kind::kStatic    ? "static"
                    : s.kind == OmpSchedule::Kind::kDynamic ? "dynamic"
                                                            : "guided";
  if (s.chunk > 0) out += "," + std::to_string(s.chunk);
  return out;
}

std::optional<Ipc> parse_ipc(std::string_view text) {
  if (text == "pipe") return Ipc::kPipe;
  if (text == "shm") return Ipc::kShm;
  return std::nullopt;
}

std::string_view to_string(Ipc ipc) {
  return ipc == Ipc::kPipe ? "pipe" : "shm";
}

ImageRecord work_on(const StrategyContext& ctx, const WorkItem& item, int worker) {
  test_failure_point(TestFailureSite::kImage);
  ImageRecord rec = stop_requested()
                        ? unprocessed_record(item, static_cast<int>(ImageStatus::kNotProcessed),
                                             "run interrupted")
                        : process_image(item, ctx.work, ctx.origin);
  rec.worker = worker;
  if (rec.status != static_cast<int>(ImageStatus::kNotProcessed)) {
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
