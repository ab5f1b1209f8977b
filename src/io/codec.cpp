// The only translation unit that compiles stb_image and stb_image_write.
#include "io/codec.hpp"

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/utf8.hpp"
#include "io/codec_internal.hpp"
#include "io/limits.hpp"
#include "io/stb_guard.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_HDR
#define STBI_NO_PIC
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace graybench {

namespace {

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

void append_to_vector(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

void check_dims(int width, int height, int channels, std::size_t bytes, std::size_t sample_size) {
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
      bytes != static_cast<std::size_t>(width) * height * channels * sample_size) {
    throw ImageError(ImageStatus::kEncodeError, "encode: bad dimensions " + std::to_string(width) +
                                                    "x" + std::to_string(height) + "x" +
                                                    std::to_string(channels));
  }
}

std::uint32_t crc32(const std::uint8_t* p, std::size_t n, std::uint32_t crc = 0) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> s));
}

void put_chunk(std::vector<std::uint8_t>& out, const char* type, const std::uint8_t* data,
               std::size_t n) {
  put_be32(out, static_cast<std::uint32_t>(n));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + n);
  put_be32(out, crc32(out.data() + start, n + 4));
}

/// stb's reason for the last failure on this thread, never empty and free of control
/// characters (stb quotes raw chunk-type bytes: "PLT\xe5 PNG chunk not known").
std::string stb_reason() {
  const char* reason = stbi_failure_reason();
  if (!reason || !*reason) return "the decoder gave no reason (unsupported or corrupt file)";
  const std::string_view r(reason);
  if (r == "outofmem") return "out of memory";
  if (r == "unknown image type")
    return "unknown image type (not PNG, JPEG, BMP, TGA, GIF, PNM or PSD)";
  return without_controls(r);
}

}  // namespace

namespace detail {

void decode_stb(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels) {
  if (encoded.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw ImageError(ImageStatus::kDecodeError, "decode failed: file larger than 2 GiB");
  }
  // Files that make stb_image 2.27 write out of bounds or overflow never reach it.
  if (auto problem = stb_input_problem(encoded)) {
    throw ImageError(ImageStatus::kDecodeError, "decode failed: " + *problem);
  }
  std::vector<std::uint8_t> without_empty_idat;
  if (auto copy = png_without_leading_empty_idat(encoded)) {
    without_empty_idat = std::move(*copy);
    encoded = without_empty_idat;
  }
  const int len = static_cast<int>(encoded.size());
  stbi__g_failure_reason = nullptr;  // a reason left from an earlier file is not this one's
  // stb's own reading of the header, the one its loader acts on: our probe may read a damaged
  // header differently, and a decompression bomb must not get past --max-pixels that way.
  int width = 0, height = 0, channels = 0;
  if (stbi_info_from_memory(encoded.data(), len, &width, &height, &channels)) {
    enforce_pixel_limit(static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height),
                        max_pixels);
  } else {
    check_pixel_limit(encoded, max_pixels);  // stb's loader will most likely refuse it too
  }
  const int bit_depth = stbi_is_16_bit_from_memory(encoded.data(), len) ? 16 : 8;
  // desired_channels = 0: keep the file's own layout; our kernel does the conversion.
  std::unique_ptr<stbi_uc, StbFree> data(
      stbi_load_from_memory(encoded.data(), len, &width, &height, &channels, 0));
  if (!data) throw ImageError(ImageStatus::kDecodeError, "decode failed: " + stb_reason());
  out.width = width;
  out.height = height;
  out.channels = channels;
  out.bit_depth = bit_depth;
  out.pixels.assign(data.get(), data.get() + out.pixel_count() * channels);
}

}  // namespace detail

void decode_image(std::span<const std::uint8_t> encoded, Image& out, Decoder decoder,
                  std::uint64_t max_pixels) {
  if (encoded.empty()) throw ImageError(ImageStatus::kDecodeError, "decode failed: empty file");
  if (decoder == Decoder::kAuto) {
    if (detail::is_jpeg(encoded)) return detail::decode_jpeg(encoded, out, max_pixels);
    if (detail::is_png(encoded) && detail::decode_png(encoded, out, max_pixels)) return;
  }
  detail::decode_stb(encoded, out, max_pixels);
}

Image decode_image(std::span<const std::uint8_t> encoded, Decoder decoder,
                   std::uint64_t max_pixels) {
  Image img;
  decode_image(encoded, img, decoder, max_pixels);
  return img;
}

std::optional<std::uint64_t> probe_pixels(const std::string& path) {
  // Our own header reader, not stbi_info: safe on hostile files, never blocked by a FIFO.
  const auto dims = probe_file_dimensions(path);
  if (!dims || dims->pixels() == 0) return std::nullopt;
  return dims->pixels();
}

std::vector<std::uint8_t> encode_png_stb(std::span<const std::uint8_t> pixels, int width,
                                         int height, int channels) {
  check_dims(width, height, channels, pixels.size(), 1);
  std::vector<std::uint8_t> out;
  out.reserve(pixels.size() / 2 + 1024);
  if (!stbi_write_png_to_func(append_to_vector, &out, width, height, channels, pixels.data(),
                              width * channels)) {
    throw ImageError(ImageStatus::kEncodeError, "encode: PNG writer failed");
  }
  return out;
}

std::vector<std::uint8_t> encode_png16(std::span<const std::uint8_t> samples_be, int width,
                                       int height, int channels) {
  check_dims(width, height, channels, samples_be.size(), 2);
  // stb_image_write has no 16-bit PNG: build the chunks ourselves around its zlib compressor,
  // with filter type 0 on every row.
  const std::size_t row = static_cast<std::size_t>(width) * channels * 2;
  std::vector<std::uint8_t> raw;
  raw.reserve((row + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    const auto* src = samples_be.data() + row * y;
    raw.insert(raw.end(), src, src + row);
  }
  int zlen = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> z(
      stbi_zlib_compress(raw.data(), static_cast<int>(raw.size()), &zlen, 8), std::free);
  if (!z) throw ImageError(ImageStatus::kEncodeError, "encode: zlib failed");

  static constexpr std::uint8_t kColorType[] = {0, 0, 4, 2, 6};
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> ihdr;
  put_be32(ihdr, static_cast<std::uint32_t>(width));
  put_be32(ihdr, static_cast<std::uint32_t>(height));
  ihdr.insert(ihdr.end(), {16, kColorType[channels], 0, 0, 0});
  put_chunk(out, "IHDR", ihdr.data(), ihdr.size());
  put_chunk(out, "IDAT", z.get(), static_cast<std::size_t>(zlen));
  put_chunk(out, "IEND", nullptr, 0);
  return out;
}

std::vector<std::uint8_t> encode_jpeg(std::span<const std::uint8_t> pixels, int width, int height,
                                      int channels, int quality) {
  check_dims(width, height, channels, pixels.size(), 1);
  if (channels != 1 && channels != 3) {
    throw ImageError(ImageStatus::kEncodeError, "encode: JPEG needs 1 or 3 channels");
  }
  std::vector<std::uint8_t> out;
  if (!stbi_write_jpg_to_func(append_to_vector, &out, width, height, channels, pixels.data(),
                              quality)) {
    throw ImageError(ImageStatus::kEncodeError, "encode: JPEG writer failed");
  }
  return out;
}

std::vector<std::uint64_t> work_estimates(const std::vector<InputFile>& files) {
  std::vector<std::uint64_t> out;
  out.reserve(files.size());
  for (const auto& f : files)
    out.push_back(probe_pixels(f.path).value_or(f.size));
  return out;
}

std::vector<std::pair<std::string, std::string>> codec_versions() {
  return {
      {"libjpeg_turbo", detail::jpeg_library_version()},
      {"libspng", detail::spng_library_version()},
      {"libdeflate", detail::deflate_library_version()},
      {"isal", detail::isal_library_version()},
      {"stb_image", "2.27"},  // the header's own line; Debian's libstb-dev git20220908
  };
}

}  // namespace graybench
