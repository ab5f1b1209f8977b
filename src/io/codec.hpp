#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/image.hpp"
#include "core/work_item.hpp"

namespace graybench {

/// Decodes PNG, JPEG, BMP, TGA, GIF (first frame), PNM and PSD with the file's own channel
/// count. 16-bit samples keep their high byte (v >> 8). Throws ImageError(kDecodeError).
Image decode_image(std::span<const std::uint8_t> encoded);

/// Width x height from the file's header without decoding it (stbi_info), or nullopt when
/// the header cannot be read.
std::optional<std::uint64_t> probe_pixels(const std::string& path);

/// Work estimate of each file for the `size` distribution: width x height read from its header
/// where the format allows, else its size in bytes (an unreadable header counts as its bytes).
std::vector<std::uint64_t> work_estimates(const std::vector<InputFile>& files);

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
