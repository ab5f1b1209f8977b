#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace graybench {

/// Pillow's ITU-R 601-2 luma in 16.16 fixed point: exactly what `Image.convert("L")` computes.
constexpr std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/// Converts `pixels` interleaved samples with `channels` per pixel (1 = L, 2 = LA, 3 = RGB,
/// 4 = RGBA) to 8-bit grayscale in `out` (one byte per pixel). Alpha is ignored, as in Pillow.
/// Throws std::invalid_argument on an unsupported channel count or mismatched sizes.
void to_gray(std::span<const std::uint8_t> src, int channels, std::span<std::uint8_t> out);

}  // namespace graybench
