#include "strategies/thread_pool.hpp"

#include <exception>

namespace graybench {

ThreadPool::ThreadPool(int n, const std::function<void(int)>& on_start) {
  std::mutex started_m;
  std::condition_variable started_cv;
  int started = 0;
  std::exception_ptr start_error;  // guarded by started_m; rethrown here, on the caller's thread
  threads_.reserve(static_cast<std::size_t>(n));
  try {
    for (int w = 0; w < n; ++w) {
      threads_.emplace_back([this, w, &on_start, &started_m, &started_cv, &started, &start_error] {
        std::exception_ptr error;
        try {
          if (on_start) on_start(w);
        } catch (...) {
          error = std::current_exception();
        }
        {
          // Notify under the lock: the waiter owns these and may return as soon as it sees n.
          std::lock_guard lk(started_m);
          if (error && !start_error) start_error = error;
          ++started;
          started_cv.notify_one();
        }
        run_tasks(w);
      });
    }
  } catch (...) {
    cancel();  // a thread could not be created: join those that were
    throw;
  }
  std::unique_lock lk(started_m);
  started_cv.wait(lk, [&] { return started == n; });
  if (start_error) {
    lk.unlock();
    cancel();
    std::rethrow_exception(start_error);
  }
}

void ThreadPool::run_tasks(int w) {
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
    // A packaged_task stores the task's exception in its future: nothing escapes this thread.
    task(w);
  }
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

void ThreadPool::cancel() {
  {
    std::lock_guard lk(m_);
    tasks_.clear();
  }
  taken_cv_.notify_all();
  shutdown();
}

ThreadPool::~ThreadPool() {
  cancel();
}

}  // namespace graybench
