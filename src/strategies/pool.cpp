// `pool`: a thread pool created once per run, one future per image (the analogue of
// ThreadPoolExecutor.submit). Pool start-up and shut-down are timed apart from the work.
#include <atomic>
#include <mutex>

#include "strategies/strategy.hpp"
#include "strategies/thread_pool.hpp"
#include "timing/metadata.hpp"

namespace graybench {

StrategyOutcome run_pool(const StrategyContext& ctx) {
  StrategyOutcome out;
  std::vector<std::pair<int, std::string>> worker_cpus;
  std::mutex m;

  // Set by a task that threw: drawing more work would only delay the failure, which the task's
  // future carries to this thread (f.get() below rethrows it). Declared before the pool, which
  // may still run tasks while it is destroyed.
  std::atomic<bool> failed{false};
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
  while (!failed.load(std::memory_order_relaxed)) {
    pool.wait_pending_below(static_cast<std::size_t>(ctx.workers));
    auto batch = ctx.feed->next_batch();
    if (batch.empty()) break;
    for (auto& item : batch) {
      item.available_s = seconds_between(ctx.origin, Clock::now());
      futures.push_back(pool.submit([&ctx, &failed, item = std::move(item)](int worker) {
        try {
          return work_on(ctx, item, worker);
        } catch (...) {
          failed.store(true, std::memory_order_relaxed);
          throw;
        }
      }));
    }
  }
  // An exception from get() leaves through ~ThreadPool, which drops the tasks not yet started.
  for (auto& f : futures)
    out.records.push_back(f.get());

  const auto t_teardown = Clock::now();
  pool.shutdown();
  out.teardown_s = seconds_between(t_teardown, Clock::now());
  out.worker_cpus = join_worker_cpus(std::move(worker_cpus));
  return out;
}

}  // namespace graybench
