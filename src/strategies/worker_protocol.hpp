#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graybench {

/// The worker-process protocol. The parent spawns `graybench --worker-mode key=value...`
/// (which never initialises MPI) with these descriptors:
inline constexpr int kTaskFd = 3;       ///< parent -> child frames (tasks); EOF means quit
inline constexpr int kResultFd = 4;     ///< child -> parent frames (hello, then one per task)
inline constexpr int kShmInputFd = 5;   ///< --ipc shm: encoded input bytes (memory mode)
inline constexpr int kShmOutputFd = 6;  ///< --ipc shm: grayscale pixels back

/// A frame is a little-endian u64 length followed by that many bytes (a WireWriter payload).
/// Task:   i32 attempt (1, or 2 when retried after a worker died), the WorkItem
///         (put(WireWriter&, const WorkItem&): its index and InputFile fields), u8 input: 0 read
///         the file;
///         1 or 2 a decoded image (memory mode): i32 width, height, channels, bit depth, then the
///         pixels inline (1) or as u64 size with the pixels in the shm input buffer (2)
/// Result: ImageRecord (its field table, timing/records.hpp), u8 pixels (0 none, 1 inline bytes, 2
/// shm + u64 size), i64 send_ns Hello:  str cpus (the child's CPU affinity), sent once after
/// start-up.
enum class Payload : std::uint8_t { kNone = 0, kInline = 1, kShm = 2 };

void send_frame(int fd, const std::vector<std::uint8_t>& payload);
/// Reads one frame; false on end of file before a frame starts. Throws on a truncated frame.
bool recv_frame(int fd, std::vector<std::uint8_t>& payload);

/// Entry point of `graybench --worker-mode ...`; returns the process exit code.
int worker_main(const std::vector<std::string>& args);

/// CLOCK_MONOTONIC in nanoseconds (std::chrono::steady_clock on Linux), comparable across
/// processes on one host.
std::int64_t monotonic_ns();

}  // namespace graybench
