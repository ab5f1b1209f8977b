#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"

namespace graybench {
namespace {

// The specification, written independently of luma(): Pillow's L = R*299/1000 + ... in 16.16.
std::uint8_t reference(unsigned r, unsigned g, unsigned b) {
  return static_cast<std::uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) / 65536);
}

TEST(Kernel, KnownVectorsMatchPillow) {
  // Values Pillow's convert("L") gives for pure colours.
  EXPECT_EQ(luma(0, 0, 0), 0);
  EXPECT_EQ(luma(255, 255, 255), 255);
  EXPECT_EQ(luma(255, 0, 0), 76);
  EXPECT_EQ(luma(0, 255, 0), 150);
  EXPECT_EQ(luma(0, 0, 255), 29);
  EXPECT_EQ(luma(128, 128, 128), 128);
  EXPECT_EQ(luma(1, 1, 1), 1);
  EXPECT_EQ(luma(254, 254, 254), 254);
}

TEST(Kernel, AllRgbTriplesMatchFormula) {
  constexpr std::size_t n = std::size_t{1} << 24;
  std::vector<std::uint8_t> rgb(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    rgb[3 * i] = static_cast<std::uint8_t>(i >> 16);
    rgb[3 * i + 1] = static_cast<std::uint8_t>(i >> 8);
    rgb[3 * i + 2] = static_cast<std::uint8_t>(i);
  }
  std::vector<std::uint8_t> gray(n);
  to_gray(rgb, 3, gray);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (gray[i] != reference(static_cast<unsigned>(i >> 16), (i >> 8) & 0xFF, i & 0xFF))
      ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(Kernel, RgbaIgnoresAlpha) {
  std::mt19937 rng(7);
  constexpr std::size_t n = 4096;
  std::vector<std::uint8_t> rgba(4 * n), rgb(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c)
      rgb[3 * i + c] = rgba[4 * i + c] = static_cast<std::uint8_t>(rng());
    rgba[4 * i + 3] = static_cast<std::uint8_t>(rng());
  }
  std::vector<std::uint8_t> a(n), b(n);
  to_gray(rgba, 4, a);
  to_gray(rgb, 3, b);
  EXPECT_EQ(a, b);
}

TEST(Kernel, GrayAlphaTakesGrayAndGrayIsCopied) {
  const std::vector<std::uint8_t> la = {10, 255, 20, 0, 30, 128};
  std::vector<std::uint8_t> out(3);
  to_gray(la, 2, out);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{10, 20, 30}));
  const std::vector<std::uint8_t> l = {1, 2, 3};
  to_gray(l, 1, out);
  EXPECT_EQ(out, l);
}

TEST(Kernel, RejectsBadShapes) {
  std::vector<std::uint8_t> src(12), out(4);
  EXPECT_THROW(to_gray(src, 5, out), std::invalid_argument);
  EXPECT_THROW(to_gray(src, 0, out), std::invalid_argument);
  EXPECT_THROW(to_gray(src, 2, out), std::invalid_argument);  // 12 != 4 * 2
}

TEST(Checksum, Fnv1a64KnownVectors) {
  auto h = [](const char* s) {
    return fnv1a64({reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)});
  };
  EXPECT_EQ(h(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(h("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(h("foobar"), 0x85944171f73967e8ull);
}

TEST(Checksum, IncrementalEqualsWhole) {
  std::vector<std::uint8_t> data(1000);
  std::iota(data.begin(), data.end(), 0);
  Fnv1a64 h;
  h.update(std::span(data).first(300));
  h.update(std::span(data).subspan(300));
  EXPECT_EQ(h.value(), fnv1a64(data));
}

}  // namespace
}  // namespace graybench
