#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace graybench {

/// A fixed-size pool of threads running submitted tasks in FIFO order, each returning a future
/// (the analogue of concurrent.futures.ThreadPoolExecutor). Tasks receive their worker index.
class ThreadPool {
 public:
  /// Starts `n` threads; `on_start(worker)` runs first on each. Returns once all are running.
  explicit ThreadPool(int n, const std::function<void(int)>& on_start = {});
  /// Joins every thread. Tasks still queued are dropped unexecuted (their futures report
  /// broken_promise): the normal path calls shutdown() first, so this only happens when an
  /// exception leaves the submitting scope, and then waiting for the rest would only delay it.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <typename F>
  auto submit(F&& f) -> std::future<decltype(f(0))> {
    using R = decltype(f(0));
    auto task = std::make_shared<std::packaged_task<R(int)>>(std::forward<F>(f));
    std::future<R> result = task->get_future();
    {
      std::lock_guard lk(m_);
      tasks_.emplace_back([task](int worker) { (*task)(worker); });
    }
    cv_.notify_one();
    return result;
  }

  /// Blocks until fewer than `limit` submitted tasks wait for a thread.
  void wait_pending_below(std::size_t limit);

  /// Stops accepting work, finishes queued tasks and joins (idempotent).
  void shutdown();

  /// Drops the tasks not yet started, then joins (idempotent).
  void cancel();

 private:
  std::condition_variable cv_;
  /// Runs queued tasks on worker `w` until shutdown with an empty queue.
  void run_tasks(int w);

  std::mutex m_;
  std::condition_variable taken_cv_;
  std::deque<std::function<void(int)>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace graybench
