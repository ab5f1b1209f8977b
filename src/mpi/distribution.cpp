#include "mpi/distribution.hpp"

#include <algorithm>
#include <numeric>
#include <queue>
#include <stdexcept>

#include "common/wire.hpp"
#include "io/codec.hpp"

namespace graybench {

std::optional<Distribution> parse_distribution(std::string_view name) {
  if (name == "block") return Distribution::kBlock;
  if (name == "cyclic") return Distribution::kCyclic;
  if (name == "size") return Distribution::kSize;
  if (name == "dynamic") return Distribution::kDynamic;
  return std::nullopt;
}

std::string_view to_string(Distribution d) {
  switch (d) {
    case Distribution::kBlock: return "block";
    case Distribution::kCyclic: return "cyclic";
    case Distribution::kSize: return "size";
    case Distribution::kDynamic: return "dynamic";
  }
  return "?";
}

std::string_view distribution_names() { return "block, cyclic, size, dynamic"; }

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
        for (std::uint64_t k = 0; k < count; ++k) plan[r].push_back(next++);
      }
      break;
    }
    case Distribution::kCyclic:
      for (std::uint64_t i = 0; i < n; ++i) plan[i % p].push_back(i);
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
      for (std::uint64_t r = 0; r < p; ++r) loads.push({0, r});
      for (auto i : order) {
        auto [load, r] = loads.top();
        loads.pop();
        plan[r].push_back(i);
        loads.push({load + std::max<std::uint64_t>(estimates[i], 1), r});
      }
      for (auto& indices : plan) std::sort(indices.begin(), indices.end());
      break;
    }
    case Distribution::kDynamic:
      throw std::invalid_argument("plan_static: dynamic is not a static policy");
  }
  return plan;
}

std::vector<std::uint64_t> work_estimates(const std::vector<InputFile>& files) {
  std::vector<std::uint64_t> out;
  out.reserve(files.size());
  for (const auto& f : files) out.push_back(probe_pixels(f.path).value_or(f.size));
  return out;
}

namespace {

void put_item(WireWriter& w, std::uint64_t index, const InputFile& f) {
  w.put(index);
  w.put_string(f.path);
  w.put(f.size);
  w.put_string(f.output_rel);
}

WorkItem get_item(WireReader& r) {
  WorkItem item;
  item.index = r.get<std::uint64_t>();
  item.file.path = r.get_string();
  item.file.size = r.get<std::uint64_t>();
  item.file.output_rel = r.get_string();
  return item;
}

/// A shared counter in an MPI window on rank 0, advanced with MPI_Fetch_and_op under a
/// passive-target lock_all epoch: no rank has to serve requests, so rank 0 works like the rest.
class AtomicCounter {
 public:
  explicit AtomicCounter(const mpi::Comm& comm) : comm_(comm) {
    const MPI_Aint size = comm.rank() == 0 ? sizeof(std::uint64_t) : 0;
    mpi::check(MPI_Win_allocate(size, sizeof(std::uint64_t), MPI_INFO_NULL, comm.get(), &base_, &win_),
               "MPI_Win_allocate");
    if (comm.rank() == 0) *static_cast<std::uint64_t*>(base_) = 0;
    comm.barrier();  // the counter is zero before anyone reads it
    mpi::check(MPI_Win_lock_all(0, win_), "MPI_Win_lock_all");
  }
  ~AtomicCounter() {
    MPI_Win_unlock_all(win_);
    MPI_Win_free(&win_);
  }
  AtomicCounter(const AtomicCounter&) = delete;
  AtomicCounter& operator=(const AtomicCounter&) = delete;

  std::uint64_t fetch_add(std::uint64_t k) {
    std::uint64_t old = 0;
    mpi::check(MPI_Fetch_and_op(&k, &old, MPI_UINT64_T, 0, 0, MPI_SUM, win_), "MPI_Fetch_and_op");
    mpi::check(MPI_Win_flush(0, win_), "MPI_Win_flush");
    return old;
  }

 private:
  const mpi::Comm& comm_;
  void* base_ = nullptr;
  MPI_Win win_ = MPI_WIN_NULL;
};

class DynamicFeed final : public WorkFeed {
 public:
  DynamicFeed(std::vector<InputFile> files, const mpi::Comm& comm, int chunk)
      : files_(std::move(files)), counter_(comm), chunk_(static_cast<std::uint64_t>(chunk)) {}

  std::vector<WorkItem> next_batch() override {
    std::vector<WorkItem> batch;
    if (exhausted_) return batch;
    const std::uint64_t start = counter_.fetch_add(chunk_);
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

 private:
  std::vector<InputFile> files_;
  AtomicCounter counter_;
  std::uint64_t chunk_;
  bool exhausted_ = false;
};

}  // namespace

std::vector<WorkItem> distribute_static(Distribution policy, const std::vector<InputFile>& files,
                                        const mpi::Comm& comm) {
  std::vector<std::vector<std::uint8_t>> parts;
  if (comm.rank() == 0) {
    const auto estimates = policy == Distribution::kSize ? work_estimates(files) : std::vector<std::uint64_t>{};
    for (const auto& indices : plan_static(policy, files.size(), comm.size(), estimates)) {
      WireWriter w;
      w.put<std::uint64_t>(indices.size());
      for (auto i : indices) put_item(w, i, files[i]);
      parts.push_back(w.take());
    }
  }
  const auto mine = comm.scatter(parts, 0);
  WireReader r(mine);
  std::vector<WorkItem> items(r.get<std::uint64_t>());
  for (auto& item : items) item = get_item(r);
  return items;
}

std::unique_ptr<WorkFeed> make_feed(Distribution policy, const std::vector<InputFile>& files,
                                    const mpi::Comm& comm, int chunk) {
  if (policy != Distribution::kDynamic) {
    return std::make_unique<StaticFeed>(distribute_static(policy, files, comm));
  }
  if (chunk < 1) throw std::invalid_argument("make_feed: chunk must be >= 1");
  WireWriter w;
  if (comm.rank() == 0) {
    w.put<std::uint64_t>(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) put_item(w, i, files[i]);
  }
  auto bytes = w.take();
  comm.bcast(bytes, 0);
  WireReader r(bytes);
  std::vector<InputFile> all(r.get<std::uint64_t>());
  for (auto& f : all) f = get_item(r).file;
  return std::make_unique<DynamicFeed>(std::move(all), comm, chunk);
}

}  // namespace graybench
