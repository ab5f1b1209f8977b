#pragma once

// The job's vocabulary of choices, each with its one name table (core/enum_names.hpp): the CLI,
// --help, error messages, run attributes and HDF5 read them from here.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/enum_names.hpp"

namespace graybench {

/// The closed set of intra-node strategies (their run functions: strategies/strategy.hpp).
enum class Strategy { kSequential, kThreads, kOpenmp, kPool, kProcesses };
inline constexpr std::array<EnumName<Strategy>, 5> kStrategyNames{{
    {Strategy::kSequential, "sequential", "one thread, images in order (the baseline)"},
    {Strategy::kThreads, "threads", "N std::threads pulling from a shared work queue"},
    {Strategy::kOpenmp, "openmp", "an OpenMP parallel loop (--omp-schedule)"},
    {Strategy::kPool, "pool", "a persistent thread pool, one future per image"},
    {Strategy::kProcesses, "processes", "N spawned worker processes fed over pipes (--ipc)"},
}};
constexpr std::span<const EnumName<Strategy>> enum_names(Strategy) {
  return kStrategyNames;
}
constexpr std::string_view enum_noun(Strategy) {
  return "strategy";
}

/// How rank 0's image list is spread over the ranks (--distribution).
enum class Distribution { kBlock, kCyclic, kSize, kDynamic };
inline constexpr std::array<EnumName<Distribution>, 4> kDistributionNames{{
    {Distribution::kBlock, "block", "contiguous slices, counts balanced to +-1"},
    {Distribution::kCyclic, "cyclic", "round-robin: image i to rank i % ranks"},
    {Distribution::kSize, "size",
     "greedy longest-first on a work estimate (pixels from the header) to the least-loaded rank"},
    {Distribution::kDynamic, "dynamic", "chunks on demand from a shared counter; rank 0 works too"},
}};
constexpr std::span<const EnumName<Distribution>> enum_names(Distribution) {
  return kDistributionNames;
}
constexpr std::string_view enum_noun(Distribution) {
  return "policy";
}

/// How the dynamic distribution shares its counter (--dynamic-counter).
enum class CounterKind { kAuto, kRma, kDispatcher };
inline constexpr std::array<EnumName<CounterKind>, 3> kCounterKindNames{{
    {CounterKind::kAuto, "auto", "MPI one-sided atomics, else a dispatcher thread on rank 0"},
    {CounterKind::kRma, "rma", "an MPI one-sided atomic counter"},
    {CounterKind::kDispatcher, "dispatcher", "a thread on rank 0 answering requests"},
}};
constexpr std::span<const EnumName<CounterKind>> enum_names(CounterKind) {
  return kCounterKindNames;
}
constexpr std::string_view enum_noun(CounterKind) {
  return "counter";
}

/// What the timed region covers (--mode).
enum class Mode { kFiles, kMemory };
inline constexpr std::array<EnumName<Mode>, 2> kModeNames{{
    {Mode::kFiles, "files", "read+decode inside the timed work"},
    {Mode::kMemory, "memory", "load files first, time the rest"},
}};
constexpr std::span<const EnumName<Mode>> enum_names(Mode) {
  return kModeNames;
}
constexpr std::string_view enum_noun(Mode) {
  return "mode";
}

/// How worker processes return pixels (and, in memory mode, receive decoded images) (--ipc).
enum class Ipc { kPipe, kShm };
inline constexpr std::array<EnumName<Ipc>, 2> kIpcNames{{
    {Ipc::kPipe, "pipe", "through the task/result pipes"},
    {Ipc::kShm, "shm", "through shared memory, the pipes carrying only sizes"},
}};
constexpr std::span<const EnumName<Ipc>> enum_names(Ipc) {
  return kIpcNames;
}
constexpr std::string_view enum_noun(Ipc) {
  return "ipc mode";
}

/// The kind of an OpenMP loop schedule.
enum class OmpKind { kStatic, kDynamic, kGuided };
inline constexpr std::array<EnumName<OmpKind>, 3> kOmpKindNames{{
    {OmpKind::kStatic, "static", "equal blocks fixed before the loop"},
    {OmpKind::kDynamic, "dynamic", "chunks handed out as threads free up"},
    {OmpKind::kGuided, "guided", "shrinking chunks handed out as threads free up"},
}};
constexpr std::span<const EnumName<OmpKind>> enum_names(OmpKind) {
  return kOmpKindNames;
}
constexpr std::string_view enum_noun(OmpKind) {
  return "schedule";
}

/// OpenMP loop schedule (--omp-schedule kind[,chunk]); chunk 0 means the runtime's default.
struct OmpSchedule {
  using Kind = OmpKind;
  Kind kind = Kind::kDynamic;
  int chunk = 1;
};
/// Parses "kind[,chunk]" (chunk >= 1; dynamic without a chunk means 1).
std::optional<OmpSchedule> parse_omp_schedule(std::string_view text);
/// "kind[,chunk]".
std::string to_string(const OmpSchedule& s);

}  // namespace graybench
