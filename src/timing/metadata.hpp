#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace graybench {

/// When this process started, on the steady clock: the kernel's start time of the process
/// (/proc/self/stat `starttime`, in clock ticks since boot) set against CLOCK_BOOTTIME now, so
/// the dynamic loader, static initialisers and MPI start-up are included. Resolution: one clock
/// tick (10 ms). Falls back to the first call's time where /proc is unavailable.
std::chrono::steady_clock::time_point process_start_time();

/// The process that launched this one when it is an MPI or Slurm launcher on this node
/// (mpirun/mpiexec/orterun/orted/prterun/prted/hydra_pmi_proxy/slurmstepd): its name and its
/// start on the steady clock, from /proc like process_start_time(). Nullopt otherwise (a
/// singleton run from a shell).
struct Launcher {
  std::string name;
  std::chrono::steady_clock::time_point start;
};
std::optional<Launcher> launcher();

/// This host's name.
std::string hostname();
/// The scheduler's name for this node: $SLURMD_NODENAME under Slurm (virtual or containerised
/// nodes may share a host name), else the host name.
std::string node_name();
/// A new random (version 4) UUID, e.g. "0f8c...-....": from the kernel, else std::random_device.
std::string random_uuid();
/// ISO 8601 UTC time with milliseconds, e.g. "2026-11-25T15:34:00.123Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);
/// "model name" from /proc/cpuinfo, or "unknown".
std::string cpu_model();
/// Online logical CPUs of the host.
int online_cpus();
/// Physical cores of the host (distinct socket/core pairs in /proc/cpuinfo), or the online
/// logical CPUs where /proc/cpuinfo does not say.
int physical_cores();
/// CPUs the calling thread may run on, as a list such as "0-3,8"; count in `n` if given.
std::string affinity_cpus(int* n = nullptr);
/// Formats a sorted CPU id list as "0-3,8".
std::string format_cpu_list(const std::vector<int>& cpus);
/// Memory bandwidth of the calling core, in GB/s (1e9 bytes/s): the best rate of repeated
/// memcpy between two 32 MiB buffers for about `budget` (set-up included), counting bytes
/// read plus bytes written (STREAM's Copy convention), so a kernel's in + out bytes/s compares
/// with it directly.
double memcpy_bandwidth_gbps(std::chrono::milliseconds budget = std::chrono::milliseconds(20));
/// Environment variables whose names start with `prefix`, sorted by name.
std::vector<std::pair<std::string, std::string>> environment_with_prefix(const std::string& prefix);

}  // namespace graybench
