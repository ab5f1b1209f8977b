// PNG decoding (our own for the common layouts, libspng for palette and interlace) and PNG encoding
// of our own around libdeflate.
#include <libdeflate.h>
#include <spng.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/errors.hpp"
#include "io/codec_internal.hpp"

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

bool decode_png(std::span<const std::uint8_t> encoded, Image& out) {
  switch (decode_png_fast(encoded, out)) {
    case PngFastResult::kDecoded:
      return true;
    case PngFastResult::kUseStb:
      return false;
    case PngFastResult::kUseSpng:
      break;
  }
  return decode_png_spng(encoded, out);
}

bool decode_png_spng(std::span<const std::uint8_t> encoded, Image& out) {
  std::unique_ptr<spng_ctx, SpngFree> ctx(spng_ctx_new(0));
  if (!ctx) throw std::bad_alloc();
  spng_ctx* c = ctx.get();
  if (int rc = spng_set_png_buffer(c, encoded.data(), encoded.size())) spng_fail("buffer", rc);
  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(c, &ihdr)) spng_fail("header", rc);
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

inline unsigned cost(std::uint8_t v) {
  // libpng's heuristic: the filtered bytes as signed values, sum of absolute values.
  const int s = v < 128 ? int{v} : int{v} - 256;  // the byte read as two's complement
  return static_cast<unsigned>(s < 0 ? -s : s);
}

inline std::uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<std::uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/// Filters one row of `n` bytes (`bpp` bytes per pixel; `prev` is the row above, zeros for
/// the first) with the cheapest of None, Sub, Up and Paeth into dst[0] (type) and dst[1..n].
/// Each candidate is a separate simple loop the compiler vectorises.
void filter_row(const std::uint8_t* cur, const std::uint8_t* prev, std::size_t n, std::size_t bpp,
                std::uint8_t* dst, std::uint8_t* scratch) {
  std::uint8_t* sub = scratch;
  std::uint8_t* up = scratch + n;
  std::uint8_t* pae = scratch + 2 * n;
  unsigned c_none = 0, c_sub = 0, c_up = 0, c_paeth = 0;
  for (std::size_t i = 0; i < n; ++i)
    c_none += cost(cur[i]);
  for (std::size_t i = 0; i < bpp; ++i) {
    sub[i] = cur[i];
    pae[i] = static_cast<std::uint8_t>(cur[i] - prev[i]);  // Paeth(0, b, 0) = b
  }
  for (std::size_t i = bpp; i < n; ++i)
    sub[i] = static_cast<std::uint8_t>(cur[i] - cur[i - bpp]);
  for (std::size_t i = 0; i < n; ++i)
    up[i] = static_cast<std::uint8_t>(cur[i] - prev[i]);
  for (std::size_t i = bpp; i < n; ++i)
    pae[i] = static_cast<std::uint8_t>(cur[i] - paeth(cur[i - bpp], prev[i], prev[i - bpp]));
  for (std::size_t i = 0; i < n; ++i) {
    c_sub += cost(sub[i]);
    c_up += cost(up[i]);
    c_paeth += cost(pae[i]);
  }
  std::uint8_t type = 0;
  const std::uint8_t* best = cur;
  unsigned c_best = c_none;
  if (c_sub < c_best) type = 1, best = sub, c_best = c_sub;
  if (c_up < c_best) type = 2, best = up, c_best = c_up;
  if (c_paeth < c_best) type = 4, best = pae;
  dst[0] = type;
  std::memcpy(dst + 1, best, n);
}

void put_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

/// Appends a chunk whose data is already in `out` at [start + 8, start + 8 + n), leaving room
/// for length and type at `start`; adds the CRC.
void close_chunk(std::vector<std::uint8_t>& out, std::size_t start, const char* type,
                 std::size_t n) {
  put_be32(out.data() + start, static_cast<std::uint32_t>(n));
  std::memcpy(out.data() + start + 4, type, 4);
  const std::uint32_t crc = libdeflate_crc32(0, out.data() + start + 4, n + 4);
  out.resize(start + 8 + n + 4);
  put_be32(out.data() + start + 8 + n, crc);
}

}  // namespace

void encode_png(std::span<const std::uint8_t> pixels, int width, int height, int channels,
                std::vector<std::uint8_t>& out, int level) {
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

  // Per-thread scratch, reused across images: the filtered rows and the candidate rows.
  thread_local std::vector<std::uint8_t> filtered, scratch, zeros;
  filtered.resize((row + 1) * rows);
  scratch.resize(3 * row);
  zeros.assign(row, 0);
  for (std::size_t y = 0; y < rows; ++y) {
    const std::uint8_t* cur = pixels.data() + row * y;
    const std::uint8_t* prev = y ? cur - row : zeros.data();
    filter_row(cur, prev, row, bpp, filtered.data() + (row + 1) * y, scratch.data());
  }

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
  thread_local std::vector<std::uint8_t> zbuf;
  if (zbuf.size() < bound) zbuf.resize(bound);
  const std::size_t zlen =
      libdeflate_zlib_compress(z, filtered.data(), filtered.size(), zbuf.data(), bound);
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
  std::vector<std::uint8_t> out;
  encode_png(pixels, width, height, channels, out, level);
  return out;
}

std::string png_encoder_name() {
  return "graybench-png (minsum None/Sub/Up/Paeth + libdeflate)";
}

}  // namespace graybench
