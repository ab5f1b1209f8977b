// The PNG encoder: its SIMD row filters against a plain reference written from the PNG
// specification on every SIMD target, its per-row choice, and exact round trips for awkward
// shapes (1-4 channels, odd widths, single rows).
#include <gtest/gtest.h>
#include <libdeflate.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/codec.hpp"
#include "io/png_filter.hpp"
#include "kernel/grayscale.hpp"

namespace graybench {
namespace {

using detail::PngFilter;
using Bytes = std::vector<std::uint8_t>;

std::uint8_t paeth_ref(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<std::uint8_t>(a);
  return static_cast<std::uint8_t>(pb <= pc ? b : c);
}

/// One row filtered with `type`, straight from the specification.
Bytes filter_row_ref(const std::uint8_t* cur, const std::uint8_t* prev, std::size_t n,
                     std::size_t bpp, int type) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int a = i >= bpp ? cur[i - bpp] : 0;
    const int b = prev[i];
    const int c = i >= bpp ? prev[i - bpp] : 0;
    const int pred = type == 0 ? 0 : type == 1 ? a : type == 2 ? b : paeth_ref(a, b, c);
    out[i] = static_cast<std::uint8_t>(cur[i] - pred);
  }
  return out;
}

/// The whole filtered stream: a fixed filter, or per row the least sum of |signed byte| with
/// ties to the earlier of None, Sub, Up, Paeth.
Bytes filter_ref(const Bytes& px, std::size_t n, std::size_t rows, std::size_t bpp,
                 PngFilter filter) {
  Bytes out;
  const Bytes zeros(n, 0);
  for (std::size_t y = 0; y < rows; ++y) {
    const std::uint8_t* cur = px.data() + n * y;
    const std::uint8_t* prev = y ? cur - n : zeros.data();
    int best_type = static_cast<int>(filter);
    Bytes best;
    if (filter == PngFilter::kMinSum) {
      long best_cost = -1;
      for (int type : {0, 1, 2, 4}) {
        Bytes f = filter_row_ref(cur, prev, n, bpp, type);
        long cost = 0;
        for (std::uint8_t v : f)
          cost += std::abs(static_cast<int>(static_cast<std::int8_t>(v)));
        if (best_cost < 0 || cost < best_cost) best_cost = cost, best_type = type, best = f;
      }
    } else {
      best = filter_row_ref(cur, prev, n, bpp, best_type);
    }
    out.push_back(static_cast<std::uint8_t>(best_type));
    out.insert(out.end(), best.begin(), best.end());
  }
  return out;
}

Bytes filter_simd(const Bytes& px, std::size_t n, std::size_t rows, std::size_t bpp,
                  PngFilter filter) {
  Bytes out((n + 1) * rows, 0xEE);
  detail::png_filter_rows(px.data(), n, rows, bpp, out.data(), filter);
  return out;
}

Bytes noise(std::size_t n, std::uint32_t seed) {
  Bytes v(n);
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& b : v) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    b = static_cast<std::uint8_t>(s >> 24);
  }
  return v;
}

/// Rows of different character, so that every filter wins somewhere: noise (None), horizontal
/// ramps (Sub), repeated rows (Up), a smooth 2-D surface plus noise (Paeth), flat runs (ties).
Bytes photo_like(std::size_t width, std::size_t height, std::size_t bpp, std::uint32_t seed) {
  const Bytes jitter = noise(width * height * bpp, seed);
  Bytes v(width * height * bpp);
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t x = 0; x < width; ++x) {
      for (std::size_t c = 0; c < bpp; ++c) {
        const std::size_t i = (y * width + x) * bpp + c;
        int value = 0;
        switch ((y / 3 + seed) % 5) {
          case 0:
            value = jitter[i];
            break;
          case 1:
            value = static_cast<int>(x * 5 + c * 40 + y);
            break;
          case 2:
            value = static_cast<int>((x * 7) ^ c ^ (y / 3));
            break;
          case 3:
            value = static_cast<int>(x * x / 9 + y * y / 5 + c * 3) + (jitter[i] & 3);
            break;
          default:
            value = 200;
            break;
        }
        v[i] = static_cast<std::uint8_t>(value);
      }
    }
  }
  return v;
}

/// The zlib stream of all IDAT chunks, inflated.
Bytes inflate_idat(const Bytes& png, std::size_t expected) {
  Bytes z;
  for (std::size_t p = 8; p + 12 <= png.size();) {
    const std::size_t len = (std::size_t{png[p]} << 24) | (std::size_t{png[p + 1]} << 16) |
                            (std::size_t{png[p + 2]} << 8) | png[p + 3];
    if (std::string(png.begin() + static_cast<std::ptrdiff_t>(p + 4),
                    png.begin() + static_cast<std::ptrdiff_t>(p + 8)) == "IDAT")
      z.insert(z.end(), png.begin() + static_cast<std::ptrdiff_t>(p + 8),
               png.begin() + static_cast<std::ptrdiff_t>(p + 8 + len));
    p += 12 + len;
  }
  Bytes out(expected);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::size_t got = 0;
  const auto rc = libdeflate_zlib_decompress(d, z.data(), z.size(), out.data(), out.size(), &got);
  libdeflate_free_decompressor(d);
  EXPECT_EQ(rc, LIBDEFLATE_SUCCESS);
  EXPECT_EQ(got, expected);
  return out;
}

constexpr std::array<std::size_t, 12> kWidths = {1, 2, 3, 15, 16, 17, 33, 63, 64, 65, 130, 257};

/// Runs each test once per SIMD target this CPU supports, each forced in turn.
class PngFilterEveryTarget : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    force_simd_target(GetParam());
    ASSERT_EQ(detail::png_filter_target(), GetParam());
  }
  void TearDown() override { force_simd_target(""); }
};

std::string target_label(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Simd, PngFilterEveryTarget, ::testing::ValuesIn(simd_targets_available()),
                         target_label);

// Every width from 1 to past two vectors of the widest target, so every head and tail length
// runs; every pixel size; noise, so all neighbour relations occur.
TEST_P(PngFilterEveryTarget, FixedFiltersMatchTheSpecification) {
  for (std::size_t bpp = 1; bpp <= 4; ++bpp) {
    for (std::size_t width = 1; width <= 140; ++width) {
      const std::size_t n = width * bpp, rows = 3;
      const Bytes px = noise(n * rows, static_cast<std::uint32_t>(width * 7 + bpp));
      for (PngFilter f : {PngFilter::kNone, PngFilter::kSub, PngFilter::kUp, PngFilter::kPaeth}) {
        ASSERT_EQ(filter_simd(px, n, rows, bpp, f), filter_ref(px, n, rows, bpp, f))
            << "bpp " << bpp << " width " << width << " filter " << static_cast<int>(f);
      }
    }
  }
}

// Every (left, up, up-left) triple through the vector Paeth predictor: one call per left
// value a, the upper row holding every (c, b) pair at even/odd positions below a row whose
// even positions hold a, so each odd position sees exactly (a, b, c).
TEST_P(PngFilterEveryTarget, PaethPredictsEveryTriple) {
  constexpr std::size_t kPairs = 256 * 256, n = 2 * kPairs;
  Bytes px(2 * n);
  for (std::size_t j = 0; j < kPairs; ++j) {
    px[2 * j] = static_cast<std::uint8_t>(j >> 8);  // c
    px[2 * j + 1] = static_cast<std::uint8_t>(j);   // b
  }
  for (int a = 0; a < 256; ++a) {
    for (std::size_t j = 0; j < kPairs; ++j) {
      px[n + 2 * j] = static_cast<std::uint8_t>(a);
      px[n + 2 * j + 1] = static_cast<std::uint8_t>(j * 31 + static_cast<std::size_t>(a));
    }
    const Bytes got = filter_simd(px, n, 2, 1, PngFilter::kPaeth);
    const std::uint8_t* row = got.data() + (n + 1) + 1;
    for (std::size_t j = 0; j < kPairs; ++j) {
      const int b = px[2 * j + 1], c = px[2 * j];
      const auto want = static_cast<std::uint8_t>(px[n + 2 * j + 1] - paeth_ref(a, b, c));
      ASSERT_EQ(row[2 * j + 1], want) << "a " << a << " b " << b << " c " << c;
    }
  }
}

TEST_P(PngFilterEveryTarget, MinSumChoiceMatchesTheReference) {
  std::array<int, 5> seen{};  // how often each type byte was chosen
  for (std::size_t bpp = 1; bpp <= 4; ++bpp) {
    for (std::size_t width : kWidths) {
      for (std::size_t rows : {std::size_t{1}, std::size_t{2}, std::size_t{16}}) {
        const std::size_t n = width * bpp;
        const Bytes px = photo_like(width, rows, bpp, static_cast<std::uint32_t>(width + rows));
        const Bytes want = filter_ref(px, n, rows, bpp, PngFilter::kMinSum);
        ASSERT_EQ(filter_simd(px, n, rows, bpp, PngFilter::kMinSum), want)
            << "bpp " << bpp << " width " << width << " rows " << rows;
        for (std::size_t y = 0; y < rows; ++y)
          ++seen.at(want[(n + 1) * y]);
      }
    }
  }
  for (int type : {0, 1, 2, 4})
    EXPECT_GT(seen.at(static_cast<std::size_t>(type)), 0) << "filter type " << type << " unused";
}

// The returned cost (the sum over rows of the chosen filter's sum of |signed byte|) decides
// between ISA-L and libdeflate at level 1, so every target must return the reference's value;
// a fixed filter returns 0.
TEST_P(PngFilterEveryTarget, MinSumReturnsTheChosenRowsCost) {
  for (std::size_t bpp = 1; bpp <= 4; ++bpp) {
    for (std::size_t width : kWidths) {
      for (std::size_t rows : {std::size_t{1}, std::size_t{2}, std::size_t{16}}) {
        const std::size_t n = width * bpp;
        const Bytes px = photo_like(width, rows, bpp, static_cast<std::uint32_t>(width * 3 + rows));
        const Bytes ref = filter_ref(px, n, rows, bpp, PngFilter::kMinSum);
        std::uint64_t want = 0;
        for (std::size_t y = 0; y < rows; ++y)
          for (std::size_t i = 1; i <= n; ++i)
            want += static_cast<std::uint64_t>(
                std::abs(static_cast<int>(static_cast<std::int8_t>(ref[(n + 1) * y + i]))));
        Bytes out((n + 1) * rows);
        EXPECT_EQ(detail::png_filter_rows(px.data(), n, rows, bpp, out.data()), want)
            << "bpp " << bpp << " width " << width << " rows " << rows;
        EXPECT_EQ(detail::png_filter_rows(px.data(), n, rows, bpp, out.data(), PngFilter::kUp), 0u);
      }
    }
  }
}

// Through the public encoder: the decoded pixels are the input's, and the stream inside is the
// reference's choice of filters.
TEST(PngEncode, OddShapesRoundTripWithTheReferenceFilters) {
  for (int channels = 1; channels <= 4; ++channels) {
    for (std::size_t width : kWidths) {
      for (std::size_t rows : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        const auto bpp = static_cast<std::size_t>(channels);
        const Bytes px = photo_like(width, rows, bpp, static_cast<std::uint32_t>(width * rows));
        for (int level : {kPngLevelMin, kPngLevelDefault, kPngLevelMax}) {
          const Bytes png =
              encode_png(px, static_cast<int>(width), static_cast<int>(rows), channels, level);
          const Image img = decode_image(png);
          ASSERT_EQ(img.pixels, px) << channels << " ch, " << width << "x" << rows;
          EXPECT_EQ(img.channels, channels);
          EXPECT_EQ(inflate_idat(png, (width * bpp + 1) * rows),
                    filter_ref(px, width * bpp, rows, bpp, PngFilter::kMinSum));
        }
      }
    }
  }
}

/// The zlib stream libdeflate writes for `in` at `level`.
Bytes libdeflate_zlib(const Bytes& in, int level) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  Bytes out(libdeflate_zlib_compress_bound(c, in.size()));
  out.resize(libdeflate_zlib_compress(c, in.data(), in.size(), out.data(), out.size()));
  libdeflate_free_compressor(c);
  return out;
}

/// The IDAT payload of a single-IDAT PNG (what our encoder writes).
Bytes idat_payload(const Bytes& png) {
  const std::size_t p = 8 + 25;  // signature, IHDR
  const std::size_t len = (std::size_t{png[p]} << 24) | (std::size_t{png[p + 1]} << 16) |
                          (std::size_t{png[p + 2]} << 8) | png[p + 3];
  return {png.begin() + static_cast<std::ptrdiff_t>(p + 8),
          png.begin() + static_cast<std::ptrdiff_t>(p + 8 + len)};
}

// Level 1 compresses smooth images (mean |filtered byte| < 1) with libdeflate's level 1 and
// the rest with ISA-L; levels 2-12 are libdeflate's. Both kinds decode to the input exactly.
TEST(PngEncode, LevelOneSplitsSmoothImagesFromTheRest) {
  const std::size_t w = 301, h = 211;
  Bytes smooth(w * h);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      smooth[y * w + x] = static_cast<std::uint8_t>((x + 2 * y) / 5);
  // Noise on a ramp: compressible (so not stored blocks, which both libraries write alike),
  // yet far from smooth.
  Bytes noisy = noise(w * h, 7);
  for (std::size_t i = 0; i < noisy.size(); ++i)
    noisy[i] = static_cast<std::uint8_t>((noisy[i] & 15) + i % w / 3);
  for (const Bytes* px : {&std::as_const(smooth), &std::as_const(noisy)}) {
    const bool is_smooth = px == &smooth;
    const Bytes filtered = filter_ref(*px, w, h, 1, PngFilter::kMinSum);
    for (int level : {1, 2, 6}) {
      const Bytes png = encode_png(*px, static_cast<int>(w), static_cast<int>(h), 1, level);
      ASSERT_EQ(decode_image(png).pixels, *px) << "level " << level << " smooth " << is_smooth;
      ASSERT_EQ(decode_image(png, Decoder::kStb).pixels, *px);
      EXPECT_EQ(inflate_idat(png, filtered.size()), filtered);
      const bool libdeflate = level > 1 || is_smooth;
      EXPECT_EQ(idat_payload(png) == libdeflate_zlib(filtered, level), libdeflate)
          << "level " << level << " smooth " << is_smooth;
    }
  }
}

// The bytes written depend on the image alone, not on what the thread compressed before: ISA-L's
// hash table lives in a per-thread buffer that a stateless call does not clear. (Seen once in
// CI as outputs that differed between strategies for one small image; this scenario did not
// reproduce it before the buffer was cleared, so it guards the property, not that instance.)
TEST(PngEncode, OutputDoesNotDependOnThePreviousImage) {
  // Few distinct byte patterns, far from smooth: many equal 4-byte sequences, so hash entries
  // left by an earlier image find matches in the next one.
  auto photo_like = [](int w, int h, std::uint32_t seed) {
    Bytes px = noise(static_cast<std::size_t>(w) * h, seed);
    for (std::size_t i = 0; i < px.size(); ++i)
      px[i] = static_cast<std::uint8_t>((px[i] & 3) * 60 + (i % 7) * 9);
    return px;
  };
  // A large image, then small ones (as the test set's 33x21 after 64x48 images).
  const Bytes big = photo_like(640, 480, 3);
  for (const auto& [w, h] : {std::pair{33, 21}, std::pair{64, 48}, std::pair{301, 211}}) {
    const Bytes b = photo_like(w, h, 5);
    Bytes alone, after;
    std::thread([&] { alone = encode_png(b, w, h, 1, 1); }).join();
    std::thread([&] {
      (void)encode_png(big, 640, 480, 1, 1);
      (void)encode_png(photo_like(w, h, 9), w, h, 1, 1);
      after = encode_png(b, w, h, 1, 1);
    }).join();
    EXPECT_EQ(alone, after) << w << "x" << h;
  }
}

// Incompressible noise at every level: stored blocks, ISA-L's included, within the bound.
TEST(PngEncode, NoiseRoundTrips) {
  const Bytes px = noise(std::size_t{1024} * 777 * 2, 11);
  for (int level : {1, 2, 12}) {
    const Bytes png = encode_png(px, 1024, 777, 2, level);
    ASSERT_EQ(decode_image(png).pixels, px) << "level " << level;
  }
}

}  // namespace
}  // namespace graybench
