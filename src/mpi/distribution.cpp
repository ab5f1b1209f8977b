#include "mpi/distribution.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <thread>

#include "core/wire.hpp"

namespace graybench {

std::vector<std::vector<std::uint64_t>> plan_static(Distribution policy, std::size_t n_files,
                                                    int ranks,
                                                    const std::vector<std::uint64_t>& estimates) {
  if (ranks < 1) throw std::invalid_argument("plan_static: ranks must be >= 1");
  const auto p = static_cast<std::uint64_t>(ranks);
  const std::uint64_t n = n_files;
  std::vector<std::vector<std::uint64_t>> plan(p);
  switch (policy) {
    case Distribution::kBlock: {
      // Contiguous slices; the first n % ranks ranks take one extra, so counts differ by <= 1.
      const std::uint64_t base = n / p, extra = n % p;
      std::uint64_t next = 0;
      for (std::uint64_t r = 0; r < p; ++r) {
        const std::uint64_t count = base + (r < extra ? 1 : 0);
        for (std::uint64_t k = 0; k < count; ++k)
          plan[r].push_back(next++);
      }
      break;
    }
    case Distribution::kCyclic:
      for (std::uint64_t i = 0; i < n; ++i)
        plan[i % p].push_back(i);
      break;
    case Distribution::kSize: {
      if (estimates.size() != n) throw std::invalid_argument("plan_static: one estimate per file");
      // Longest processing time first: biggest image to the least-loaded rank (ties: lower
      // index, lower rank), so one rank never gets all the large images.
      std::vector<std::uint64_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::uint64_t a, std::uint64_t b) {
        return estimates[a] > estimates[b];
      });
      using Load = std::pair<std::uint64_t, std::uint64_t>;  // (load, rank)
      std::priority_queue<Load, std::vector<Load>, std::greater<>> loads;
      for (std::uint64_t r = 0; r < p; ++r)
        loads.push({0, r});
      for (auto i : order) {
        auto [load, r] = loads.top();
        loads.pop();
        plan[r].push_back(i);
        loads.push({load + std::max<std::uint64_t>(estimates[i], 1), r});
      }
      for (auto& indices : plan)
        std::sort(indices.begin(), indices.end());
      break;
    }
    case Distribution::kDynamic:
      throw std::invalid_argument("plan_static: dynamic is not a static policy");
  }
  return plan;
}

namespace {

/// Where the next chunk starts: one counter shared by all ranks.
class ChunkCounter {
 public:
  virtual ~ChunkCounter() = default;
  /// Returns the counter's old value and adds `k`. Main thread only.
  virtual std::uint64_t fetch_add(std::uint64_t k) = 0;
  virtual void finish() {}
  /// This rank draws no more before the counter is exhausted.
  virtual void leave() {}
  virtual const char* mechanism() const = 0;
};

/// The counter in an MPI window on rank 0, advanced with MPI_Fetch_and_op in a passive-target
/// lock_all epoch: nobody serves requests, so rank 0 works like every other rank. Needs an
/// MPI transport with one-sided atomics (shared memory, UCX); try_create says when there is
/// none (Open MPI over plain TCP).
class RmaCounter final : public ChunkCounter {
 public:
  static std::unique_ptr<RmaCounter> try_create(const mpi::Comm& comm) {
    const MPI_Aint size = comm.rank() == 0 ? sizeof(std::uint64_t) : 0;
    void* base = nullptr;
    MPI_Win win = MPI_WIN_NULL;
    const int ok = MPI_Win_allocate(size, sizeof(std::uint64_t), MPI_INFO_NULL, comm.get(), &base,
                                    &win) == MPI_SUCCESS;
    int all_ok = 0;
    mpi::check(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm.get()), "MPI_Allreduce");
    if (!all_ok) {
      if (ok) throw std::runtime_error("MPI_Win_allocate failed on some ranks only");
      return nullptr;
    }
    return std::unique_ptr<RmaCounter>(new RmaCounter(comm, base, win));
  }
  ~RmaCounter() override {
    // MPI_Win_free is collective: while an exception unwinds on this rank alone the other ranks
    // never reach it, and calling it would hang the job instead of letting the exception reach
    // main, which ends the job with MPI_Abort. The window is left to that.
    if (std::uncaught_exceptions() > unwinding_) return;
    MPI_Win_unlock_all(win_);
    MPI_Win_free(&win_);
  }
  std::uint64_t fetch_add(std::uint64_t k) override {
    std::uint64_t old = 0;
    mpi::check(MPI_Fetch_and_op(&k, &old, MPI_UINT64_T, 0, 0, MPI_SUM, win_), "MPI_Fetch_and_op");
    mpi::check(MPI_Win_flush(0, win_), "MPI_Win_flush");
    return old;
  }
  const char* mechanism() const override { return "rma"; }

 private:
  RmaCounter(const mpi::Comm& comm, void* base, MPI_Win win) : win_(win) {
    MPI_Win_set_errhandler(win_, MPI_ERRORS_RETURN);
    if (comm.rank() == 0) *static_cast<std::uint64_t*>(base) = 0;
    comm.barrier();  // zero before anyone reads it
    mpi::check(MPI_Win_lock_all(MPI_MODE_NOCHECK, win_), "MPI_Win_lock_all");
  }
  MPI_Win win_ = MPI_WIN_NULL;
  int unwinding_ = std::uncaught_exceptions();  ///< exceptions in flight when made
};

/// Without one-sided atomics: the counter is a std::atomic on rank 0, whose main thread draws
/// from it directly while a dispatcher thread answers the other ranks' requests over a private
/// communicator. The dispatcher polls (MPI_Test, then a short sleep) rather than blocking in
/// MPI_Recv, which would spin a core away from rank 0's workers. It lives from rank 0's first
/// draw until every other rank has been told the run is exhausted, and rank 0's main thread
/// makes no MPI call meanwhile (MPI_THREAD_SERIALIZED).
class DispatcherCounter final : public ChunkCounter {
 public:
  DispatcherCounter(const mpi::Comm& comm, std::uint64_t n_items)
      : comm_(comm.dup()), n_(n_items) {}
  ~DispatcherCounter() override {
    // Destroyed by an exception on rank 0, the dispatcher would wait forever for requests from
    // ranks that are about to be aborted: tell it to stop polling, then join it.
    if (std::uncaught_exceptions() > unwinding_) abandon_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

  std::uint64_t fetch_add(std::uint64_t k) override {
    if (comm_.rank() == 0) {
      start_dispatcher();
      return next_.fetch_add(k);
    }
    mpi::check(MPI_Send(&k, 1, MPI_UINT64_T, 0, kRequest, comm_.get()), "MPI_Send(request)");
    std::uint64_t start = 0;
    mpi::check(MPI_Recv(&start, 1, MPI_UINT64_T, 0, kReply, comm_.get(), MPI_STATUS_IGNORE),
               "MPI_Recv(reply)");
    return start;
  }

  void leave() override {
    // The dispatcher counts the ranks it has yet to tell "exhausted": one that leaves early
    // says so instead (no reply), or rank 0 would wait for it forever.
    if (comm_.rank() == 0) return;
    const std::uint64_t k = kLeave;
    mpi::check(MPI_Send(&k, 1, MPI_UINT64_T, 0, kRequest, comm_.get()), "MPI_Send(leave)");
  }

  void finish() override {
    if (comm_.rank() != 0) return;
    start_dispatcher();  // rank 0 may have had nothing to draw: the others still need answers
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }
  const char* mechanism() const override { return "dispatcher"; }

 private:
  static constexpr int kRequest = 1;
  static constexpr int kReply = 2;
  static constexpr std::uint64_t kLeave = UINT64_MAX;  ///< request meaning "I draw no more"

  void start_dispatcher() {
    if (started_) return;
    started_ = true;
    thread_ = std::thread([this] {
      try {
        serve();
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }

  void serve() {
    int open = comm_.size() - 1;  // ranks not yet told that the run is exhausted
    while (open > 0) {
      std::uint64_t k = 0;
      MPI_Request req = MPI_REQUEST_NULL;
      MPI_Status status;
      mpi::check(MPI_Irecv(&k, 1, MPI_UINT64_T, MPI_ANY_SOURCE, kRequest, comm_.get(), &req),
                 "MPI_Irecv(request)");
      for (int done = 0;;) {
        mpi::check(MPI_Test(&req, &done, &status), "MPI_Test");
        if (done) break;
        // The pending receive is left to MPI_Abort, which follows.
        if (abandon_.load(std::memory_order_relaxed)) return;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      if (k == kLeave) {
        --open;
        continue;
      }
      const std::uint64_t start = next_.fetch_add(k);
      mpi::check(MPI_Send(&start, 1, MPI_UINT64_T, status.MPI_SOURCE, kReply, comm_.get()),
                 "MPI_Send(reply)");
      if (start >= n_) --open;
    }
  }

  mpi::Comm comm_;
  std::uint64_t n_;
  std::atomic<std::uint64_t> next_{0};
  bool started_ = false;
  std::thread thread_;
  std::exception_ptr error_;
  std::atomic<bool> abandon_{false};            ///< set when destroyed by an exception
  int unwinding_ = std::uncaught_exceptions();  ///< exceptions in flight when made
};

class DynamicFeed final : public WorkFeed {
 public:
  DynamicFeed(std::vector<InputFile> files, const mpi::Comm& comm, int chunk, CounterKind kind)
      : files_(std::move(files)), chunk_(static_cast<std::uint64_t>(chunk)) {
    if (kind != CounterKind::kDispatcher) counter_ = RmaCounter::try_create(comm);
    if (!counter_ && kind == CounterKind::kRma) {
      throw std::runtime_error(
          "--dynamic-counter rma: this MPI cannot allocate a one-sided window here (no RMA "
          "atomics on this transport); use auto or dispatcher");
    }
    if (!counter_) counter_ = std::make_unique<DispatcherCounter>(comm, files_.size());
  }

  std::vector<WorkItem> next_batch() override {
    test_failure_point(TestFailureSite::kFeed);
    std::vector<WorkItem> batch;
    if (exhausted_) return batch;
    const std::uint64_t start = counter_->fetch_add(chunk_);
    if (start >= files_.size()) {
      exhausted_ = true;
      return batch;
    }
    const std::uint64_t end = std::min<std::uint64_t>(start + chunk_, files_.size());
    for (std::uint64_t i = start; i < end; ++i) {
      WorkItem item;
      item.index = i;
      item.file = files_[i];
      batch.push_back(std::move(item));
    }
    return batch;
  }
  void finish() override { counter_->finish(); }
  void leave() override {
    if (exhausted_) return;
    exhausted_ = true;
    counter_->leave();
  }
  bool on_demand() const override { return true; }
  std::string mechanism() const override { return counter_->mechanism(); }

 private:
  std::vector<InputFile> files_;
  std::unique_ptr<ChunkCounter> counter_;
  std::uint64_t chunk_;
  bool exhausted_ = false;
};

}  // namespace

std::vector<WorkItem> distribute_static(Distribution policy, const std::vector<InputFile>& files,
                                        const mpi::Comm& comm,
                                        const std::vector<std::uint64_t>& estimates) {
  std::vector<std::vector<std::uint8_t>> parts;
  if (comm.rank() == 0) {
    for (const auto& indices : plan_static(policy, files.size(), comm.size(), estimates)) {
      WireWriter w;
      w.put<std::uint64_t>(indices.size());
      for (auto i : indices)
        put_item(w, i, files[i]);
      parts.push_back(w.take());
    }
  }
  const auto mine = comm.scatter(parts, 0);
  WireReader r(mine);
  std::vector<WorkItem> items(r.get<std::uint64_t>());
  for (auto& item : items)
    get(r, item);
  return items;
}

std::unique_ptr<WorkFeed> make_feed(Distribution policy, const std::vector<InputFile>& files,
                                    const mpi::Comm& comm, int chunk, CounterKind kind,
                                    const std::vector<std::uint64_t>& estimates) {
  if (policy != Distribution::kDynamic) {
    return std::make_unique<StaticFeed>(distribute_static(policy, files, comm, estimates));
  }
  if (chunk < 1) throw std::invalid_argument("make_feed: chunk must be >= 1");
  WireWriter w;
  if (comm.rank() == 0) {
    w.put<std::uint64_t>(files.size());
    for (std::size_t i = 0; i < files.size(); ++i)
      put_item(w, i, files[i]);
  }
  auto bytes = w.take();
  comm.bcast(bytes, 0);
  WireReader r(bytes);
  std::vector<InputFile> all(r.get<std::uint64_t>());
  for (auto& f : all) {
    WorkItem item;
    get(r, item);
    f = std::move(item.file);
  }
  return std::make_unique<DynamicFeed>(std::move(all), comm, chunk, kind);
}

}  // namespace graybench
