#pragma once

// PNG row filtering for our encoder (io/png.cpp); nothing outside src/io and its tests uses it.

#include <cstddef>
#include <cstdint>
#include <string>

namespace graybench::detail {

/// The filter png_filter_rows applies: PNG's type byte, or the per-row choice.
enum class PngFilter : std::uint8_t { kNone = 0, kSub = 1, kUp = 2, kPaeth = 4, kMinSum = 255 };

/// Filters `rows` rows of `row_bytes` bytes each (`bpp` bytes per pixel, 1..4; rows
/// contiguous in `pixels`) into `out`, which receives (row_bytes + 1) * rows bytes: per row the
/// filter type byte, then the filtered row. With kMinSum (the encoder's choice) each row gets
/// the filter among None (0), Sub (1), Up (2) and Paeth (4) whose output has the least sum of
/// absolute values, reading every byte as a signed value (libpng's heuristic); ties go to the
/// earlier of None, Sub, Up, Paeth. All candidates' costs come from one SIMD pass over the row
/// (Highway, dispatched at run time); only the chosen filter's output is written. A fixed
/// filter applies to every row (tests, benchmarks). Returns the sum of the chosen rows' costs
/// for kMinSum (the sum of |filtered byte| over the image: a measure of how smooth it is), 0
/// for a fixed filter.
std::uint64_t png_filter_rows(const std::uint8_t* pixels, std::size_t row_bytes, std::size_t rows,
                              std::size_t bpp, std::uint8_t* out,
                              PngFilter filter = PngFilter::kMinSum);

/// The SIMD target png_filter_rows runs on this machine, e.g. "AVX2".
std::string png_filter_target();

}  // namespace graybench::detail
