// `threads`: N std::threads pulling from one shared queue that the rank's main thread fills
// (the analogue of threading + queue.Queue). The main thread alone talks to the feed, so a
// dynamic MPI feed is only ever called from it.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
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
  /// Ends the run early (a worker failed, or the feeding thread did): queued items are dropped,
  /// workers stop after their current item and the feeding thread stops waiting for space.
  void abandon() {
    {
      std::lock_guard lk(m_);
      closed_ = true;
      abandoned_ = true;
      q_.clear();
    }
    cv_.notify_all();
    space_cv_.notify_all();
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
  /// Blocks until fewer than `limit` items wait; false once abandoned.
  bool wait_below(std::size_t limit) {
    std::unique_lock lk(m_);
    space_cv_.wait(lk, [&] { return abandoned_ || q_.size() < limit; });
    return !abandoned_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::condition_variable space_cv_;
  std::deque<WorkItem> q_;
  bool closed_ = false;
  bool abandoned_ = false;
};

/// Joins the workers however the feeding thread leaves run_threads: an exception from the feed
/// abandons the queue first, so no std::thread is destroyed joinable (std::terminate).
class Joiner {
 public:
  Joiner(WorkQueue& queue, std::vector<std::thread>& threads) : queue_(queue), threads_(threads) {}
  Joiner(const Joiner&) = delete;
  Joiner& operator=(const Joiner&) = delete;
  ~Joiner() {
    if (std::uncaught_exceptions() > unwinding_) queue_.abandon();
    join();
  }
  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  WorkQueue& queue_;
  std::vector<std::thread>& threads_;
  int unwinding_ = std::uncaught_exceptions();
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

  // The first exception of any worker; rethrown on this (the rank's main) thread.
  std::mutex error_m;
  std::exception_ptr error;

  const auto t_setup = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  Joiner joiner(queue, threads);
  for (int w = 0; w < n; ++w) {
    threads.emplace_back([&, w] {
      try {
        cpus[w] = affinity_cpus();
      } catch (...) {
        std::lock_guard lk(error_m);
        if (!error) error = std::current_exception();
      }
      {
        // Notify under the lock: the waiter owns these and may return as soon as it sees n.
        std::lock_guard lk(started_m);
        ++started;
        started_cv.notify_one();
      }
      try {
        WorkItem item;
        while (queue.pop(item))
          results[w].push_back(work_on(ctx, item, w));
      } catch (...) {
        {
          std::lock_guard lk(error_m);
          if (!error) error = std::current_exception();
        }
        queue.abandon();  // fail fast: the others stop after their current item
      }
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
    if (!queue.wait_below(static_cast<std::size_t>(n))) break;  // a worker failed
    auto batch = ctx.feed->next_batch();
    if (batch.empty()) break;
    const double now = seconds_between(ctx.origin, Clock::now());
    for (auto& item : batch)
      item.available_s = now;
    queue.push(std::move(batch));
  }
  queue.close();
  joiner.join();
  if (error) std::rethrow_exception(error);
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
