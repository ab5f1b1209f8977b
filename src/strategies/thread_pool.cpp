#include "strategies/thread_pool.hpp"

namespace graybench {

ThreadPool::ThreadPool(int n, const std::function<void(int)>& on_start) {
  std::mutex started_m;
  std::condition_variable started_cv;
  int started = 0;
  threads_.reserve(static_cast<std::size_t>(n));
  for (int w = 0; w < n; ++w) {
    threads_.emplace_back([this, w, &on_start, &started_m, &started_cv, &started] {
      if (on_start) on_start(w);
      {
        // Notify under the lock: the waiter owns these and may return as soon as it sees n.
        std::lock_guard lk(started_m);
        ++started;
        started_cv.notify_one();
      }
      for (;;) {
        std::function<void(int)> task;
        {
          std::unique_lock lk(m_);
          cv_.wait(lk, [this] { return stopping_ || !tasks_.empty(); });
          if (tasks_.empty()) return;
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        taken_cv_.notify_all();
        task(w);
      }
    });
  }
  std::unique_lock lk(started_m);
  started_cv.wait(lk, [&] { return started == n; });
}

void ThreadPool::wait_pending_below(std::size_t limit) {
  std::unique_lock lk(m_);
  taken_cv_.wait(lk, [&] { return tasks_.size() < limit; });
}

void ThreadPool::shutdown() {
  {
    std::lock_guard lk(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

ThreadPool::~ThreadPool() {
  shutdown();
}

}  // namespace graybench
