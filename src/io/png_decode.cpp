// PNG decoding of our own for the common layouts: libdeflate's one-shot inflate and a row
// unfilter, in place in the caller's (reused) pixel buffer. Measured on 14 real wallpapers,
// libspng spends most of its time in zlib's inflate, which libdeflate does 4-10x faster.
#include <libdeflate.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "io/codec_internal.hpp"
#include "io/limits.hpp"

namespace graybench::detail {

namespace {

[[noreturn]] void png_fail(const std::string& what) {
  throw ImageError(ImageStatus::kDecodeError, "decode failed: PNG " + what);
}

bool is_type(const std::uint8_t* type, const char* name) {
  return std::memcmp(type, name, 4) == 0;
}

/// A chunk type's four bytes as text for a message; bytes outside A-Za-z as \xNN.
std::string type_name(const std::uint8_t* type) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t c = type[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      s += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      s += "\\x";
      s += kHex[c >> 4];
      s += kHex[c & 15];
    }
  }
  return s;
}

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_decompressor* decompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorFree> d(
      libdeflate_alloc_decompressor());
  if (!d) throw std::bad_alloc();
  return d.get();
}

// Unfiltering (PNG spec section 9). Each function turns one filtered row `src` into `dst`
// (`n` bytes, `bpp` bytes per complete pixel, `up` the previous reconstructed row). `dst` may
// lie before `src` in the same buffer (the in-place compaction below): every function reads
// src[i] before it writes dst[i] and moves forward, so nothing unread is overwritten.

void unfilter_none(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  std::memmove(dst, src, n);
}

void unfilter_sub(std::uint8_t* dst, const std::uint8_t* src, std::size_t n, std::size_t bpp) {
  for (std::size_t i = 0; i < bpp && i < n; ++i)
    dst[i] = src[i];
  for (std::size_t i = bpp; i < n; ++i)
    dst[i] = static_cast<std::uint8_t>(src[i] + dst[i - bpp]);
}

void unfilter_up(std::uint8_t* dst, const std::uint8_t* src, const std::uint8_t* up,
                 std::size_t n) {
  // Eight bytes at a time through a register: load before store keeps the in-place case safe.
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t s, u;
    std::memcpy(&s, src + i, 8);
    std::memcpy(&u, up + i, 8);
    // Bytewise add without carries between bytes (SWAR).
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    const std::uint64_t sum = ((s & ~kHigh) + (u & ~kHigh)) ^ ((s ^ u) & kHigh);
    std::memcpy(dst + i, &sum, 8);
  }
  for (; i < n; ++i)
    dst[i] = static_cast<std::uint8_t>(src[i] + up[i]);
}

void unfilter_avg(std::uint8_t* dst, const std::uint8_t* src, const std::uint8_t* up, std::size_t n,
                  std::size_t bpp) {
  for (std::size_t i = 0; i < bpp && i < n; ++i)
    dst[i] = static_cast<std::uint8_t>(src[i] + (up[i] >> 1));
  for (std::size_t i = bpp; i < n; ++i)
    dst[i] = static_cast<std::uint8_t>(src[i] + ((dst[i - bpp] + up[i]) >> 1));
}

inline int paeth(int a, int b, int c) {
  // The spec's predictor, written without branches: pa = |b - c|, pb = |a - c|,
  // pc = |a + b - 2c|; ties prefer a, then b.
  const int pa = std::abs(b - c);
  const int pb = std::abs(a - c);
  const int pc = std::abs(a + b - c - c);
  const int ab = pb < pa ? b : a;
  const int pab = pb < pa ? pb : pa;
  return pc < pab ? c : ab;
}

template <std::size_t Bpp>
void unfilter_paeth_fixed(std::uint8_t* dst, const std::uint8_t* src, const std::uint8_t* up,
                          std::size_t n) {
  // The first pixel: a = c = 0, so the predictor is b.
  for (std::size_t k = 0; k < Bpp && k < n; ++k)
    dst[k] = static_cast<std::uint8_t>(src[k] + up[k]);
  // Per channel, the left neighbour and upper-left are carried in registers.
  int a[Bpp], c[Bpp];
  for (std::size_t k = 0; k < Bpp && k < n; ++k) {
    a[k] = dst[k];
    c[k] = up[k];
  }
  for (std::size_t i = Bpp; i + Bpp <= n; i += Bpp) {
    for (std::size_t k = 0; k < Bpp; ++k) {
      const int b = up[i + k];
      const int v = (src[i + k] + paeth(a[k], b, c[k])) & 0xFF;
      dst[i + k] = static_cast<std::uint8_t>(v);
      a[k] = v;
      c[k] = b;
    }
  }
}

void unfilter_paeth(std::uint8_t* dst, const std::uint8_t* src, const std::uint8_t* up,
                    std::size_t n, std::size_t bpp) {
  switch (bpp) {
    case 1:
      return unfilter_paeth_fixed<1>(dst, src, up, n);
    case 2:
      return unfilter_paeth_fixed<2>(dst, src, up, n);
    case 3:
      return unfilter_paeth_fixed<3>(dst, src, up, n);
    case 4:
      return unfilter_paeth_fixed<4>(dst, src, up, n);
    case 6:
      return unfilter_paeth_fixed<6>(dst, src, up, n);
    case 8:
      return unfilter_paeth_fixed<8>(dst, src, up, n);
    default:
      break;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const int a = i >= bpp ? dst[i - bpp] : 0;
    const int c = i >= bpp ? up[i - bpp] : 0;
    dst[i] = static_cast<std::uint8_t>(src[i] + paeth(a, up[i], c));
  }
}

}  // namespace

PngFastResult decode_png_fast(std::span<const std::uint8_t> encoded, Image& out,
                              std::uint64_t max_pixels) {
  const std::uint8_t* const data = encoded.data();
  const std::size_t size = encoded.size();
  // Signature (checked by the caller), then IHDR: length 13, type, 13 bytes, CRC.
  if (size < 8 + 8 + 13 + 4) png_fail("truncated: no complete IHDR chunk");
  if (be32(data + 8) != 13 || !is_type(data + 12, "IHDR")) png_fail("first chunk is not IHDR");
  const std::uint8_t* ihdr = data + 16;
  if (libdeflate_crc32(0, data + 12, 17) != be32(data + 29)) png_fail("IHDR CRC mismatch");
  const std::uint32_t width = be32(ihdr);
  const std::uint32_t height = be32(ihdr + 4);
  const int bit_depth = ihdr[8];
  const int color_type = ihdr[9];
  if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu) {
    png_fail("header: bad dimensions " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (ihdr[10] != 0 || ihdr[11] != 0) png_fail("header: unknown compression or filter method");
  int channels = 0;
  switch (color_type) {
    case 0:
      channels = 1;
      break;
    case 2:
      channels = 3;
      break;
    case 4:
      channels = 2;
      break;
    case 6:
      channels = 4;
      break;
    case 3:
      return PngFastResult::kUseSpng;  // palette: libspng expands it
    default:
      png_fail("header: bad color type " + std::to_string(color_type));
  }
  if (bit_depth < 8) {
    if (color_type != 0 || (bit_depth != 1 && bit_depth != 2 && bit_depth != 4)) {
      png_fail("header: bad bit depth " + std::to_string(bit_depth));
    }
    return PngFastResult::kUseStb;  // sub-byte gray: stb_image scales it, as before
  }
  if (bit_depth != 8 && bit_depth != 16) {
    png_fail("header: bad bit depth " + std::to_string(bit_depth));
  }
  if (ihdr[12] == 1) return PngFastResult::kUseSpng;  // Adam7 interlace: libspng
  if (ihdr[12] != 0) png_fail("header: unknown interlace method");
  enforce_pixel_limit(width, height, max_pixels);

  // Walk the chunks up to IEND: gather IDAT (one span when there is a single chunk, as most
  // encoders write; else a copy into a per-thread buffer), check critical chunks' CRCs.
  thread_local std::vector<std::uint8_t> joined;
  std::span<const std::uint8_t> z;
  std::size_t idat_chunks = 0;
  bool idat_done = false, iend = false;
  std::size_t pos = 8 + 8 + 13 + 4;
  while (pos + 12 <= size) {
    const std::uint32_t len = be32(data + pos);
    const std::uint8_t* type = data + pos + 4;
    if (len > 0x7FFFFFFFu || len > size - pos - 12)
      png_fail("truncated in chunk " + type_name(type));
    const std::uint8_t* body = data + pos + 8;
    const bool critical = (type[0] & 0x20) == 0;
    if (critical && libdeflate_crc32(0, type, len + 4) != be32(body + len)) {
      png_fail(type_name(type) + " CRC mismatch");
    }
    if (is_type(type, "IDAT")) {
      if (idat_done) png_fail("IDAT chunks not consecutive");
      if (idat_chunks == 0) {
        z = {body, len};
      } else {
        if (idat_chunks == 1) joined.assign(z.begin(), z.end());
        joined.insert(joined.end(), body, body + len);
        z = joined;
      }
      ++idat_chunks;
    } else {
      if (idat_chunks) idat_done = true;
      if (is_type(type, "IEND")) {
        iend = true;
        break;
      }
      if (is_type(type, "tRNS")) {
        if (idat_chunks) png_fail("tRNS after IDAT");
        return PngFastResult::kUseStb;  // tRNS on gray/RGB: stb_image adds alpha, as before
      }
      if (is_type(type, "PLTE") && (color_type == 0 || color_type == 4)) {
        png_fail("PLTE in a gray image");
      }
      if (critical && !is_type(type, "PLTE")) png_fail("unknown critical chunk " + type_name(type));
    }
    pos += 12 + std::size_t{len};
  }
  if (idat_chunks == 0) png_fail(iend ? "no IDAT chunk" : "truncated before IDAT");

  const std::size_t bytes = bit_depth / 8;
  const std::size_t bpp = static_cast<std::size_t>(channels) * bytes;
  const std::size_t w = width, h = height;
  if (w > SIZE_MAX / bpp - 1) png_fail("header: row too long");
  const std::size_t stride = w * bpp;
  if (h > SIZE_MAX / (stride + 1)) png_fail("header: image too large");
  const std::size_t raw = h * (stride + 1);

  // Inflate straight into the pixel buffer, then unfilter each row to its final place:
  // row y's filtered bytes start at y * (stride + 1) + 1 and go to y * stride.
  out.pixels.resize(raw);
  std::uint8_t* const px = out.pixels.data();
  std::size_t produced = 0;
  const libdeflate_result rc =
      libdeflate_zlib_decompress(decompressor(), z.data(), z.size(), px, raw, &produced);
  if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) png_fail("image data longer than the image");
  if (rc != LIBDEFLATE_SUCCESS) {
    png_fail(iend ? "image data corrupt (inflate failed)" : "truncated (inflate failed)");
  }
  if (produced != raw) {
    png_fail("image data ends after " + std::to_string(produced) + " of " + std::to_string(raw) +
             " bytes");
  }
  thread_local std::vector<std::uint8_t> zero_row;  // the row above the first
  if (zero_row.size() < stride) zero_row.assign(stride, 0);
  for (std::size_t y = 0; y < h; ++y) {
    const std::uint8_t filter = px[y * (stride + 1)];
    const std::uint8_t* src = px + y * (stride + 1) + 1;
    std::uint8_t* dst = px + y * stride;
    const std::uint8_t* up = y ? dst - stride : zero_row.data();
    switch (filter) {
      case 0:
        unfilter_none(dst, src, stride);
        break;
      case 1:
        unfilter_sub(dst, src, stride, bpp);
        break;
      case 2:
        unfilter_up(dst, src, up, stride);
        break;
      case 3:
        unfilter_avg(dst, src, up, stride, bpp);
        break;
      case 4:
        unfilter_paeth(dst, src, up, stride, bpp);
        break;
      default:
        png_fail("bad filter type " + std::to_string(filter) + " in row " + std::to_string(y));
    }
  }
  std::size_t n = h * stride;
  if (bytes == 2) {
    // Keep each sample's high byte (big-endian: the first), compacting forward in place.
    n /= 2;
    for (std::size_t i = 0; i < n; ++i)
      px[i] = px[2 * i];
  }
  out.pixels.resize(n);
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.channels = channels;
  out.bit_depth = bit_depth;
  return PngFastResult::kDecoded;
}

}  // namespace graybench::detail
