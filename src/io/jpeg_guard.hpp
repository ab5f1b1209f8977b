#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace graybench {

/// Checks every Huffman table (DHT segment) of a JPEG before stb_image sees it: stb_image 2.27
/// writes past its 257-entry size table when a table's code counts sum to more than 256
/// (nothings/stb issues 1289 and 1291). Returns why the file is refused, or nullopt when every
/// table is well formed (at most 256 codes, table class 0 or 1, id 0-3, code space not
/// overflowed, the segment not cut short). Only marker segments are walked; entropy-coded
/// data is skipped as stb skips it.
std::optional<std::string> jpeg_huffman_problem(std::span<const std::uint8_t> d);

}  // namespace graybench
