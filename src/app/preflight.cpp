#include "app/preflight.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "core/errors.hpp"
#include "core/wire.hpp"
#include "strategies/strategy.hpp"

namespace graybench {

namespace fs = std::filesystem;

namespace {

/// A number read from a one-line file; -1 if absent or "max".
long read_number(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  if (!(in >> s) || s == "max") return -1;
  try {
    return std::stol(s);
  } catch (const std::exception&) {
    return -1;
  }
}

/// Entries of a /proc directory (threads of this process, open descriptors).
long count_entries(const fs::path& dir) {
  std::error_code ec;
  long n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

/// The cgroup v2 folder of this process, or "" (cgroup v1, or not mounted).
fs::path cgroup_dir() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return fs::path("/sys/fs/cgroup") / line.substr(4);
  }
  return {};
}

void tighten(WorkerLimit& limit, long max, const std::string& reason) {
  max = std::max(0L, max);
  if (max < limit.max) limit = {max, reason};
}

std::string check_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "--output-dir " + dir + " cannot be created: " + ec.message();
  std::string probe = (fs::path(dir) / ".graybench-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    return "--output-dir " + dir + " is not writable: " + std::generic_category().message(errno);
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

}  // namespace

WorkerLimit worker_limit(bool processes) {
  WorkerLimit limit{kMaxWorkersPerRank,
                    "graybench's cap of " + std::to_string(kMaxWorkersPerRank) + " per rank"};
  const long own_threads = count_entries("/proc/self/task");
  rlimit rl{};
  // Not enforced for root (CAP_SYS_RESOURCE), but the kernel and cgroup limits below are.
  if (::geteuid() != 0 && ::getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    tighten(limit, static_cast<long>(rl.rlim_cur) - own_threads,
            "RLIMIT_NPROC (ulimit -u) " + std::to_string(rl.rlim_cur));
  }
  const long threads_max = read_number("/proc/sys/kernel/threads-max");
  if (threads_max > 0) {
    tighten(limit, threads_max - own_threads,
            "/proc/sys/kernel/threads-max " + std::to_string(threads_max));
  }
  const fs::path cg = cgroup_dir();
  if (!cg.empty()) {
    const long pids_max = read_number(cg / "pids.max");
    const long pids_now = read_number(cg / "pids.current");
    if (pids_max > 0) {
      tighten(limit, pids_max - std::max(0L, pids_now),
              "the cgroup's pids.max " + std::to_string(pids_max) + " (" +
                  std::to_string(std::max(0L, pids_now)) + " in use)");
    }
  }
  if (processes && ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    // Each worker holds a task pipe, a result pipe and two shared-memory descriptors, and
    // briefly the child's ends while it starts.
    constexpr long kFdsPerWorker = 6;
    const long open_fds = count_entries("/proc/self/fd");
    tighten(limit, (static_cast<long>(rl.rlim_cur) - open_fds - 16) / kFdsPerWorker,
            "RLIMIT_NOFILE (ulimit -n) " + std::to_string(rl.rlim_cur) + " at " +
                std::to_string(kFdsPerWorker) + " descriptors per worker");
  }
  return limit;
}

void preflight(const Config& config, const mpi::Comm& comm) {
  std::string problem;
  for (Strategy s : config.strategies) {
    const auto& info = strategy_info(s);
    if (!info.parallel || config.workers.empty() || !problem.empty()) continue;
    const int most = *std::max_element(config.workers.begin(), config.workers.end());
    const WorkerLimit limit = worker_limit(s == Strategy::kProcesses);
    if (most > limit.max) {
      problem = "--workers " + std::to_string(most) + " for " + std::string(info.name) +
                ": this rank can start at most " + std::to_string(limit.max) + " (" + limit.reason +
                ")";
    }
  }
  if (problem.empty() && config.output_dir) problem = check_output_dir(*config.output_dir);

  WireWriter w;
  w.put_string(problem);
  const auto parts = comm.gather(w.buffer(), 0);
  WireWriter verdict;
  if (comm.rank() == 0) {
    std::string first;
    for (std::size_t r = 0; r < parts.size() && first.empty(); ++r) {
      WireReader rd(parts[r]);
      const std::string p = rd.get_string();
      if (!p.empty()) first = (comm.size() > 1 ? "rank " + std::to_string(r) + ": " : "") + p;
    }
    verdict.put_string(first);
  }
  auto bytes = verdict.take();
  comm.bcast(bytes, 0);
  WireReader rd(bytes);
  const std::string first = rd.get_string();
  if (!first.empty()) throw UsageError(first);
}

}  // namespace graybench
