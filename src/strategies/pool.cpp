// `pool`: a thread pool created once per run, one future per image (the analogue of
// ThreadPoolExecutor.submit). Pool start-up and shut-down are timed apart from the work.
#include <mutex>

#include "strategies/strategy.hpp"
#include "strategies/thread_pool.hpp"
#include "timing/metadata.hpp"

namespace graybench {

StrategyOutcome run_pool(const StrategyContext& ctx) {
  StrategyOutcome out;
  std::vector<std::pair<int, std::string>> worker_cpus;
  std::mutex m;

  const auto t_setup = Clock::now();
  ThreadPool pool(ctx.workers, [&](int w) {
    const std::string cpus = affinity_cpus();
    std::lock_guard lk(m);
    worker_cpus.emplace_back(w, cpus);
  });
  out.setup_s = seconds_between(t_setup, Clock::now());

  std::vector<std::future<ImageRecord>> futures;
  // As executor.map does, everything a static feed holds is submitted at once; a dynamic feed
  // is drawn only when the pool's queue runs low.
  for (;;) {
    pool.wait_pending_below(static_cast<std::size_t>(ctx.workers));
    auto batch = ctx.feed->next_batch();
    if (batch.empty()) break;
    for (auto& item : batch) {
      item.available_s = seconds_between(ctx.origin, Clock::now());
      futures.push_back(pool.submit(
          [&ctx, item = std::move(item)](int worker) { return work_on(ctx, item, worker); }));
    }
  }
  for (auto& f : futures)
    out.records.push_back(f.get());

  const auto t_teardown = Clock::now();
  pool.shutdown();
  out.teardown_s = seconds_between(t_teardown, Clock::now());
  out.worker_cpus = join_worker_cpus(std::move(worker_cpus));
  return out;
}

}  // namespace graybench
