#pragma once

// Decoders and encoders behind io/codec.hpp's interface; nothing outside src/io includes this.

#include <cstdint>
#include <span>
#include <string>

#include "io/codec.hpp"

namespace graybench::detail {

/// The big-endian 32-bit number at `p` (PNG and PSD lengths and sizes).
inline std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

/// True when `encoded` starts with a JPEG SOI marker.
bool is_jpeg(std::span<const std::uint8_t> encoded);
/// True when `encoded` starts with the PNG signature.
bool is_png(std::span<const std::uint8_t> encoded);

/// libjpeg-turbo with Pillow's settings; refuses a frame over `max_pixels` as libjpeg reads its
/// header, before decoding. Throws ImageError(kDecodeError).
void decode_jpeg(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels);

/// What decode_png_fast did: decoded the image, or left it to libspng (palette, Adam7
/// interlace) or to stb_image (sub-byte gray, tRNS on gray or RGB: stb's channel counts).
enum class PngFastResult { kDecoded, kUseSpng, kUseStb };

/// Our own PNG decoder for 8- and 16-bit gray, gray+alpha, RGB and RGBA without interlace or
/// tRNS: libdeflate's inflate into `out`'s buffer and an in-place unfilter; 16-bit samples keep
/// their high byte. Checks critical chunks' CRCs and the zlib stream's Adler-32.
/// Refuses an image over `max_pixels` once IHDR is read, before allocating it.
/// `encoded` must start with the PNG signature. Throws ImageError(kDecodeError).
PngFastResult decode_png_fast(std::span<const std::uint8_t> encoded, Image& out,
                              std::uint64_t max_pixels);

/// decode_png_fast, else libspng. Returns false, leaving `out` untouched, for the layouts it
/// leaves to stb_image so their channel count stays what it always was (bit depth below 8,
/// tRNS on gray or RGB). Throws ImageError(kDecodeError).
bool decode_png(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels);

/// libspng alone, with decode_png's contract: the path for palette and interlaced files.
bool decode_png_spng(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels);

/// stb_image, any format it reads; refuses an image over `max_pixels` as stb reads its header
/// (stbi_info), before stb allocates it. Throws ImageError(kDecodeError).
void decode_stb(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels);

/// Library versions: libjpeg-turbo's (compile time: the library has no run-time query),
/// libspng's (run time), libdeflate's (compile time: none at run time in 1.14).
std::string jpeg_library_version();
std::string spng_library_version();
std::string deflate_library_version();
/// ISA-L's (compile time: it has no run-time query).
std::string isal_library_version();

}  // namespace graybench::detail
