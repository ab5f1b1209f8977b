#include "app/job.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <thread>

#include "app/preflight.hpp"
#include "app/run.hpp"
#include "core/allocator.hpp"
#include "core/cancel.hpp"
#include "core/posix.hpp"
#include "core/wire.hpp"
#include "h5/results.hpp"
#include "h5/store.hpp"
#include "io/codec.hpp"
#include "io/listing.hpp"
#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"
#include "strategies/strategy.hpp"
#include "timing/build_info.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace {

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
  // Progress says "run k of n" over the measured runs.
  int measured = 0;
  for (const auto& spec : plan)
    measured += spec.warmup ? 0 : 1;
  int index = 0;
  for (auto& spec : plan) {
    spec.run = spec.warmup ? 0 : ++index;
    spec.runs = measured;
  }
  return plan;
}

/// Where the ranks run: enough to tell when workers outnumber the CPUs they may use.
struct Placement {
  int min_rank_cpus = 1;           ///< smallest CPU affinity set of any rank
  int max_ranks_per_node = 1;      ///< most ranks sharing one host
  int node_cpus = 1;               ///< online CPUs of that busiest host
  std::string busiest_host;        ///< the node with the most ranks (scheduler node name)
  std::vector<std::string> hosts;  ///< host of each rank, by rank
  std::vector<std::string> nodes;  ///< node name of each rank (SLURMD_NODENAME, else host)
};

/// Collective: every rank reports its host and affinity; rank 0 gets the placement.
Placement placement(const mpi::Comm& comm) {
  WireWriter w;
  int mine = 0;
  affinity_cpus(&mine);
  w.put_string(hostname());
  w.put_string(node_name());
  w.put<std::int32_t>(mine);
  w.put<std::int32_t>(online_cpus());
  Placement p;
  const auto parts = comm.gather(w.buffer(), 0);
  if (comm.rank() != 0) return p;
  // Ranks per node count by node name: virtual or containerised nodes may share a host name.
  std::map<std::string, std::pair<int, int>> per_host;  // node -> (ranks, online cpus)
  p.min_rank_cpus = INT32_MAX;
  for (const auto& part : parts) {
    WireReader r(part);
    p.hosts.push_back(r.get_string());
    const std::string node = r.get_string();
    p.nodes.push_back(node);
    p.min_rank_cpus = std::min(p.min_rank_cpus, static_cast<int>(r.get<std::int32_t>()));
    auto& entry = per_host[node];
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
  std::vector<std::string> unique_nodes = where.nodes;
  std::sort(unique_nodes.begin(), unique_nodes.end());
  unique_nodes.erase(std::unique(unique_nodes.begin(), unique_nodes.end()), unique_nodes.end());
  std::string node_list;
  for (const auto& n : unique_nodes)
    node_list += (node_list.empty() ? "" : ",") + n;
  const char* job_id = std::getenv("SLURM_JOB_ID");
  const char* step_id = std::getenv("SLURM_STEP_ID");

  std::uint64_t total_bytes = 0;
  for (const auto& f : files)
    total_bytes += f.size;

  Attributes a;
  a.set("ranks", std::int64_t{comm.size()});
  a.set("nodes", static_cast<std::int64_t>(unique_nodes.empty() ? 1 : unique_nodes.size()));
  a.set("node_names", node_list);
  a.set("ranks_per_node", std::int64_t{where.max_ranks_per_node});
  a.set("hosts", host_list);
  a.set("slurm_job_id", std::string(job_id ? job_id : ""));
  a.set("slurm_step_id", std::string(step_id ? step_id : ""));
  a.set("hostname", hosts.empty() ? hostname() : hosts.front());
  a.set("command_line", config.command_line);
  a.set("graybench_version", std::string(version()));
  a.set("git_revision", std::string(git_revision()));
  a.set("compiler", std::string(compiler()));
  a.set("compiler_flags", std::string(compiler_flags()));
  a.set("build_type", std::string(build_type()));
  a.set("mpi_library", mpi::library_version());
  a.set("hdf5_version", hdf5_library_version());
  a.set("checksum_algorithm", std::string(kChecksumAlgorithm));
  a.set("cpu_model", cpu_model());
  a.set("cpus_online", std::int64_t{online_cpus()});
  a.set("cores_physical", std::int64_t{physical_cores()});
  a.set("chunk", std::int64_t{config.chunk});
  a.set("distribution", std::string(name_of(config.distribution)));
  a.set("workers_source", config.workers_source);
  a.set("mode", std::string(name_of(config.mode)));
  a.set("cache", std::string(name_of(config.cache)));
  a.set("kernel_repeat", std::int64_t{config.kernel_repeat});
  a.set("max_pixels", static_cast<std::int64_t>(config.max_pixels));
  a.set("gil", std::int64_t{config.gil ? 1 : 0});
  a.set("gil_interval_s", config.gil_interval_ms / 1000.0);
  a.set("ipc", std::string(name_of(config.ipc)));
  a.set("omp_schedule", to_string(config.omp));
  for (const auto& [name, value] : environment_with_prefix("OMP_"))
    a.set("env_" + name, value);
  for (const auto& [name, value] : environment_with_prefix("SLURM_"))
    a.set("env_" + name, value);
  a.set("output_dir", config.output_dir.value_or(""));
  // Codecs (PERF-codec): which decoders and encoder ran, their libraries, the PNG level.
  a.set("decoder", std::string(to_string(config.decoder)));
  a.set("png_encoder", png_encoder_name());
  a.set("png_level", std::int64_t{config.png_level});
  for (const auto& [library, library_version] : codec_versions())
    a.set("codec_" + library, library_version);
  a.set("input_fingerprint", fingerprint(files));
  a.set("total_bytes_in", static_cast<std::int64_t>(total_bytes));
  // Kernel context (issue 8): the SIMD target dispatched here and rank 0's
  // node's copy bandwidth (~20 ms; only rank 0's attributes are stored) as the kernel's bound.
  a.set("simd_target", simd_target());
  a.set("malloc_policy", allocator_policy());
  if (comm.rank() == 0) a.set("membw_gbps", memcpy_bandwidth_gbps());
  return a;
}

/// One measured run as the end-of-sweep table shows it.
struct SweepRow {
  std::string strategy;
  int workers = 1;
  bool complete = true;
  double wall_s = 0;
  double images_per_s = 0;  ///< processed images / wall
};

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The compact table printed after a sweep of several runs: one line per strategy and worker
/// count, medians over its complete runs (incomplete runs are counted, never in a median).
std::string sweep_table(const std::vector<SweepRow>& rows, int ranks, const std::string& results) {
  std::vector<std::pair<std::string, int>> keys;
  for (const auto& r : rows) {
    if (std::find(keys.begin(), keys.end(), std::pair{r.strategy, r.workers}) == keys.end())
      keys.emplace_back(r.strategy, r.workers);
  }
  std::string out = "\nsweep: " + std::to_string(rows.size()) + " runs on " +
                    std::to_string(ranks) + " rank(s); medians over complete runs:\n";
  char line[200];
  std::snprintf(line, sizeof line, "  %-10s %7s %6s %10s %19s %10s\n", "strategy", "workers",
                "runs", "wall_s", "min-max_s", "images/s");
  out += line;
  for (const auto& [strategy, workers] : keys) {
    std::vector<double> walls, rates;
    int incomplete = 0;
    for (const auto& r : rows) {
      if (r.strategy != strategy || r.workers != workers) continue;
      if (!r.complete) {
        ++incomplete;
        continue;
      }
      walls.push_back(r.wall_s);
      rates.push_back(r.images_per_s);
    }
    std::string runs = std::to_string(walls.size());
    if (incomplete) runs += "+" + std::to_string(incomplete) + "i";
    if (walls.empty()) {
      std::snprintf(line, sizeof line, "  %-10s %7d %6s %10s %19s %10s\n", strategy.c_str(),
                    workers, runs.c_str(), "-", "-", "-");
    } else {
      char range[40];
      std::snprintf(range, sizeof range, "%.3f-%.3f", *std::min_element(walls.begin(), walls.end()),
                    *std::max_element(walls.begin(), walls.end()));
      std::snprintf(line, sizeof line, "  %-10s %7d %6s %10.3f %19s %10.1f\n", strategy.c_str(),
                    workers, runs.c_str(), median_of(walls), range, median_of(rates));
    }
    out += line;
  }
  const bool any_incomplete =
      std::any_of(rows.begin(), rows.end(), [](const SweepRow& r) { return !r.complete; });
  if (any_incomplete) out += "  (+Ni: N incomplete runs, not in the medians)\n";
  out += "  speedup, spread and plots: tools/graybench-report " + results + "\n";
  return out;
}

}  // namespace

ExitCode repair_results(const std::string& path, std::ostream& out) {
  namespace fs = std::filesystem;
  const fs::path target = resolve_results_path(path);
  const fs::path journal = target.string() + ".journal";
  std::error_code ec;
  const bool has_journal = fs::exists(fs::symlink_status(journal, ec));
  if (!has_journal && !fs::exists(target, ec)) {
    throw UsageError("--repair-results " + path + ": no such file");
  }
  if (fs::is_directory(target, ec))
    throw UsageError("--repair-results " + path + " is a directory");
  Rollback done;
  {
    // The lock a save takes: a save in progress finishes (or is rolled back by its writer)
    // first. Say so when that takes a while, rather than look hung.
    std::jthread notice([lock = target.string() + ".lock"](const std::stop_token& stop) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock<std::mutex> hold(m);
      cv.wait_for(hold, stop, std::chrono::seconds(2), [] { return false; });
      if (!stop.stop_requested()) {
        std::cerr << "graybench: waiting for the lock " << lock
                  << " (a save in progress holds it)\n";
      }
    });
    ResultsLock lock(target);
    notice.request_stop();
    notice.join();
    recover_interrupted_save(target, &done);
  }
  const std::string j = journal.string();
  if (!done.journal) {
    out << "graybench: nothing to repair: " << path << " has no interrupted save (no " << j
        << ")\n";
  } else if (!done.header_valid) {
    out << "graybench: repaired " << path
        << ": its last save was interrupted before it changed anything; removed the incomplete "
        << j << "\n";
  } else if (done.created) {
    out << "graybench: repaired " << path
        << ": the interrupted save was creating it, so it held no committed run; removed it and "
        << j << "\n";
  } else {
    out << "graybench: repaired " << path << ": rolled back an interrupted save (restored "
        << done.bytes << " bytes from " << done.records << " journal records, cut the file from "
        << done.size_before << " to " << done.base_size
        << " bytes); it holds its last committed runs again; removed " << j << "\n";
  }
  return ExitCode::kOk;
}

ExitCode run_job(const Config& config, const mpi::Comm& comm, std::ostream& out) {
  // Every second of the job is accounted for on rank 0 (docs/schema.md, "Where the time goes").
  const Clock::time_point job_start = process_start_time();
  const double startup_s = seconds_between(job_start, mpi::ready_time());
  // Under mpirun (or srun's step daemon) the job began before this process: the launcher's own
  // start-up counts too (docs/schema.md, "Where the time goes").
  const std::optional<Launcher> launched_by = launcher();
  const Clock::time_point launch_start = launched_by ? launched_by->start : job_start;
  const auto t_list = Clock::now();
  const std::vector<InputFile> files = list_on_root(config, comm);
  // Size estimates are read from image headers here (io/), once per job, and handed to the
  // distribution as data.
  const std::vector<std::uint64_t> estimates =
      comm.rank() == 0 && config.distribution == Distribution::kSize ? work_estimates(files)
                                                                     : std::vector<std::uint64_t>{};
  const double list_s = seconds_between(t_list, Clock::now());
  preflight(config, comm);
  const Placement where = placement(comm);
  Attributes common = job_attributes(config, comm, files, where);
  common.set("startup_s", startup_s);
  common.set("launcher", launched_by ? launched_by->name : std::string("none"));
  common.set("launch_s", std::max(0.0, seconds_between(launch_start, job_start)));
  common.set("list_s", list_s);
  bool any_failed = false;
  std::set<std::pair<Strategy, int>> warned;
  std::vector<SweepRow> made;

  // Where runs go when the results file cannot take them (disk full, permissions changed):
  // beside it, else in $TMPDIR; the first one that works takes the rest of the job's runs.
  std::optional<std::string> fallback;
  auto save_run = [&](const RunResult& run, const std::function<Attributes()>& last_words) {
    if (!fallback) {
      try {
        return append_runs(config.results, files, {run}, {}, last_words);
      } catch (const std::exception& e) {
        std::cerr << "graybench: " << e.what() << "\n";
      }
    }
    const std::filesystem::path target = resolve_results_path(config.results);
    const std::string name = target.stem().string() + ".unsaved-" + hostname() + "-" +
                             std::to_string(::getpid()) + ".h5";
    const char* tmpdir = std::getenv("TMPDIR");
    std::vector<std::string> candidates;
    if (fallback) candidates.push_back(*fallback);
    candidates.push_back((target.parent_path() / name).string());
    candidates.push_back(
        (std::filesystem::path(tmpdir && *tmpdir ? tmpdir : "/tmp") / name).string());
    std::string causes;
    for (const auto& c : candidates) {
      try {
        auto names = append_runs(c, files, {run}, {}, last_words);
        if (fallback != c) {
          std::cerr << "graybench: the runs of this job are saved in " << c << " instead of "
                    << config.results << "\n";
        }
        fallback = c;
        return names;
      } catch (const std::exception& e) {
        causes += std::string("; ") + e.what();
      }
    }
    throw std::runtime_error("run lost: no fallback file could be written" + causes);
  };
  std::vector<std::pair<std::string, std::string>> failures;  // (path, reason), first seen first
  std::set<std::pair<std::string, std::string>> seen_failures;

  // Rank 0 appends a measured run to the results file and prints its summary line.
  auto save = [&](RunResult& run, const RunSpec& spec) {
    for (const auto& [k, v] : common.items())
      run.attrs.set(k, v);
    run.attrs.set("run_uuid", random_uuid());  // tells runs apart across files and merges
    const int effective = strategy_info(spec.strategy).parallel ? spec.workers : 1;
    run.attrs.set("total_workers", std::int64_t{effective} * comm.size());
    const std::string over = oversubscription(where, effective);
    run.attrs.set("oversubscribed", std::int64_t{over.empty() ? 0 : 1});
    run.attrs.set("oversubscription", over);
    if (!over.empty() && !config.quiet && warned.insert({spec.strategy, spec.workers}).second) {
      std::cerr << "graybench: warning: " << name_of(spec.strategy) << ": " << over << "\n";
    }
    const auto t_save = Clock::now();
    // The run's own save time and the job's elapsed time are written into the run as the last
    // thing before the file is closed: only closing, fsync and the commit come after.
    const auto names = save_run(run, [&] {
      Attributes late;
      late.set("save_s", seconds_between(t_save, Clock::now()));
      late.set("job_elapsed_s", seconds_between(job_start, Clock::now()));
      late.set("launcher_elapsed_s",
               seconds_between(std::min(launch_start, job_start), Clock::now()));
      return late;
    });
    for (const auto& r : run.images) {
      if (r.status == ImageStatus::kOk || r.status == ImageStatus::kNotProcessed) continue;
      const std::string reason = std::string(name_of(r.status)) + ": " + r.error;
      if (seen_failures.insert({r.path, reason}).second) failures.emplace_back(r.path, reason);
    }
    const double save_s = seconds_between(t_save, Clock::now());
    const auto failed = run.attrs.integer("n_failed");
    any_failed = any_failed || failed > 0;
    const double wall = run.attrs.real("wall_s");
    // Rates count the images the run reached: an interrupted run's unreached rows are no work.
    const auto processed =
        static_cast<std::int64_t>(files.size()) - run.attrs.integer("n_not_processed");
    const bool complete = run.attrs.str("status") == "complete";
    SweepRow row{run.attrs.str("strategy"), spec.workers, complete, wall,
                 wall > 0 ? static_cast<double>(processed) / wall : 0.0};
    made.push_back(row);
    if (!config.quiet) {
      char status[64] = "";
      if (!complete) {
        std::snprintf(status, sizeof status, "  incomplete: %lld/%zu images",
                      static_cast<long long>(processed), files.size());
      }
      char line[320];
      std::snprintf(line, sizeof line,
                    "%s  %-10s workers=%-3d ranks=%-3d repeat=%-2d wall=%9.3f s  %9.1f images/s%s  "
                    "failed=%lld  gather=%.3f s  save=%.3f s  rss=%.0f MiB\n",
                    names.front().c_str(), row.strategy.c_str(), spec.workers, comm.size(),
                    spec.repeat, wall, row.images_per_s, status, static_cast<long long>(failed),
                    run.attrs.real("gather_s"), save_s, ResourceUsage::now().max_rss_kb / 1024.0);
      out << line << std::flush;
    }
  };

  bool interrupted = false, in_warmup = false;
  int saved = 0;
  for (const RunSpec& spec : plan_sweep(config)) {
    RankRun mine = execute_on_rank(spec, config, comm, files, estimates);
    GatheredRun gathered = gather_run(mine, comm);
    // Every rank learns whether any rank was asked to stop, so all leave the sweep together.
    interrupted = comm.max(stop_requested() ? 1.0 : 0.0) > 0.0;
    if (comm.rank() == 0 && !spec.warmup) {
      RunResult run = assemble_run(spec, mine, std::move(gathered), files.size());
      save(run, spec);
      ++saved;
    }
    if (interrupted) {
      in_warmup = spec.warmup;
      break;
    }
  }
  const std::string saved_in = fallback.value_or(config.results);
  if (comm.rank() == 0 && !config.quiet && saved > 0) {
    if (made.size() > 1) out << sweep_table(made, comm.size(), saved_in);
    out << "results: " << saved_in << (fallback ? " (could not write " + config.results + ")" : "")
        << "\n"
        << std::flush;
  }
  if (comm.rank() == 0 && !failures.empty()) {
    // The names and reasons, not just a count: the first thing a user sees under mpirun.
    constexpr std::size_t kShown = 10;
    for (std::size_t k = 0; k < std::min(kShown, failures.size()); ++k)
      std::cerr << "graybench: failed: " << failures[k].first << ": " << failures[k].second << "\n";
    if (failures.size() > kShown) {
      std::cerr << "graybench: and " << failures.size() - kShown << " more \u2014 see " << saved_in
                << "\n";
    }
    std::cerr << std::flush;
  }
  if (interrupted) {
    if (comm.rank() == 0) {
      // Say what is true: a warm-up run is never saved, and it may be all there was.
      std::string what;
      if (saved == 0) {
        what = in_warmup ? "during a warm-up run, before any measured run: nothing was saved"
                         : "nothing was saved";
      } else {
        what = std::to_string(saved) + " measured run(s) saved in " + saved_in +
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
