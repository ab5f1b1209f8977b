#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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

/// Which decoders read the input. kAuto: libjpeg-turbo for JPEG (Pillow's settings, so the
/// gray is Pillow's bit for bit), libspng for PNG, stb_image for the formats only it reads
/// (BMP, TGA, GIF, PSD, PNM). kStb: stb_image for everything (the original code path).
enum class Decoder { kAuto, kStb };

/// "auto" or "stb".
std::string_view to_string(Decoder decoder);
/// The decoder named `name`, or nullopt.
std::optional<Decoder> decoder_from_string(std::string_view name);

/// PNG compression levels accepted by encode_png (libdeflate's 1..12) and the default: on 30
/// real wallpapers level 1 writes 1.079x Pillow's bytes (zlib 6) at 2.2x level 6's speed;
/// level 6 writes 1.018x (see docs/codecs.md).
inline constexpr int kPngLevelMin = 1;
inline constexpr int kPngLevelMax = 12;
inline constexpr int kPngLevelDefault = 1;

/// Decodes PNG, JPEG, BMP, TGA, GIF (first frame), PNM and PSD with the file's own channel
/// count into `out`, reusing its pixel buffer. 16-bit samples keep their high byte (v >> 8).
/// CMYK/YCCK JPEG comes out as RGB, converted as Pillow converts CMYK to RGB.
/// Throws ImageError(kDecodeError); `out` is unspecified after a throw.
void decode_image(std::span<const std::uint8_t> encoded, Image& out,
                  Decoder decoder = Decoder::kAuto);

/// As above, into a new image.
Image decode_image(std::span<const std::uint8_t> encoded, Decoder decoder = Decoder::kAuto);

/// Width x height from the file's header without decoding it (stbi_info), or nullopt when
/// the header cannot be read.
std::optional<std::uint64_t> probe_pixels(const std::string& path);

/// Encodes 8-bit samples (1-4 channels) as PNG into `out` (replacing its content, reusing its
/// buffer): per-row filter with the least sum of absolute values among None, Sub, Up and
/// Paeth (libpng's and Pillow's heuristic), then libdeflate at `level` (kPngLevelMin..Max).
/// Throws ImageError(kEncodeError).
void encode_png(std::span<const std::uint8_t> pixels, int width, int height, int channels,
                std::vector<std::uint8_t>& out, int level = kPngLevelDefault);

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
/// libjpeg_turbo, libspng, libdeflate, stb_image (names usable as attribute suffixes).
std::vector<std::pair<std::string, std::string>> codec_versions();

}  // namespace graybench
