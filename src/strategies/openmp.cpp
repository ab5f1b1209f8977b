// `openmp`: an OpenMP parallel loop over the rank's items with a selectable schedule. The
// team size is --workers; OMP_PLACES / OMP_PROC_BIND are honoured by the runtime and recorded.
#include <omp.h>

#include <atomic>
#include <exception>
#include <mutex>

#include "strategies/strategy.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace {
omp_sched_t to_omp(OmpSchedule::Kind k) {
  switch (k) {
    case OmpSchedule::Kind::kStatic:
      return omp_sched_static;
    case OmpSchedule::Kind::kDynamic:
      return omp_sched_dynamic;
    case OmpSchedule::Kind::kGuided:
      return omp_sched_guided;
  }
  return omp_sched_dynamic;
}

const char* proc_bind_name(omp_proc_bind_t b) {
  switch (b) {
    case omp_proc_bind_false:
      return "false";
    case omp_proc_bind_true:
      return "true";
    case omp_proc_bind_master:
      return "master";
    case omp_proc_bind_close:
      return "close";
    case omp_proc_bind_spread:
      return "spread";
  }
  return "unknown";
}
/// The first exception thrown inside a parallel region, rethrown on the rank's main thread once the
/// region has ended: an exception escaping a region would call std::terminate.
class RegionError {
 public:
  void capture() {
    std::lock_guard lk(m_);
    if (!error_) error_ = std::current_exception();
    failed_.store(true, std::memory_order_relaxed);
  }
  /// True once any thread failed: the others skip their remaining iterations.
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex m_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};
}  // namespace

StrategyOutcome run_openmp(const StrategyContext& ctx) {
  StrategyOutcome out;
  const int n = ctx.workers;
  omp_set_schedule(to_omp(ctx.omp.kind), ctx.omp.chunk);

  // Team start-up, measured apart from the work: the first region creates the threads.
  std::vector<std::pair<int, std::string>> worker_cpus;
  std::mutex m;
  int team = 0;
  const auto t_setup = Clock::now();
  RegionError error;
#pragma omp parallel num_threads(n)
  {
    try {
      const std::string cpus = affinity_cpus();
      std::lock_guard lk(m);
      worker_cpus.emplace_back(omp_get_thread_num(), cpus);
      team = omp_get_num_threads();
    } catch (...) {
      error.capture();
    }
  }
  error.rethrow();
  out.setup_s = seconds_between(t_setup, Clock::now());

  std::vector<std::vector<ImageRecord>> results(static_cast<std::size_t>(n));
  if (ctx.feed->on_demand()) {
    // Dynamic distribution: a loop per small batch would idle the team at every batch's end, so
    // each thread draws its own batches (one at a time: the draw may call MPI, which
    // MPI_THREAD_SERIALIZED allows from any thread). The loop schedule does not apply.
#pragma omp parallel num_threads(n)
    {
      const int w = omp_get_thread_num();
      try {
        while (!error.failed()) {
          std::vector<WorkItem> batch;
          bool drew = false;
          // No exception may leave an OpenMP structured block: catch inside the critical one.
#pragma omp critical(graybench_feed)
          {
            try {
              batch = ctx.feed->next_batch();
              drew = true;
            } catch (...) {
              error.capture();
            }
          }
          if (!drew || batch.empty()) break;
          const double now = seconds_between(ctx.origin, Clock::now());
          for (auto& item : batch) {
            if (error.failed()) break;
            item.available_s = now;
            results[static_cast<std::size_t>(w)].push_back(work_on(ctx, item, w));
          }
        }
      } catch (...) {
        error.capture();
      }
    }
    error.rethrow();
  }
  for (auto batch = ctx.feed->on_demand() ? std::vector<WorkItem>{} : ctx.feed->next_batch();
       !batch.empty(); batch = ctx.feed->next_batch()) {
    const double now = seconds_between(ctx.origin, Clock::now());
    for (auto& item : batch)
      item.available_s = now;
    const auto count = static_cast<long>(batch.size());
#pragma omp parallel for num_threads(n) schedule(runtime)
    for (long i = 0; i < count; ++i) {
      if (error.failed()) continue;  // a worksharing loop cannot break: skip what is left
      const int w = omp_get_thread_num();
      try {
        results[static_cast<std::size_t>(w)].push_back(
            work_on(ctx, batch[static_cast<std::size_t>(i)], w));
      } catch (...) {
        error.capture();
      }
    }
    error.rethrow();
  }
  for (auto& per_worker : results) {
    for (auto& r : per_worker)
      out.records.push_back(std::move(r));
  }
  out.worker_cpus = join_worker_cpus(std::move(worker_cpus));
  out.attrs.set("omp_schedule", ctx.feed->on_demand() ? "feed" : to_string(ctx.omp));
  out.attrs.set("omp_team_size", std::int64_t{team});
  out.attrs.set("omp_proc_bind", std::string(proc_bind_name(omp_get_proc_bind())));
  out.attrs.set("omp_num_places", std::int64_t{omp_get_num_places()});
  return out;
}

}  // namespace graybench
