#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace graybench {

/// Checks every Huffman table (DHT segment) of a JPEG before stb_image sees it: stb_image 2.27
/// writes past its 257-entry size table when a table's code counts sum to more than 256
/// (nothings/stb issues 1289 and 1291). Returns why the file is refused, or nullopt when every
/// table is well formed (at most 256 codes, table class 0 or 1, id 0-3, code space not
/// overflowed, the segment not cut short) and that every scan (SOS) decodes only with tables
/// defined before it: stb_image leaves undefined tables uninitialised and indexes out of bounds
/// through them. Only marker segments are walked; entropy-coded data is skipped as stb skips it.
std::optional<std::string> jpeg_huffman_problem(std::span<const std::uint8_t> d);

/// Checks the header numbers of a binary PGM/PPM (P5/P6) the way stb_image 2.27 reads them:
/// stb accumulates each number in an `int` with no bound (signed overflow, undefined
/// behaviour, on "P5 99999999999 ..."). Returns why the file is refused when width, height or
/// maximum value exceeds INT_MAX, or nullopt (also for anything that is not P5/P6).
std::optional<std::string> pnm_header_problem(std::span<const std::uint8_t> d);

/// A copy of a PNG without the empty IDAT chunks that come before its first non-empty one, or
/// nullopt when it has none (or is no PNG). Such a chunk is legal, but stb_image 2.27 copies
/// its 0 bytes into a buffer it has not allocated yet (memcpy to NULL, undefined behaviour;
/// found by fuzz_decode_stb). Dropping them does not change the image: IDAT data is the
/// concatenation of every IDAT's bytes, and stb does not check chunk CRCs or order beyond that.
std::optional<std::vector<std::uint8_t>> png_without_leading_empty_idat(
    std::span<const std::uint8_t> d);

/// Every known way a file makes stb_image 2.27 misbehave, checked before stb sees it: the
/// first problem found, or nullopt. decode_stb calls it on every input.
std::optional<std::string> stb_input_problem(std::span<const std::uint8_t> d);

}  // namespace graybench
