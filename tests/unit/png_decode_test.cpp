// Our PNG decoder (src/io/png_decode.cpp) against stb_image, an independent decoder, on PNGs
// built here with every filter type forced row by row (our encoder never writes Avg), every
// layout it takes (8/16-bit gray, gray+alpha, RGB, RGBA), odd widths, split IDAT chunks; and
// every malformed file it must refuse with a reason.
#include <gtest/gtest.h>
#include <libdeflate.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "io/codec.hpp"

namespace graybench {
namespace {

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> s));
}

void chunk(std::vector<std::uint8_t>& out, const char* type,
           const std::vector<std::uint8_t>& body) {
  put32(out, static_cast<std::uint32_t>(body.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body.begin(), body.end());
  put32(out, libdeflate_crc32(0, out.data() + start, body.size() + 4));
}

/// The spec's Paeth predictor, written the plain way (the decoder has its own branch-free form).
int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

struct PngSpec {
  int width = 0, height = 0, channels = 0, bit_depth = 8;
  std::vector<std::uint8_t> samples;  // big-endian when 16-bit
  int idat_pieces = 1;                // split the zlib stream over this many IDAT chunks
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> extra;  // before IDAT
};

/// Row y uses filter type y % 5, so every type follows every other.
std::vector<std::uint8_t> build_png(const PngSpec& s) {
  const std::size_t bpp = static_cast<std::size_t>(s.channels) * (s.bit_depth / 8);
  const std::size_t stride = static_cast<std::size_t>(s.width) * bpp;
  std::vector<std::uint8_t> raw;
  for (int y = 0; y < s.height; ++y) {
    const int f = y % 5;
    raw.push_back(static_cast<std::uint8_t>(f));
    const std::uint8_t* cur = s.samples.data() + stride * y;
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? cur[i - bpp] : 0;
      const int b = y ? cur[i - stride] : 0;
      const int c = y && i >= bpp ? cur[i - stride - bpp] : 0;
      const int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
      raw.push_back(static_cast<std::uint8_t>(cur[i] - pred));
    }
  }
  libdeflate_compressor* z = libdeflate_alloc_compressor(6);
  std::vector<std::uint8_t> comp(libdeflate_zlib_compress_bound(z, raw.size()));
  comp.resize(libdeflate_zlib_compress(z, raw.data(), raw.size(), comp.data(), comp.size()));
  libdeflate_free_compressor(z);

  static constexpr std::uint8_t kColorType[] = {0, 0, 4, 2, 6};
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> ihdr;
  put32(ihdr, static_cast<std::uint32_t>(s.width));
  put32(ihdr, static_cast<std::uint32_t>(s.height));
  ihdr.insert(ihdr.end(),
              {static_cast<std::uint8_t>(s.bit_depth), kColorType[s.channels], 0, 0, 0});
  chunk(out, "IHDR", ihdr);
  for (const auto& [type, body] : s.extra)
    chunk(out, type.c_str(), body);
  const std::size_t piece = comp.size() / static_cast<std::size_t>(s.idat_pieces) + 1;
  for (std::size_t at = 0; at < comp.size(); at += piece) {
    const std::size_t end = std::min(comp.size(), at + piece);
    chunk(out, "IDAT",
          {comp.begin() + static_cast<std::ptrdiff_t>(at),
           comp.begin() + static_cast<std::ptrdiff_t>(end)});
  }
  chunk(out, "IEND", {});
  return out;
}

std::vector<std::uint8_t> noise(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    // Smooth ramps with noise on top: every filter's arithmetic wraps somewhere.
    v[i] = static_cast<std::uint8_t>((i * 7 / 3) + (seed >> 27));
  }
  return v;
}

TEST(PngDecode, EveryFilterLayoutAndWidthMatchesStb) {
  for (int bit_depth : {8, 16}) {
    for (int channels = 1; channels <= 4; ++channels) {
      for (int width : {1, 2, 3, 5, 8, 15, 17, 33, 64}) {
        PngSpec s;
        s.width = width;
        s.height = 11;
        s.channels = channels;
        s.bit_depth = bit_depth;
        s.samples = noise(static_cast<std::size_t>(width) * 11 * channels * (bit_depth / 8),
                          static_cast<std::uint32_t>(width * 10 + channels));
        s.idat_pieces = width % 3 + 1;
        const auto png = build_png(s);
        const std::string where = std::to_string(bit_depth) + "-bit, " + std::to_string(channels) +
                                  " ch, width " + std::to_string(width);
        const Image ours = decode_image(png, Decoder::kAuto);
        const Image stb = decode_image(png, Decoder::kStb);
        EXPECT_EQ(ours.width, width) << where;
        EXPECT_EQ(ours.channels, channels) << where;
        EXPECT_EQ(ours.bit_depth, bit_depth) << where;
        EXPECT_EQ(ours.pixels, stb.pixels) << where;
        // 16-bit keeps each sample's high byte.
        for (std::size_t i = 0; i < ours.pixels.size(); ++i) {
          const std::uint8_t want = bit_depth == 16 ? s.samples[2 * i] : s.samples[i];
          if (ours.pixels[i] != want) {
            ADD_FAILURE() << where << ": sample " << i;
            break;
          }
        }
      }
    }
  }
}

TEST(PngDecode, ReusedBufferFromALargerImageGivesTheSameResult) {
  Image img;
  PngSpec big{64, 40, 4, 16, noise(64 * 40 * 4 * 2, 1), 3, {}};
  PngSpec small{5, 3, 3, 8, noise(5 * 3 * 3, 2), 1, {}};
  decode_image(build_png(big), img);
  decode_image(build_png(small), img);
  EXPECT_EQ(img.pixels, small.samples);
}

TEST(PngDecode, AncillaryChunksAreSkipped) {
  PngSpec s{9, 4, 3, 8, noise(9 * 4 * 3, 3), 2, {}};
  s.extra.emplace_back("gAMA", std::vector<std::uint8_t>{0, 0, 0xB1, 0x8F});
  s.extra.emplace_back("tEXt", std::vector<std::uint8_t>{'k', 0, 'v'});
  EXPECT_EQ(decode_image(build_png(s)).pixels, s.samples);
}

std::string decode_error(const std::vector<std::uint8_t>& png) {
  try {
    decode_image(png);
  } catch (const ImageError& e) {
    EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
    return e.what();
  }
  return "no error";
}

TEST(PngDecode, MalformedFilesAreRefusedWithAReason) {
  const PngSpec s{16, 8, 3, 8, noise(16 * 8 * 3, 4), 2, {}};
  const auto good = build_png(s);
  ASSERT_EQ(decode_image(good).pixels, s.samples);

  auto bad_crc = good;
  bad_crc[45] ^= 1;  // inside the first IDAT's data: its CRC no longer matches
  EXPECT_NE(decode_error(bad_crc).find("IDAT CRC mismatch"), std::string::npos);

  auto truncated = good;
  truncated.resize(truncated.size() - 30);
  EXPECT_NE(decode_error(truncated).find("truncated"), std::string::npos);

  auto ihdr_crc = good;
  ihdr_crc[20] ^= 1;  // the height's high byte
  EXPECT_NE(decode_error(ihdr_crc).find("IHDR CRC mismatch"), std::string::npos);

  PngSpec unknown = s;
  unknown.extra.emplace_back("XYZW", std::vector<std::uint8_t>{1});  // critical: upper case
  EXPECT_NE(decode_error(build_png(unknown)).find("unknown critical chunk XYZW"),
            std::string::npos);

  // Height 9 in the header but data for 8 rows: the image data ends early.
  auto short_data = good;
  short_data[16 + 7] = 9;
  const std::uint32_t crc = libdeflate_crc32(0, short_data.data() + 12, 17);
  for (int k = 0; k < 4; ++k)
    short_data[29 + k] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
  EXPECT_NE(decode_error(short_data).find("image data ends after"), std::string::npos);
}

TEST(PngDecode, BadFilterTypeIsRefused) {
  // One 2x1 gray row with filter type 7.
  const std::vector<std::uint8_t> raw = {7, 10, 20};
  libdeflate_compressor* z = libdeflate_alloc_compressor(1);
  std::vector<std::uint8_t> comp(64);
  comp.resize(libdeflate_zlib_compress(z, raw.data(), raw.size(), comp.data(), comp.size()));
  libdeflate_free_compressor(z);
  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  chunk(png, "IHDR", {0, 0, 0, 2, 0, 0, 0, 1, 8, 0, 0, 0, 0});
  chunk(png, "IDAT", comp);
  chunk(png, "IEND", {});
  EXPECT_NE(decode_error(png).find("bad filter type 7 in row 0"), std::string::npos);
}

}  // namespace
}  // namespace graybench
