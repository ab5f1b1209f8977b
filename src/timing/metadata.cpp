#include "timing/metadata.hpp"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>

extern char** environ;

namespace graybench {

namespace {
// Dynamic initialisation runs before main: the fallback start time where /proc says nothing.
const std::chrono::steady_clock::time_point loaded_at = std::chrono::steady_clock::now();
}  // namespace

namespace {

/// The start of the process whose /proc stat file is `stat_path` on the steady clock, or
/// nullopt; its command name (field 2) into `comm` when given.
std::optional<std::chrono::steady_clock::time_point> started_at(const std::string& stat_path,
                                                                std::string* comm = nullptr) {
  const auto steady_now = std::chrono::steady_clock::now();
  timespec boot{};
  if (::clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return std::nullopt;
  std::ifstream in(stat_path);
  std::string stat;
  std::getline(in, stat);
  // Field 2 (the command name) is parenthesised and may hold spaces: count from the last ')'.
  const auto paren = stat.rfind(')');
  const auto open = stat.find('(');
  if (paren == std::string::npos || open == std::string::npos || open > paren) return std::nullopt;
  if (comm) *comm = stat.substr(open + 1, paren - open - 1);
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int k = 3; k <= 22 && fields >> field; ++k) {
    if (k == 22) start_ticks = std::stoull(field);
  }
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (start_ticks == 0 || hz <= 0) return std::nullopt;
  const double age = static_cast<double>(boot.tv_sec) + boot.tv_nsec / 1e9 -
                     static_cast<double>(start_ticks) / static_cast<double>(hz);
  if (age < 0) return std::nullopt;
  return steady_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(age));
}

}  // namespace

std::chrono::steady_clock::time_point process_start_time() {
  return started_at("/proc/self/stat").value_or(loaded_at);
}

std::optional<Launcher> launcher() {
  // The launchers that start ranks as their own children on a node.
  static const std::set<std::string> kLaunchers = {
      "mpirun", "mpiexec",         "orterun",       "orted",     "prterun",
      "prted",  "hydra_pmi_proxy", "mpiexec.hydra", "slurmstepd"};
  std::string comm;
  const auto start = started_at("/proc/" + std::to_string(::getppid()) + "/stat", &comm);
  // slurmstepd names itself "slurmstepd: [job.step]".
  const std::string name = comm.substr(0, comm.find(':'));
  if (!start || !kLaunchers.count(name)) return std::nullopt;
  return Launcher{name, *start};
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string node_name() {
  const char* slurm = std::getenv("SLURMD_NODENAME");
  return slurm && *slurm ? std::string(slurm) : hostname();
}

std::string random_uuid() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string id;
  if (in >> id && id.size() == 36) return id;
  std::random_device rd;
  unsigned char b[16];
  for (auto& byte : b)
    byte = static_cast<unsigned char>(rd());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

int physical_cores() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, physical = "0";
  std::set<std::pair<std::string, std::string>> cores;
  auto value = [](const std::string& l) {
    const auto colon = l.find(':');
    return colon == std::string::npos ? std::string() : l.substr(colon + 1);
  };
  while (std::getline(f, line)) {
    if (line.rfind("physical id", 0) == 0) physical = value(line);
    if (line.rfind("core id", 0) == 0) cores.emplace(physical, value(line));
  }
  return cores.empty() ? online_cpus() : static_cast<int>(cores.size());
}

int online_cpus() {
  return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1)
      ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::string affinity_cpus(int* n) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (n) *n = static_cast<int>(cpus.size());
  return format_cpu_list(cpus);
}

std::vector<std::pair<std::string, std::string>> environment_with_prefix(
    const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    std::string name(*e, static_cast<std::size_t>(eq - *e));
    if (name.rfind(prefix, 0) == 0) out.emplace_back(std::move(name), eq + 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

double memcpy_bandwidth_gbps(std::chrono::milliseconds budget) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + budget;  // set-up included: the whole probe is ~budget
  // 32 MiB per buffer: beyond the last-level cache share of a core on current nodes, so this
  // is mostly DRAM, yet cheap to fault in.
  constexpr std::size_t kBytes = std::size_t{32} << 20;
  // Huge pages where the kernel offers them: faulting 4 KiB pages in would cost more than the
  // measurement itself (tens of ms on virtual machines).
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  auto buffer = [] {
    std::unique_ptr<std::uint8_t, decltype(&std::free)> p(
        static_cast<std::uint8_t*>(std::aligned_alloc(kHuge, kBytes)), &std::free);
    if (!p) throw std::bad_alloc();
    ::madvise(p.get(), kBytes, MADV_HUGEPAGE);  // advice only: failure is harmless
    return p;
  };
  const auto src = buffer();
  const auto dst = buffer();
  // Untouched source pages would all map the shared zero page (a cache-resident read).
  std::memset(src.get(), 1, kBytes);
  double best = 0;
  // The first copy faults the destination in and is not counted; then at least two timed
  // copies, so one slow start (frequency ramp, a preemption) cannot decide.
  for (int runs = 0; runs < 3 || Clock::now() < deadline; ++runs) {
    const auto t0 = Clock::now();
    std::memcpy(dst.get(), src.get(), kBytes);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (runs > 0 && s > 0) best = std::max(best, 2.0 * static_cast<double>(kBytes) / s / 1e9);
    src.get()[static_cast<std::size_t>(runs) % kBytes] ^=
        dst.get()[kBytes / 2];  // keep the copy observable
  }
  return best;
}

}  // namespace graybench
