// PNG decoding (our own for the common layouts, libspng for palette and interlace) and PNG encoding
// of our own around ISA-L and libdeflate.
#include <isa-l.h>  // version macros; includes isa-l/igzip_lib.h
#include <libdeflate.h>
#include <spng.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "core/errors.hpp"
#include "io/codec_internal.hpp"
#include "io/limits.hpp"
#include "io/png_filter.hpp"

namespace graybench {

namespace detail {

namespace {

struct SpngFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};

[[noreturn]] void spng_fail(const char* what, int rc) {
  throw ImageError(ImageStatus::kDecodeError,
                   std::string("decode failed: libspng ") + what + ": " + spng_strerror(rc));
}

}  // namespace

bool is_png(std::span<const std::uint8_t> encoded) {
  static constexpr std::uint8_t kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return encoded.size() >= sizeof kSignature &&
         std::memcmp(encoded.data(), kSignature, sizeof kSignature) == 0;
}

bool decode_png(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels) {
  switch (decode_png_fast(encoded, out, max_pixels)) {
    case PngFastResult::kDecoded:
      return true;
    case PngFastResult::kUseStb:
      return false;
    case PngFastResult::kUseSpng:
      break;
  }
  return decode_png_spng(encoded, out, max_pixels);
}

bool decode_png_spng(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels) {
  std::unique_ptr<spng_ctx, SpngFree> ctx(spng_ctx_new(0));
  if (!ctx) throw std::bad_alloc();
  spng_ctx* c = ctx.get();
  if (int rc = spng_set_png_buffer(c, encoded.data(), encoded.size())) spng_fail("buffer", rc);
  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(c, &ihdr)) spng_fail("header", rc);
  enforce_pixel_limit(ihdr.width, ihdr.height, max_pixels);
  spng_trns trns{};
  const bool has_trns = spng_get_trns(c, &trns) == 0;

  int fmt = SPNG_FMT_PNG;
  int flags = 0;
  int channels = 0;
  switch (ihdr.color_type) {
    case SPNG_COLOR_TYPE_INDEXED:
      // As stb_image: the palette's RGB, plus alpha when the file has tRNS.
      fmt = has_trns ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
      flags = has_trns ? SPNG_DECODE_TRNS : 0;
      channels = has_trns ? 4 : 3;
      break;
    case SPNG_COLOR_TYPE_GRAYSCALE:
      channels = 1;
      break;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
      channels = 2;
      break;
    case SPNG_COLOR_TYPE_TRUECOLOR:
      channels = 3;
      break;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA:
      channels = 4;
      break;
    default:
      spng_fail("header", SPNG_ECOLOR_TYPE);
  }
  // stb_image scales sub-byte gray and adds an alpha channel for tRNS on gray/RGB: leave
  // those rare layouts to it so results and channel counts stay as they were.
  if (ihdr.color_type != SPNG_COLOR_TYPE_INDEXED && (has_trns || ihdr.bit_depth < 8)) {
    return false;
  }
  const bool wide = ihdr.color_type != SPNG_COLOR_TYPE_INDEXED && ihdr.bit_depth == 16;
  if (wide) fmt = SPNG_FMT_RAW;  // big-endian: the high byte comes first

  std::size_t size = 0;
  if (int rc = spng_decoded_image_size(c, fmt, &size)) spng_fail("size", rc);
  out.pixels.resize(size);
  if (int rc = spng_decode_image(c, out.pixels.data(), size, fmt, flags)) spng_fail("image", rc);
  out.width = static_cast<int>(ihdr.width);
  out.height = static_cast<int>(ihdr.height);
  out.channels = channels;
  out.bit_depth = wide ? 16 : 8;
  if (wide) {
    // Keep each sample's high byte, compacting forward in place.
    std::uint8_t* p = out.pixels.data();
    const std::size_t n = size / 2;
    for (std::size_t i = 0; i < n; ++i)
      p[i] = p[2 * i];
    out.pixels.resize(n);
  }
  return true;
}

std::string spng_library_version() {
  return spng_version_string();
}

std::string deflate_library_version() {
  return LIBDEFLATE_VERSION_STRING;
}

std::string isal_library_version() {
  // The header's numbers: ISA-L has no run-time version query.
  return std::to_string(ISAL_MAJOR_VERSION) + "." + std::to_string(ISAL_MINOR_VERSION) + "." +
         std::to_string(ISAL_PATCH_VERSION);
}

}  // namespace detail

namespace {

struct CompressorFree {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

/// One compressor per thread and level: allocating one costs more than a small image.
libdeflate_compressor* compressor(int level) {
  thread_local std::array<std::unique_ptr<libdeflate_compressor, CompressorFree>, kPngLevelMax + 1>
      cache;
  auto& slot = cache[static_cast<std::size_t>(level)];
  if (!slot) slot.reset(libdeflate_alloc_compressor(level));
  if (!slot) throw std::bad_alloc();
  return slot.get();
}

/// Level 1 sends an image to libdeflate instead of ISA-L when its filtered bytes average less
/// than this |value|: smooth images (gradients, flat artwork), where long matches carry the
/// compression and ISA-L's one-probe matcher writes 5-13 % more than libdeflate's level 1. On
/// photographs ISA-L is 2-2.5x faster at 0-3 % more bytes. Measured on 30 wallpapers
/// (docs/codecs.md): ISA-L alone writes 1.105x Pillow's bytes, this split 1.087x.
constexpr std::uint64_t kSmoothCostPerByte = 1;

/// ISA-L's igzip at level 1, one shot, zlib-wrapped, into out[0, cap). Returns the length, or
/// 0 when the output did not fit `cap`.
std::size_t isal_zlib_compress(const std::uint8_t* in, std::size_t n, std::uint8_t* out,
                               std::size_t cap) {
  // The stream holds ~80 KB of state and the level buffer 300 KB: both per thread, reused.
  thread_local std::unique_ptr<isal_zstream> stream = std::make_unique<isal_zstream>();
  thread_local std::vector<std::uint8_t> level_buf(ISAL_DEF_LVL1_DEFAULT);
  isal_zstream& s = *stream;
  // The level buffer holds igzip's hash table, which a stateless call does not clear: entries
  // left by the previous image steer the match search, so the same image compressed after
  // different images gave different (valid) bytes. Clearing it makes the output a function of
  // the image alone (the test compares outputs across strategies byte for byte).
  std::fill(level_buf.begin(), level_buf.end(), std::uint8_t{0});
  isal_deflate_stateless_init(&s);
  s.level = 1;
  s.level_buf = level_buf.data();
  s.level_buf_size = static_cast<std::uint32_t>(level_buf.size());
  s.gzip_flag = IGZIP_ZLIB;
  s.flush = NO_FLUSH;
  s.end_of_stream = 1;
  s.next_in = const_cast<std::uint8_t*>(in);  // ISA-L's field is not const; it only reads
  s.avail_in = static_cast<std::uint32_t>(n);
  s.next_out = out;
  s.avail_out = static_cast<std::uint32_t>(cap);
  const int rc = isal_deflate_stateless(&s);
  if (rc == STATELESS_OVERFLOW) return 0;
  if (rc != COMP_OK) {
    throw ImageError(ImageStatus::kEncodeError,
                     "encode: ISA-L isal_deflate_stateless failed (" + std::to_string(rc) + ")");
  }
  return s.total_out;
}

void put_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

/// Appends a chunk whose data is already in `out` at [start + 8, start + 8 + n), leaving room
/// for length and type at `start`; adds the CRC.
void close_chunk(Bytes& out, std::size_t start, const char* type, std::size_t n) {
  put_be32(out.data() + start, static_cast<std::uint32_t>(n));
  std::memcpy(out.data() + start + 4, type, 4);
  const std::uint32_t crc = libdeflate_crc32(0, out.data() + start + 4, n + 4);
  out.resize(start + 8 + n + 4);
  put_be32(out.data() + start + 8 + n, crc);
}

}  // namespace

void encode_png(std::span<const std::uint8_t> pixels, int width, int height, int channels,
                Bytes& out, int level) {
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
      pixels.size() != static_cast<std::size_t>(width) * height * channels) {
    throw ImageError(ImageStatus::kEncodeError, "encode: bad dimensions " + std::to_string(width) +
                                                    "x" + std::to_string(height) + "x" +
                                                    std::to_string(channels));
  }
  if (level < kPngLevelMin || level > kPngLevelMax) {
    throw ImageError(ImageStatus::kEncodeError,
                     "encode: PNG level " + std::to_string(level) + " outside 1..12");
  }
  const auto bpp = static_cast<std::size_t>(channels);
  const std::size_t row = static_cast<std::size_t>(width) * bpp;
  const auto rows = static_cast<std::size_t>(height);

  // Per-thread buffer of the filtered rows, reused across images.
  thread_local Bytes filtered;
  filtered.resize((row + 1) * rows);
  const std::uint64_t cost =
      detail::png_filter_rows(pixels.data(), row, rows, bpp, filtered.data());

  libdeflate_compressor* z = compressor(level);
  const std::size_t bound = libdeflate_zlib_compress_bound(z, filtered.size());
  static constexpr std::uint8_t kColorType[] = {0, 0, 4, 2, 6};
  static constexpr std::uint8_t kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  out.resize(8 + 8 + 13);
  std::memcpy(out.data(), kSignature, 8);
  std::uint8_t* ihdr = out.data() + 8 + 8;
  put_be32(ihdr, static_cast<std::uint32_t>(width));
  put_be32(ihdr + 4, static_cast<std::uint32_t>(height));
  ihdr[8] = 8;  // bit depth
  ihdr[9] = kColorType[channels];
  ihdr[10] = ihdr[11] = ihdr[12] = 0;  // deflate, adaptive filtering, no interlace
  close_chunk(out, 8, "IHDR", 13);

  // Compress into a per-thread buffer that only grows, then copy the result: sizing `out` to
  // the bound would zero-fill it on every call (a memset of the whole bound, 14 % of encode).
  thread_local Bytes zbuf;
  if (zbuf.size() < bound) zbuf.resize(bound);
  std::size_t zlen = 0;
  // ISA-L's lengths are 32-bit: larger streams (never a gray image under --max-pixels) take
  // libdeflate, as does an ISA-L output that overflows the bound.
  const bool isal = level == 1 && cost >= kSmoothCostPerByte * row * rows &&
                    bound <= std::numeric_limits<std::uint32_t>::max();
  if (isal) zlen = isal_zlib_compress(filtered.data(), filtered.size(), zbuf.data(), bound);
  if (zlen == 0)
    zlen = libdeflate_zlib_compress(z, filtered.data(), filtered.size(), zbuf.data(), bound);
  if (zlen == 0) throw ImageError(ImageStatus::kEncodeError, "encode: libdeflate failed");
  const std::size_t idat = out.size();
  out.resize(idat + 8 + zlen);
  std::memcpy(out.data() + idat + 8, zbuf.data(), zlen);
  close_chunk(out, idat, "IDAT", zlen);
  const std::size_t iend = out.size();
  out.resize(iend + 12);
  close_chunk(out, iend, "IEND", 0);
}

std::vector<std::uint8_t> encode_png(std::span<const std::uint8_t> pixels, int width, int height,
                                     int channels, int level) {
  Bytes out;
  encode_png(pixels, width, height, channels, out, level);
  return {out.begin(), out.end()};
}

std::string png_encoder_name() {
  return "graybench-png (minsum None/Sub/Up/Paeth; level 1: ISA-L igzip 1, libdeflate 1 where "
         "mean |filtered byte| < 1; levels 2-12: libdeflate)";
}

}  // namespace graybench
