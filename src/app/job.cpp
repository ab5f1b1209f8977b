#include "app/job.hpp"

#include <hdf5.h>
#include <algorithm>
#include <climits>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "app/progress.hpp"
#include "app/redistribute.hpp"
#include "common/cancel.hpp"
#include "common/posix.hpp"
#include "common/wire.hpp"
#include "h5/results.hpp"
#include "io/file.hpp"
#include "io/limits.hpp"
#include "io/listing.hpp"
#include "mpi/distribution.hpp"
#include "strategies/gil.hpp"
#include "timing/build_info.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace {

/// One measured or warm-up execution of a strategy with a worker count.
struct RunSpec {
  Strategy strategy;
  int workers;
  int repeat;
  bool warmup;
};

/// Rank 0 lists the inputs and checks the results file; every rank learns the outcome, so a
/// usage error ends all ranks the same way.
std::vector<InputFile> list_on_root(const Config& config, const mpi::Comm& comm) {
  std::vector<InputFile> files;
  WireWriter w;
  if (comm.rank() == 0) {
    try {
      check_results_target(config.results);
      files = list_inputs(config.inputs, config.lists, config.output_dir, config.results).files;
      w.put<std::uint8_t>(0);
      w.put<std::uint64_t>(files.size());
    } catch (const UsageError& e) {
      w.put<std::uint8_t>(1);
      w.put_string(e.what());
    }
  }
  auto bytes = w.take();
  comm.bcast(bytes, 0);
  WireReader r(bytes);
  if (r.get<std::uint8_t>() != 0) throw UsageError(r.get_string());
  return files;  // only rank 0 holds the list; distribution sends each rank its share
}

std::vector<RunSpec> plan_sweep(const Config& config) {
  std::vector<RunSpec> plan;
  std::vector<Strategy> seen;
  for (Strategy s : config.strategies) {
    if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
    seen.push_back(s);
    std::vector<int> workers = config.workers;
    if (!strategy_info(s).parallel) workers = {1};
    std::vector<int> done;
    for (int w : workers) {
      if (std::find(done.begin(), done.end(), w) != done.end()) continue;
      done.push_back(w);
      for (int k = 0; k < config.warmup; ++k)
        plan.push_back({s, w, k, true});
      for (int k = 0; k < config.repeat; ++k)
        plan.push_back({s, w, k, false});
    }
  }
  return plan;
}

/// Where the ranks run: enough to tell when workers outnumber the CPUs they may use.
struct Placement {
  int min_rank_cpus = 1;       ///< smallest CPU affinity set of any rank
  int max_ranks_per_node = 1;  ///< most ranks sharing one host
  int node_cpus = 1;           ///< online CPUs of that busiest host
  std::string busiest_host;
  std::vector<std::string> hosts;  ///< host of each rank, by rank
};

/// Collective: every rank reports its host and affinity; rank 0 gets the placement.
Placement placement(const mpi::Comm& comm) {
  WireWriter w;
  int mine = 0;
  affinity_cpus(&mine);
  w.put_string(hostname());
  w.put<std::int32_t>(mine);
  w.put<std::int32_t>(online_cpus());
  Placement p;
  const auto parts = comm.gather(w.buffer(), 0);
  if (comm.rank() != 0) return p;
  std::map<std::string, std::pair<int, int>> per_host;  // host -> (ranks, online cpus)
  p.min_rank_cpus = INT32_MAX;
  for (const auto& part : parts) {
    WireReader r(part);
    const std::string host = r.get_string();
    p.hosts.push_back(host);
    p.min_rank_cpus = std::min(p.min_rank_cpus, static_cast<int>(r.get<std::int32_t>()));
    auto& entry = per_host[host];
    ++entry.first;
    entry.second = r.get<std::int32_t>();
  }
  p.max_ranks_per_node = 0;
  for (const auto& [host, e] : per_host) {
    if (e.first > p.max_ranks_per_node) {
      p.max_ranks_per_node = e.first;
      p.node_cpus = e.second;
      p.busiest_host = host;
    }
  }
  return p;
}

/// Why `workers` per rank oversubscribe the CPUs, or "" when they fit.
std::string oversubscription(const Placement& p, int workers) {
  if (workers > p.min_rank_cpus) {
    return std::to_string(workers) + " workers per rank but a rank may use only " +
           std::to_string(p.min_rank_cpus) +
           " CPU(s) (its affinity): workers share cores; with mpirun try --bind-to none or "
           "--map-by slot:PE=" +
           std::to_string(workers);
  }
  if (p.max_ranks_per_node * workers > p.node_cpus) {
    return std::to_string(p.max_ranks_per_node) + " ranks x " + std::to_string(workers) +
           " workers on " + p.busiest_host + " exceed its " + std::to_string(p.node_cpus) +
           " CPUs: workers share cores";
  }
  return "";
}

/// Attributes that are the same for every run of this invocation.
Attributes job_attributes(const Config& config, const mpi::Comm& comm,
                          const std::vector<InputFile>& files, const Placement& where) {
  const auto& hosts = where.hosts;
  std::vector<std::string> unique_hosts = hosts;
  std::sort(unique_hosts.begin(), unique_hosts.end());
  unique_hosts.erase(std::unique(unique_hosts.begin(), unique_hosts.end()), unique_hosts.end());
  std::string host_list;
  for (const auto& h : unique_hosts)
    host_list += (host_list.empty() ? "" : ",") + h;

  std::uint64_t total_bytes = 0;
  for (const auto& f : files)
    total_bytes += f.size;
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);

  Attributes a;
  a.set("ranks", std::int64_t{comm.size()});
  a.set("nodes", static_cast<std::int64_t>(unique_hosts.size()));
  a.set("hosts", host_list);
  a.set("hostname", hosts.empty() ? hostname() : hosts.front());
  a.set("command_line", config.command_line);
  a.set("graybench_version", std::string(version()));
  a.set("git_revision", std::string(git_revision()));
  a.set("compiler", std::string(compiler()));
  a.set("compiler_flags", std::string(compiler_flags()));
  a.set("build_type", std::string(build_type()));
  a.set("mpi_library", mpi::library_version());
  a.set("hdf5_version",
        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  a.set("cpu_model", cpu_model());
  a.set("cpus_online", std::int64_t{online_cpus()});
  a.set("cores_physical", std::int64_t{physical_cores()});
  a.set("chunk", std::int64_t{config.chunk});
  a.set("distribution", std::string(to_string(config.distribution)));
  a.set("workers_source", config.workers_source);
  a.set("mode", std::string(to_string(config.mode)));
  a.set("kernel_repeat", std::int64_t{config.kernel_repeat});
  a.set("max_pixels", static_cast<std::int64_t>(config.max_pixels));
  a.set("gil", std::int64_t{config.gil ? 1 : 0});
  a.set("gil_interval_s", config.gil_interval_ms / 1000.0);
  a.set("ipc", std::string(to_string(config.ipc)));
  a.set("omp_schedule", to_string(config.omp));
  for (const auto& [name, value] : environment_with_prefix("OMP_"))
    a.set("env_" + name, value);
  for (const auto& [name, value] : environment_with_prefix("SLURM_"))
    a.set("env_" + name, value);
  a.set("output_dir", config.output_dir.value_or(""));
  a.set("input_fingerprint", fingerprint(files));
  a.set("total_bytes_in", static_cast<std::int64_t>(total_bytes));
  return a;
}

/// Executes one run on every rank; rank 0 returns the gathered result.
RunResult execute(const RunSpec& spec, const Config& config, const mpi::Comm& comm,
                  const std::vector<InputFile>& files) {
  const auto t_dist = Clock::now();
  std::unique_ptr<WorkFeed> feed =
      make_feed(config.distribution, files, comm, config.chunk, config.dynamic_counter);
  const double distribute_s = seconds_between(t_dist, Clock::now());
  // A static share is known now (progress shows it); a dynamic one only at the end.
  std::uint64_t my_share = 0;
  if (auto* share = dynamic_cast<StaticFeed*>(feed.get())) {
    my_share = share->items().size();
    if (config.mode == Config::Mode::kMemory) {
      for (auto& item : share->items())
        preload(item, config.max_pixels);
    }
  }

  StrategyContext ctx;
  ctx.workers = spec.workers;
  ctx.work.output_dir = config.output_dir.value_or("");
  ctx.work.kernel_repeat = config.kernel_repeat;
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
  ctx.worker_exe = self_executable();
  std::atomic<std::uint64_t> done{0};
  ctx.done = &done;
  ctx.feed = feed.get();
  const bool show_progress = comm.rank() == 0 && !config.quiet && !spec.warmup;

  // LULESH's pattern: barrier, common start, work, barrier; the headline is the max over ranks.
  comm.barrier();
  const auto started = std::chrono::system_clock::now();
  const auto usage0 = ResourceUsage::now();
  ctx.origin = Clock::now();
  StrategyOutcome outcome;
  {
    Progress progress(show_progress,
                      std::string(strategy_info(spec.strategy).name) +
                          " w=" + std::to_string(spec.workers) + " #" + std::to_string(spec.repeat),
                      &done, my_share, ctx.origin);
    outcome = strategy_info(spec.strategy).run(ctx);
  }
  const auto t_compute = Clock::now();
  feed->finish();  // rank 0's dispatcher, if any, answers every rank: waiting here is idle time
  std::uint64_t redistributed = 0;
  if (config.distribution == Distribution::kDynamic) {
    redistributed = redistribute_returned(ctx, spec.strategy, outcome, comm);
  }
  comm.barrier();
  const auto t_end = Clock::now();
  const auto finished = std::chrono::system_clock::now();
  const std::string mechanism = feed->mechanism();
  feed.reset();  // collective for a dynamic feed: frees its MPI window on every rank
  const auto usage1 = ResourceUsage::now();

  RankRecord rank;
  rank.rank = comm.rank();
  rank.host = hostname();
  rank.n_images = outcome.records.size();
  rank.wall_s = seconds_between(ctx.origin, t_end);
  // The last image done, not the strategy's return: joins and reaping are teardown_s.
  rank.compute_s = 0;
  for (const auto& r : outcome.records)
    rank.compute_s = std::max(rank.compute_s, r.t_end);
  if (outcome.records.empty()) rank.compute_s = seconds_between(ctx.origin, t_compute);
  rank.idle_s = seconds_between(t_compute, t_end);
  rank.distribute_s = distribute_s;
  rank.setup_s = outcome.setup_s;
  rank.teardown_s = outcome.teardown_s;
  rank.user_s = usage1.user_s - usage0.user_s;
  rank.sys_s = usage1.sys_s - usage0.sys_s;
  rank.max_rss_kb = usage1.max_rss_kb;
  rank.cpus = affinity_cpus();
  rank.worker_cpus = outcome.worker_cpus;
  for (auto& r : outcome.records) {
    r.rank = comm.rank();
    r.repeat = spec.repeat;
    if (r.status != 0) ++rank.n_failed;
  }

  const auto t_gather = Clock::now();
  WireWriter w;
  w.put<std::uint64_t>(outcome.records.size());
  for (const auto& r : outcome.records)
    put(w, r);
  auto parts = comm.gather(w.buffer(), 0);
  rank.gather_s = seconds_between(t_gather, Clock::now());
  WireWriter rw;
  put(rw, rank);
  auto rank_parts = comm.gather(rw.buffer(), 0);
  const double wall_s = comm.max(rank.wall_s);
  const double budget_waits = comm.max(static_cast<double>(budget.waits()));
  const double budget_bytes = comm.max(static_cast<double>(budget.capacity()));

  RunResult run;
  if (comm.rank() != 0) return run;
  for (const auto& p : parts) {
    WireReader r(p);
    const auto n = r.get<std::uint64_t>();
    for (std::uint64_t k = 0; k < n; ++k)
      get(r, run.images.emplace_back());
  }
  std::stable_sort(run.images.begin(), run.images.end(),
                   [](const ImageRecord& a, const ImageRecord& b) { return a.image < b.image; });
  double setup = 0, teardown = 0, distribute = 0, gather = 0;
  for (const auto& p : rank_parts) {
    WireReader r(p);
    get(r, run.ranks.emplace_back());
    setup = std::max(setup, run.ranks.back().setup_s);
    teardown = std::max(teardown, run.ranks.back().teardown_s);
    distribute = std::max(distribute, run.ranks.back().distribute_s);
    gather = std::max(gather, run.ranks.back().gather_s);
  }
  std::int64_t failed = 0, not_processed = 0;
  std::uint64_t pixels = 0;
  for (const auto& r : run.images) {
    const bool skipped = r.status == static_cast<std::int32_t>(ImageStatus::kNotProcessed);
    not_processed += skipped;
    failed += r.status != 0 && !skipped;
    pixels += static_cast<std::uint64_t>(r.width) * r.height;
  }
  const bool complete =
      run.images.size() == files.size() &&
      std::none_of(run.images.begin(), run.images.end(), [](const ImageRecord& r) {
        return r.status == static_cast<std::int32_t>(ImageStatus::kNotProcessed);
      });

  run.attrs.set("strategy", std::string(strategy_info(spec.strategy).name));
  run.attrs.set("workers", std::int64_t{spec.workers});
  run.attrs.set("repeat", std::int64_t{spec.repeat});
  run.attrs.set("started", iso8601_utc(started));
  run.attrs.set("finished", iso8601_utc(finished));
  run.attrs.set("wall_s", wall_s);
  run.attrs.set("n_images", static_cast<std::int64_t>(files.size()));
  run.attrs.set("n_failed", failed);
  run.attrs.set("n_not_processed", not_processed);
  run.attrs.set("status", std::string(complete ? "complete" : "incomplete"));
  run.attrs.set("setup_s", setup);
  run.attrs.set("teardown_s", teardown);
  run.attrs.set("distribute_s", distribute);
  run.attrs.set("gather_s", gather);
  run.attrs.set("total_pixels", static_cast<std::int64_t>(pixels));
  if (gil) run.attrs.set("gil_switches", static_cast<std::int64_t>(gil->switches()));
  run.attrs.set("distribution_mechanism", mechanism);
  run.attrs.set("memory_budget_bytes", static_cast<std::int64_t>(budget_bytes));
  run.attrs.set("memory_budget_waits", static_cast<std::int64_t>(budget_waits));
  run.attrs.set("images_redistributed", static_cast<std::int64_t>(redistributed));
  for (const auto& [k, v] : outcome.attrs.items())
    run.attrs.set(k, v);
  return run;
}

}  // namespace

ExitCode run_job(const Config& config, const mpi::Comm& comm, std::ostream& out) {
  const std::vector<InputFile> files = list_on_root(config, comm);
  const Placement where = placement(comm);
  const Attributes common = job_attributes(config, comm, files, where);
  bool any_failed = false;
  std::set<std::pair<Strategy, int>> warned;

  // Rank 0 appends a measured run to the results file and prints its summary line.
  auto save = [&](RunResult& run, const RunSpec& spec) {
    for (const auto& [k, v] : common.items())
      run.attrs.set(k, v);
    const int effective = strategy_info(spec.strategy).parallel ? spec.workers : 1;
    run.attrs.set("total_workers", std::int64_t{effective} * comm.size());
    const std::string over = oversubscription(where, effective);
    run.attrs.set("oversubscribed", std::int64_t{over.empty() ? 0 : 1});
    run.attrs.set("oversubscription", over);
    if (!over.empty() && !config.quiet && warned.insert({spec.strategy, spec.workers}).second) {
      std::cerr << "graybench: warning: " << strategy_info(spec.strategy).name << ": " << over
                << "\n";
    }
    const auto t_save = Clock::now();
    const auto names = append_runs(config.results, files, {run});
    const double save_s = seconds_between(t_save, Clock::now());
    const auto failed = run.attrs.integer("n_failed");
    any_failed = any_failed || failed > 0;
    if (!config.quiet) {
      const double wall = run.attrs.real("wall_s");
      char line[256];
      std::snprintf(line, sizeof line,
                    "%s  %-10s workers=%-3d ranks=%-3d repeat=%-2d wall=%9.3f s  %9.1f images/s  "
                    "failed=%lld  gather=%.3f s  save=%.3f s  rss=%.0f MiB\n",
                    names.front().c_str(), run.attrs.str("strategy").c_str(), spec.workers,
                    comm.size(), spec.repeat, wall, wall > 0 ? files.size() / wall : 0.0,
                    static_cast<long long>(failed), run.attrs.real("gather_s"), save_s,
                    ResourceUsage::now().max_rss_kb / 1024.0);
      out << line << std::flush;
    }
  };

  bool interrupted = false, in_warmup = false;
  int saved = 0;
  for (const RunSpec& spec : plan_sweep(config)) {
    RunResult run = execute(spec, config, comm, files);
    // Every rank learns whether any rank was asked to stop, so all leave the sweep together.
    interrupted = comm.max(stop_requested() ? 1.0 : 0.0) > 0.0;
    if (comm.rank() == 0 && !spec.warmup) {
      save(run, spec);
      ++saved;
    }
    if (interrupted) {
      in_warmup = spec.warmup;
      break;
    }
  }
  if (comm.rank() == 0 && !config.quiet && saved > 0) out << "results: " << config.results << "\n";
  if (interrupted) {
    if (comm.rank() == 0) {
      // Say what is true: a warm-up run is never saved, and it may be all there was.
      std::string what;
      if (saved == 0) {
        what = in_warmup ? "during a warm-up run, before any measured run: nothing was saved"
                         : "nothing was saved";
      } else {
        what = std::to_string(saved) + " measured run(s) saved in " + config.results +
               (in_warmup ? " (the warm-up run that was interrupted is not saved)"
                          : ", the last one as incomplete");
      }
      std::cerr << "graybench: interrupted"
                << (stop_signal() ? " by signal " + std::to_string(stop_signal()) : std::string())
                << ": " << what << "\n";
    }
    return ExitCode::kInterrupted;
  }
  // Every rank returns the same code: rank 0 decides.
  std::vector<std::uint8_t> code{static_cast<std::uint8_t>(any_failed ? 1 : 0)};
  comm.bcast(code, 0);
  return code[0] ? ExitCode::kImagesFailed : ExitCode::kOk;
}

}  // namespace graybench
