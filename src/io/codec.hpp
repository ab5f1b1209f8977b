#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace graybench {

/// A decoded image: interleaved 8-bit samples, `channels` per pixel (1 L, 2 LA, 3 RGB, 4 RGBA).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  int bit_depth = 8;  ///< bits per sample in the file (16-bit PNGs are reduced to 8, see docs)
  std::vector<std::uint8_t> pixels;

  std::size_t pixel_count() const { return static_cast<std::size_t>(width) * height; }
};

/// Decodes PNG, JPEG, BMP, TGA, GIF (first frame), PNM and PSD with the file's own channel
/// count. 16-bit samples keep their high byte (v >> 8). Throws ImageError(kDecodeError).
Image decode_image(std::span<const std::uint8_t> encoded);

/// Width x height from the file's header without decoding it (stbi_info), or nullopt when
/// the header cannot be read.
std::optional<std::uint64_t> probe_pixels(const std::string& path);

/// Encodes 8-bit samples as PNG (1-4 channels). Throws ImageError(kEncodeError).
std::vector<std::uint8_t> encode_png(std::span<const std::uint8_t> pixels, int width, int height,
                                     int channels);

/// Encodes big-endian 16-bit samples (2 bytes each) as a 16-bit PNG: used by the generator.
std::vector<std::uint8_t> encode_png16(std::span<const std::uint8_t> samples_be, int width,
                                       int height, int channels);

/// Encodes 1 (gray) or 3 (RGB) channel 8-bit samples as baseline JPEG at `quality` (1-100).
std::vector<std::uint8_t> encode_jpeg(std::span<const std::uint8_t> pixels, int width, int height,
                                      int channels, int quality);

}  // namespace graybench
