#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/image.hpp"
#include "core/options.hpp"
#include "core/work_item.hpp"
#include "io/limits.hpp"

namespace graybench {

/// Decodes PNG, JPEG, BMP, TGA, GIF (first frame), PNM and PSD with the file's own channel
/// count into `out`, reusing its pixel buffer. 16-bit samples keep their high byte (v >> 8).
/// CMYK/YCCK JPEG comes out as RGB, converted as Pillow converts CMYK to RGB.
/// Refuses an image of more than `max_pixels` pixels before allocating it, as the decoder
/// itself reads the header (ImageError "exceeds --max-pixels"): a header that our probe reads
/// differently cannot smuggle a decompression bomb past the limit.
/// Throws ImageError(kDecodeError); `out` is unspecified after a throw.
void decode_image(std::span<const std::uint8_t> encoded, Image& out,
                  Decoder decoder = Decoder::kAuto, std::uint64_t max_pixels = kDefaultMaxPixels);

/// As above, into a new image.
Image decode_image(std::span<const std::uint8_t> encoded, Decoder decoder = Decoder::kAuto,
                   std::uint64_t max_pixels = kDefaultMaxPixels);

/// Width x height from the file's header without decoding it (stbi_info), or nullopt when
/// the header cannot be read.
std::optional<std::uint64_t> probe_pixels(const std::string& path);

/// Work estimate of each file for the `size` distribution: width x height read from its header
/// where the format allows, else its size in bytes (an unreadable header counts as its bytes).
std::vector<std::uint64_t> work_estimates(const std::vector<InputFile>& files);

/// Encodes 8-bit samples (1-4 channels) as PNG into `out` (replacing its content, reusing its
/// buffer): per-row filter with the least sum of absolute values among None, Sub, Up and
/// Paeth (libpng's heuristic), then deflate at `level` (kPngLevelMin..Max): level 1 with
/// ISA-L's igzip level 1, or libdeflate's level 1 for smooth images (mean |filtered byte| < 1,
/// where ISA-L's fast matcher loses 5-13 %); levels 2-12 with libdeflate at that level.
/// Throws ImageError(kEncodeError).
void encode_png(std::span<const std::uint8_t> pixels, int width, int height, int channels,
                Bytes& out, int level = kPngLevelDefault);

/// As above, into a new buffer.
std::vector<std::uint8_t> encode_png(std::span<const std::uint8_t> pixels, int width, int height,
                                     int channels, int level = kPngLevelDefault);

/// The original stb_image_write PNG encoder, kept for comparison in benchmarks.
std::vector<std::uint8_t> encode_png_stb(std::span<const std::uint8_t> pixels, int width,
                                         int height, int channels);

/// Encodes big-endian 16-bit samples (2 bytes each) as a 16-bit PNG: used by the generator.
std::vector<std::uint8_t> encode_png16(std::span<const std::uint8_t> samples_be, int width,
                                       int height, int channels);

/// Encodes 1 (gray) or 3 (RGB) channel 8-bit samples as baseline JPEG at `quality` (1-100).
std::vector<std::uint8_t> encode_jpeg(std::span<const std::uint8_t> pixels, int width, int height,
                                      int channels, int quality);

/// The PNG encoder's name for the run metadata, e.g. "graybench-png minsum+libdeflate".
std::string png_encoder_name();

/// The codec libraries linked in, as (name, version) pairs, for the run metadata:
/// libjpeg_turbo, libspng, libdeflate, isal, stb_image (names usable as attribute suffixes).
std::vector<std::pair<std::string, std::string>> codec_versions();

}  // namespace graybench
