#include "app/job.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "app/run.hpp"
#include "core/cancel.hpp"
#include "core/posix.hpp"
#include "core/wire.hpp"
#include "h5/results.hpp"
#include "io/codec.hpp"
#include "io/listing.hpp"
#include "kernel/checksum.hpp"
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
  a.set("hdf5_version", hdf5_library_version());
  a.set("checksum_algorithm", std::string(kChecksumAlgorithm));
  a.set("cpu_model", cpu_model());
  a.set("cpus_online", std::int64_t{online_cpus()});
  a.set("cores_physical", std::int64_t{physical_cores()});
  a.set("chunk", std::int64_t{config.chunk});
  a.set("distribution", std::string(name_of(config.distribution)));
  a.set("workers_source", config.workers_source);
  a.set("mode", std::string(name_of(config.mode)));
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
  a.set("input_fingerprint", fingerprint(files));
  a.set("total_bytes_in", static_cast<std::int64_t>(total_bytes));
  return a;
}

}  // namespace

ExitCode run_job(const Config& config, const mpi::Comm& comm, std::ostream& out) {
  // Every second of the job is accounted for on rank 0 (docs/schema.md, "Where the time goes").
  const Clock::time_point job_start = process_start_time();
  const double startup_s = seconds_between(job_start, mpi::ready_time());
  const auto t_list = Clock::now();
  const std::vector<InputFile> files = list_on_root(config, comm);
  // Size estimates are read from image headers here (io/), once per job, and handed to the
  // distribution as data.
  const std::vector<std::uint64_t> estimates =
      comm.rank() == 0 && config.distribution == Distribution::kSize ? work_estimates(files)
                                                                     : std::vector<std::uint64_t>{};
  const double list_s = seconds_between(t_list, Clock::now());
  const Placement where = placement(comm);
  Attributes common = job_attributes(config, comm, files, where);
  common.set("startup_s", startup_s);
  common.set("list_s", list_s);
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
      std::cerr << "graybench: warning: " << name_of(spec.strategy) << ": " << over << "\n";
    }
    const auto t_save = Clock::now();
    // The run's own save time and the job's elapsed time are written into the run as the last
    // thing before the file is closed: only closing, fsync and the rename come after.
    const auto names = append_runs(config.results, files, {run}, {}, [&] {
      Attributes late;
      late.set("save_s", seconds_between(t_save, Clock::now()));
      late.set("job_elapsed_s", seconds_between(job_start, Clock::now()));
      return late;
    });
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
