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
GRAYBENCH_ENUM_NAMES(
    Strategy, "strategy",
    {Strategy::kSequential, "sequential", "one thread, images in order (the baseline)"},
    {Strategy::kThreads, "threads", "N std::threads pulling from a shared work queue"},
    {Strategy::kOpenmp, "openmp", "an OpenMP parallel loop (--omp-schedule)"},
    {Strategy::kPool, "pool", "a persistent thread pool, one future per image"},
    {Strategy::kProcesses, "processes", "N spawned worker processes fed over pipes (--ipc)"})

/// How rank 0's image list is spread over the ranks (--distribution).
enum class Distribution { kBlock, kCyclic, kSize, kDynamic };
GRAYBENCH_ENUM_NAMES(
    Distribution, "policy",
    {Distribution::kBlock, "block", "contiguous slices, counts balanced to +-1"},
    {Distribution::kCyclic, "cyclic", "round-robin: image i to rank i % ranks"},
    {Distribution::kSize, "size",
     "greedy longest-first on a work estimate (pixels from the header) to the least-loaded rank"},
    {Distribution::kDynamic, "dynamic", "chunks on demand from a shared counter; rank 0 works too"})

/// How the dynamic distribution shares its counter (--dynamic-counter).
enum class CounterKind { kAuto, kRma, kDispatcher };
GRAYBENCH_ENUM_NAMES(CounterKind, "counter",
                     {CounterKind::kAuto, "auto",
                      "MPI one-sided atomics, else a dispatcher thread on rank 0"},
                     {CounterKind::kRma, "rma", "an MPI one-sided atomic counter"},
                     {CounterKind::kDispatcher, "dispatcher",
                      "a thread on rank 0 answering requests"})

/// What the timed region covers (--mode).
enum class Mode { kFiles, kMemory };
GRAYBENCH_ENUM_NAMES(Mode, "mode", {Mode::kFiles, "files", "read+decode inside the timed work"},
                     {Mode::kMemory, "memory", "load files first, time the rest"})

/// Page-cache state of the inputs at the start of each repetition (--cache).
enum class Cache { kWarm, kCold };
inline constexpr std::array<EnumName<Cache>, 2> kCacheNames{{
    {Cache::kWarm, "warm", "leave the page cache as it is"},
    {Cache::kCold, "cold",
     "drop every input of the rank from the page cache before each repetition"},
}};
constexpr std::span<const EnumName<Cache>> enum_names(Cache) {
  return kCacheNames;
}
constexpr std::string_view enum_noun(Cache) {
  return "cache state";
}

/// How worker processes return pixels (and, in memory mode, receive decoded images) (--ipc).
enum class Ipc { kPipe, kShm };
GRAYBENCH_ENUM_NAMES(Ipc, "ipc mode", {Ipc::kPipe, "pipe", "through the task/result pipes"},
                     {Ipc::kShm, "shm", "through shared memory, the pipes carrying only sizes"})

/// Which decoders read the input (--decoder). Auto: libjpeg-turbo for JPEG (Pillow's settings,
/// so the gray is Pillow's bit for bit), our libdeflate-based decoder for PNG (libspng for
/// palette and interlaced PNG), stb_image for the formats only it
/// reads (BMP, TGA, GIF, PSD, PNM). Stb: stb_image for everything (the original code path).
enum class Decoder { kAuto, kStb };
inline constexpr std::array<EnumName<Decoder>, 2> kDecoderNames{{
    {Decoder::kAuto, "auto",
     "libjpeg-turbo for JPEG (Pillow's pixels), our libdeflate-based decoder for PNG "
     "(libspng for palette and interlaced PNG), "
     "stb_image for the rest"},
    {Decoder::kStb, "stb", "stb_image for everything (the original decoders, for comparison)"},
}};
constexpr std::span<const EnumName<Decoder>> enum_names(Decoder) {
  return kDecoderNames;
}
constexpr std::string_view enum_noun(Decoder) {
  return "decoder";
}

/// PNG compression levels (--png-level: libdeflate's 1..12) and the default: on 30 real
/// wallpapers level 1 writes 1.079x Pillow's bytes (zlib 6) at 2.2x level 6's speed; level 6
/// writes 1.018x (docs/codecs.md).
inline constexpr int kPngLevelMin = 1;
inline constexpr int kPngLevelMax = 12;
inline constexpr int kPngLevelDefault = 1;

/// The kind of an OpenMP loop schedule.
enum class OmpKind { kStatic, kDynamic, kGuided };
GRAYBENCH_ENUM_NAMES(OmpKind, "schedule",
                     {OmpKind::kStatic, "static", "equal blocks fixed before the loop"},
                     {OmpKind::kDynamic, "dynamic", "chunks handed out as threads free up"},
                     {OmpKind::kGuided, "guided", "shrinking chunks handed out as threads free up"})

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
