#include "app/run.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "app/progress.hpp"
#include "app/redistribute.hpp"
#include "core/posix.hpp"
#include "io/limits.hpp"
#include "io/page_cache.hpp"
#include "mpi/distribution.hpp"
#include "strategies/gil.hpp"
#include "strategies/strategy.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace {

/// What `processes` workers run: graybench-worker from this binary's directory (no MPI or HDF5
/// to load: it starts in ~10 ms instead of ~50), else this binary's own --worker-mode (a copy of
/// graybench without its worker beside it still runs every strategy).
std::string worker_executable() {
  const std::filesystem::path self = self_executable();
  const std::filesystem::path lean = self.parent_path() / "graybench-worker";
  return ::access(lean.c_str(), X_OK) == 0 ? lean.string() : self.string();
}

/// Stamps the rows with what only the caller knows and fills the rank row from them.
RankRecord rank_row(const mpi::Comm& comm, const RunSpec& spec, StrategyOutcome& outcome) {
  RankRecord rank;
  rank.rank = comm.rank();
  rank.host = hostname();
  rank.node = node_name();
  rank.n_images = outcome.records.size();
  rank.setup_s = outcome.setup_s;
  rank.teardown_s = outcome.teardown_s;
  rank.cpus = affinity_cpus();
  rank.worker_cpus = outcome.worker_cpus;
  for (auto& r : outcome.records) {
    r.rank = comm.rank();
    r.repeat = spec.repeat;
    if (r.status != ImageStatus::kOk) ++rank.n_failed;
  }
  return rank;
}

/// Largest images first within a static share where workers pull items from a queue, so the
/// run does not end with one big image on one core. OpenMP's static schedule cuts the list
/// into blocks instead: reordering would only unbalance them.
bool largest_first(const RunSpec& spec, const Config& config) {
  return spec.workers > 1 && config.distribution != Distribution::kDynamic &&
         (spec.strategy != Strategy::kOpenmp || config.omp.kind != OmpKind::kStatic);
}

}  // namespace

RankRun execute_on_rank(const RunSpec& spec, const Config& config, const mpi::Comm& comm,
                        const std::vector<InputFile>& files,
                        const std::vector<std::uint64_t>& estimates) {
  const auto t_dist = Clock::now();
  std::unique_ptr<WorkFeed> feed =
      make_feed(config.distribution, files, comm, config.chunk, config.dynamic_counter, estimates);
  const double distribute_s = seconds_between(t_dist, Clock::now());
  // The inputs this rank may read: its static share; under dynamic distribution only rank 0
  // holds the list, so it evicts them all (other nodes' caches stay as they are).
  std::vector<std::string> my_paths;
  if (const auto* items = feed->known_items()) {
    for (const auto& item : *items)
      my_paths.push_back(item.file.path);
  } else {
    for (const auto& f : files)
      my_paths.push_back(f.path);
  }
  // Cold cache: drop the inputs before every repetition (memory mode: before preloading them).
  if (config.cache == Cache::kCold) evict_from_page_cache(my_paths);
  const CacheResidency residency = page_cache_residency(my_paths);
  const std::uint64_t cache_pages = comm.sum(residency.pages);
  const std::uint64_t cache_resident = comm.sum(residency.resident);
  // A static share is known now (progress shows it); a dynamic one only at the end.
  std::uint64_t my_share = 0;
  if (auto* items = feed->known_items()) {
    my_share = items->size();
    if (largest_first(spec, config)) order_largest_first(*items);
    if (config.mode == Mode::kMemory) {
      for (auto& item : *items)
        preload(item, config.decoder, config.max_pixels);
    }
  }

  StrategyContext ctx;
  ctx.workers = spec.workers;
  ctx.work.output_dir = config.output_dir.value_or("");
  ctx.work.kernel_repeat = config.kernel_repeat;
  ctx.work.decoder = config.decoder;
  ctx.work.png_level = config.png_level;
  ctx.work.max_pixels = config.max_pixels;
  MemoryBudget budget(default_memory_budget());
  ctx.work.budget = &budget;
  const auto gil_interval =
      std::chrono::nanoseconds(static_cast<std::int64_t>(config.gil_interval_ms * 1e6));
  std::unique_ptr<Gil> gil;
  if (config.gil) {
    gil = std::make_unique<Gil>(gil_interval);
    ctx.work.gil = gil.get();
    ctx.gil_interval = gil_interval;
  }
  ctx.omp = config.omp;
  ctx.ipc = config.ipc;
  ctx.worker_exe = worker_executable();
  std::atomic<std::uint64_t> done{0};
  ctx.done = &done;
  ctx.feed = feed.get();
  ProgressSpec progress_spec;
  progress_spec.mode = comm.rank() == 0 && !spec.warmup ? config.progress : ProgressMode::kNone;
  progress_spec.label = std::string(name_of(spec.strategy)) + " w=" + std::to_string(spec.workers) +
                        " #" + std::to_string(spec.repeat);
  progress_spec.run = spec.run;
  progress_spec.runs = spec.runs;
  progress_spec.total = files.size();  // rank 0 holds the list; only rank 0 shows progress
  progress_spec.share = my_share;
  progress_spec.ranks = comm.size();
  progress_spec.log_interval_s = config.progress_interval_s;

  // LULESH's pattern: barrier, common start, work, barrier; the headline is the max over ranks.
  RankRun out;
  comm.barrier();
  out.started = std::chrono::system_clock::now();
  const auto usage0 = ResourceUsage::now();
  ctx.origin = Clock::now();
  StrategyOutcome outcome;
  {
    Progress progress(progress_spec, &done, ctx.origin);
    outcome = strategy_info(spec.strategy).run(ctx);
  }
  const auto t_compute = Clock::now();
  feed->finish();  // rank 0's dispatcher, if any, answers every rank: waiting here is idle time
  std::uint64_t redistributed = 0;
  if (config.distribution == Distribution::kDynamic) {
    // Images a rank could not run (its worker processes ran out) go to the ranks that can.
    redistributed = redistribute_returned(ctx, spec.strategy, outcome, comm);
  }
  comm.barrier();
  const auto t_end = Clock::now();
  out.finished = std::chrono::system_clock::now();
  out.mechanism = feed->mechanism();
  out.cache_resident_fraction =
      cache_pages ? static_cast<double>(cache_resident) / static_cast<double>(cache_pages) : -1.0;
  feed.reset();  // collective for a dynamic feed: frees its MPI window on every rank
  const auto usage1 = ResourceUsage::now();

  out.rank = rank_row(comm, spec, outcome);
  out.rank.wall_s = seconds_between(ctx.origin, t_end);
  // The last image done, not the strategy's return: joins and reaping are teardown_s.
  out.rank.compute_s = 0;
  for (const auto& r : outcome.records)
    out.rank.compute_s = std::max(out.rank.compute_s, r.t_end);
  if (outcome.records.empty()) out.rank.compute_s = seconds_between(ctx.origin, t_compute);
  out.rank.idle_s = seconds_between(t_compute, t_end);
  out.rank.distribute_s = distribute_s;
  out.rank.user_s = usage1.user_s - usage0.user_s;
  out.rank.sys_s = usage1.sys_s - usage0.sys_s;
  out.rank.max_rss_kb = usage1.max_rss_kb;
  out.images = std::move(outcome.records);
  out.strategy_attrs = std::move(outcome.attrs);
  // Collective: the memory budget as the ranks saw it.
  const double budget_bytes = comm.max(static_cast<double>(budget.capacity()));
  const double budget_waits = comm.max(static_cast<double>(budget.waits()));
  out.strategy_attrs.set("memory_budget_bytes", static_cast<std::int64_t>(budget_bytes));
  out.strategy_attrs.set("memory_budget_waits", static_cast<std::int64_t>(budget_waits));
  out.strategy_attrs.set("images_redistributed", static_cast<std::int64_t>(redistributed));
  out.strategy_attrs.set("item_order",
                         std::string(largest_first(spec, config) ? "largest_first" : "listed"));
  if (gil) out.gil_switches = static_cast<std::int64_t>(gil->switches());
  return out;
}

GatheredRun gather_run(RankRun& mine, const mpi::Comm& comm) {
  const auto t_gather = Clock::now();
  WireWriter w;
  w.put<std::uint64_t>(mine.images.size());
  for (const auto& r : mine.images)
    put(w, r);
  const auto parts = comm.gather(w.buffer(), 0);
  mine.rank.gather_s = seconds_between(t_gather, Clock::now());
  WireWriter rw;
  put(rw, mine.rank);
  const auto rank_parts = comm.gather(rw.buffer(), 0);

  GatheredRun out;
  out.wall_s = comm.max(mine.rank.wall_s);
  if (comm.rank() != 0) return out;
  for (const auto& p : parts) {
    WireReader r(p);
    const auto n = r.get<std::uint64_t>();
    for (std::uint64_t k = 0; k < n; ++k)
      get(r, out.images.emplace_back());
  }
  for (const auto& p : rank_parts) {
    WireReader r(p);
    get(r, out.ranks.emplace_back());
  }
  return out;
}

RunResult assemble_run(const RunSpec& spec, const RankRun& root, GatheredRun gathered,
                       std::size_t n_inputs) {
  RunResult run;
  run.images = std::move(gathered.images);
  run.ranks = std::move(gathered.ranks);
  std::stable_sort(run.images.begin(), run.images.end(),
                   [](const ImageRecord& a, const ImageRecord& b) { return a.image < b.image; });
  double setup = 0, teardown = 0, distribute = 0, gather = 0;
  for (const auto& r : run.ranks) {
    setup = std::max(setup, r.setup_s);
    teardown = std::max(teardown, r.teardown_s);
    distribute = std::max(distribute, r.distribute_s);
    gather = std::max(gather, r.gather_s);
  }
  std::int64_t failed = 0, not_processed = 0;
  std::uint64_t pixels = 0;
  for (const auto& r : run.images) {
    const bool skipped = r.status == ImageStatus::kNotProcessed;
    not_processed += skipped;
    failed += r.status != ImageStatus::kOk && !skipped;
    pixels += static_cast<std::uint64_t>(r.width) * r.height;
  }
  const bool complete = run.images.size() == n_inputs && not_processed == 0;

  run.attrs.set("strategy", std::string(name_of(spec.strategy)));
  run.attrs.set("workers", std::int64_t{spec.workers});
  run.attrs.set("repeat", std::int64_t{spec.repeat});
  run.attrs.set("started", iso8601_utc(root.started));
  run.attrs.set("finished", iso8601_utc(root.finished));
  run.attrs.set("wall_s", gathered.wall_s);
  run.attrs.set("n_images", static_cast<std::int64_t>(n_inputs));
  run.attrs.set("n_failed", failed);
  run.attrs.set("n_not_processed", not_processed);
  run.attrs.set("status", std::string(complete ? "complete" : "incomplete"));
  run.attrs.set("setup_s", setup);
  run.attrs.set("teardown_s", teardown);
  run.attrs.set("distribute_s", distribute);
  run.attrs.set("gather_s", gather);
  run.attrs.set("total_pixels", static_cast<std::int64_t>(pixels));
  if (root.gil_switches >= 0) run.attrs.set("gil_switches", root.gil_switches);
  run.attrs.set("distribution_mechanism", root.mechanism);
  run.attrs.set("cache_resident_fraction", root.cache_resident_fraction);
  for (const auto& [k, v] : root.strategy_attrs.items())
    run.attrs.set(k, v);
  return run;
}

}  // namespace graybench
