// `threads`: N std::threads pulling from one shared queue that the rank's main thread fills
// (the analogue of threading + queue.Queue). The main thread alone talks to the feed, so a
// dynamic MPI feed is only ever called from it.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "strategies/strategy.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace {

class WorkQueue {
 public:
  void push(std::vector<WorkItem> batch) {
    {
      std::lock_guard lk(m_);
      for (auto& item : batch)
        q_.push_back(std::move(item));
    }
    cv_.notify_all();
  }
  void close() {
    {
      std::lock_guard lk(m_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  /// Blocks for the next item; false once closed and drained.
  bool pop(WorkItem& out) {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return closed_ || !q_.empty(); });
    if (q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    lk.unlock();
    space_cv_.notify_one();
    return true;
  }
  /// Blocks until fewer than `limit` items wait.
  void wait_below(std::size_t limit) {
    std::unique_lock lk(m_);
    space_cv_.wait(lk, [&] { return q_.size() < limit; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::condition_variable space_cv_;
  std::deque<WorkItem> q_;
  bool closed_ = false;
};

}  // namespace

StrategyOutcome run_threads(const StrategyContext& ctx) {
  StrategyOutcome out;
  const int n = ctx.workers;
  WorkQueue queue;
  std::vector<std::vector<ImageRecord>> results(static_cast<std::size_t>(n));
  std::vector<std::string> cpus(static_cast<std::size_t>(n));
  std::vector<Clock::time_point> finished(static_cast<std::size_t>(n));

  std::mutex started_m;
  std::condition_variable started_cv;
  int started = 0;

  const auto t_setup = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int w = 0; w < n; ++w) {
    threads.emplace_back([&, w] {
      cpus[w] = affinity_cpus();
      {
        // Notify under the lock: the waiter owns these and may return as soon as it sees n.
        std::lock_guard lk(started_m);
        ++started;
        started_cv.notify_one();
      }
      WorkItem item;
      while (queue.pop(item))
        results[w].push_back(work_on(ctx, item, w));
      finished[w] = Clock::now();
    });
  }
  {
    std::unique_lock lk(started_m);
    started_cv.wait(lk, [&] { return started == n; });
  }
  out.setup_s = seconds_between(t_setup, Clock::now());

  // Draw from the feed only when the queue runs low: a static feed hands over everything at
  // once, a dynamic one is drawn on demand so other ranks can take what this one cannot.
  for (;;) {
    queue.wait_below(static_cast<std::size_t>(n));
    auto batch = ctx.feed->next_batch();
    if (batch.empty()) break;
    const double now = seconds_between(ctx.origin, Clock::now());
    for (auto& item : batch)
      item.available_s = now;
    queue.push(std::move(batch));
  }
  queue.close();
  for (auto& t : threads)
    t.join();
  const auto t_joined = Clock::now();
  out.teardown_s = seconds_between(*std::max_element(finished.begin(), finished.end()), t_joined);

  std::vector<std::pair<int, std::string>> worker_cpus;
  for (int w = 0; w < n; ++w) {
    for (auto& r : results[w])
      out.records.push_back(std::move(r));
    worker_cpus.emplace_back(w, cpus[w]);
  }
  out.worker_cpus = join_worker_cpus(std::move(worker_cpus));
  return out;
}

}  // namespace graybench
