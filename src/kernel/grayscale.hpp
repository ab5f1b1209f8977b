#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace graybench {

/// Pillow's ITU-R 601-2 luma in 16.16 fixed point: exactly what `Image.convert("L")` computes.
constexpr std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/// Converts `pixels` interleaved samples with `channels` per pixel (1 = L, 2 = LA, 3 = RGB,
/// 4 = RGBA) to 8-bit grayscale in `out` (one byte per pixel). Alpha is ignored, as in Pillow.
/// Runs the best SIMD target of this CPU (Highway dynamic dispatch), bit-exact on every target.
/// Throws std::invalid_argument on an unsupported channel count or mismatched sizes.
void to_gray(std::span<const std::uint8_t> src, int channels, std::span<std::uint8_t> out);

/// Name of the SIMD target to_gray() dispatches to on this CPU ("AVX2", "AVX3", "SSE4", ...),
/// as Highway names it (hwy::TargetName); recorded per run.
std::string simd_target();

/// Names of every SIMD target compiled into to_gray() that this CPU can run, best first
/// (only the forced one while force_simd_target() restricts dispatch).
std::vector<std::string> simd_targets_available();

/// Restricts dispatch to the named target (one of simd_targets_available()), or lifts the
/// restriction when `name` is empty. For tests and benchmarks that compare targets; throws
/// std::invalid_argument on an unknown or unavailable name. Not thread-safe.
void force_simd_target(const std::string& name);

}  // namespace graybench
