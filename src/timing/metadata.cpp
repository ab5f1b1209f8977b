#include "timing/metadata.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

extern char** environ;

namespace graybench {

namespace {
// Dynamic initialisation runs before main: the fallback start time where /proc says nothing.
const std::chrono::steady_clock::time_point loaded_at = std::chrono::steady_clock::now();
}  // namespace

std::chrono::steady_clock::time_point process_start_time() {
  const auto steady_now = std::chrono::steady_clock::now();
  timespec boot{};
  if (::clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return loaded_at;
  std::ifstream in("/proc/self/stat");
  std::string stat;
  std::getline(in, stat);
  // Field 2 (the command name) is parenthesised and may hold spaces: count from the last ')'.
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return loaded_at;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int k = 3; k <= 22 && fields >> field; ++k) {
    if (k == 22) start_ticks = std::stoull(field);
  }
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (start_ticks == 0 || hz <= 0) return loaded_at;
  const double age = static_cast<double>(boot.tv_sec) + boot.tv_nsec / 1e9 -
                     static_cast<double>(start_ticks) / static_cast<double>(hz);
  if (age < 0) return loaded_at;
  return steady_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(age));
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
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

}  // namespace graybench
