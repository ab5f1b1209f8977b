#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace graybench {

/// Reads a whole file. Throws ImageError(kReadError) naming the path and the OS reason.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

/// Reads a whole file into `data`, reusing its buffer. Throws as read_file.
void read_file(const std::filesystem::path& path, std::vector<std::uint8_t>& data);

/// Writes `bytes` to `path` via a temporary file in the same directory and rename(), creating
/// parent directories: a reader (or a killed run) never sees a half-written file.
/// Throws ImageError(kWriteError) naming the path and the OS reason.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace graybench
