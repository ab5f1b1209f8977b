#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"

namespace graybench {
namespace {

// The oracle, written independently of the kernel's integer code: Pillow's luma is the real
// number (19595 R + 38470 G + 7471 B) / 65536 rounded half up. Every operand is a dyadic
// rational below 2^24, so the double computation below is exact: no rounding error can hide
// an off-by-one. (The kernel instead splits the coefficients into 16-bit halves.)
std::uint8_t reference_luma(unsigned r, unsigned g, unsigned b) {
  const double value = (19595.0 * r + 38470.0 * g + 7471.0 * b) / 65536.0;
  return static_cast<std::uint8_t>(std::floor(value + 0.5));
}

/// Runs the test body once per SIMD target this CPU supports, each forced in turn.
class EveryTarget : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    force_simd_target(GetParam());
    ASSERT_EQ(simd_target(), GetParam());
  }
  void TearDown() override { force_simd_target(""); }
};

std::string target_label(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

INSTANTIATE_TEST_SUITE_P(Simd, EveryTarget, ::testing::ValuesIn(simd_targets_available()),
                         target_label);

/// One row of tests/data/pillow_luma.txt: the samples of one pixel and Pillow's L for it.
struct PillowVector {
  std::string mode;
  std::vector<std::uint8_t> samples;
  std::uint8_t luma;
};

std::vector<PillowVector> pillow_vectors() {
  const std::string path = std::string(GRAYBENCH_TEST_DATA_DIR) + "/pillow_luma.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<PillowVector> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    PillowVector row;
    fields >> row.mode;
    std::vector<unsigned> values;
    for (unsigned v; fields >> v;)
      values.push_back(v);
    if (values.empty()) throw std::runtime_error("bad line in " + path + ": " + line);
    row.luma = static_cast<std::uint8_t>(values.back());
    values.pop_back();
    row.samples.assign(values.begin(), values.end());
    rows.push_back(std::move(row));
  }
  return rows;
}

int channels_of(const std::string& mode) {
  if (mode == "LA") return 2;
  if (mode == "RGB") return 3;
  if (mode == "RGBA") return 4;
  throw std::runtime_error("unknown mode " + mode);
}

TEST_P(EveryTarget, MatchesPillowsOwnOutputs) {
  const std::vector<PillowVector> rows = pillow_vectors();
  ASSERT_GT(rows.size(), 2000u);
  for (const std::string mode : {"RGB", "RGBA", "LA"}) {
    const int channels = channels_of(mode);
    std::vector<std::uint8_t> src, expected;
    for (const auto& row : rows) {
      if (row.mode != mode) continue;
      ASSERT_EQ(row.samples.size(), static_cast<std::size_t>(channels));
      src.insert(src.end(), row.samples.begin(), row.samples.end());
      expected.push_back(row.luma);
    }
    ASSERT_FALSE(expected.empty()) << mode;
    std::vector<std::uint8_t> gray(expected.size());
    to_gray(src, channels, gray);
    EXPECT_EQ(gray, expected) << mode;
  }
}

TEST(Kernel, ReferenceAgreesWithPillowVectors) {
  // The 2^24 oracle below is only as good as its agreement with Pillow itself.
  for (const auto& row : pillow_vectors()) {
    if (row.mode == "LA") continue;
    EXPECT_EQ(reference_luma(row.samples[0], row.samples[1], row.samples[2]), row.luma);
  }
}

TEST_P(EveryTarget, AllRgbTriplesMatchReference) {
  constexpr std::size_t n = std::size_t{1} << 24;
  static const std::vector<std::uint8_t> expected = [] {
    std::vector<std::uint8_t> e(n);
    for (std::size_t i = 0; i < n; ++i)
      e[i] = reference_luma(static_cast<unsigned>(i >> 16), (i >> 8) & 0xFF, i & 0xFF);
    return e;
  }();
  std::vector<std::uint8_t> rgb(3 * n), rgba(4 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<std::uint8_t>(i >> 16), g = static_cast<std::uint8_t>(i >> 8),
               b = static_cast<std::uint8_t>(i);
    rgb[3 * i] = rgba[4 * i] = r;
    rgb[3 * i + 1] = rgba[4 * i + 1] = g;
    rgb[3 * i + 2] = rgba[4 * i + 2] = b;
    rgba[4 * i + 3] = static_cast<std::uint8_t>(i * 131);  // alpha must not matter
  }
  std::vector<std::uint8_t> gray(n);
  to_gray(rgb, 3, gray);
  EXPECT_TRUE(gray == expected) << "RGB differs from the reference";
  to_gray(rgba, 4, gray);
  EXPECT_TRUE(gray == expected) << "RGBA differs from the reference";
}

TEST_P(EveryTarget, AllGrayAlphaPairsTakeGray) {
  std::vector<std::uint8_t> la(2 * 65536), expected(65536), gray(65536);
  for (std::size_t i = 0; i < 65536; ++i) {
    la[2 * i] = expected[i] = static_cast<std::uint8_t>(i >> 8);
    la[2 * i + 1] = static_cast<std::uint8_t>(i);
  }
  to_gray(la, 2, gray);
  EXPECT_EQ(gray, expected);
}

// Every length up to a few vectors (so every tail length on every target), at every byte
// misalignment of source and destination, for every channel count.
TEST_P(EveryTarget, OddLengthsAndUnalignedBuffers) {
  std::mt19937 rng(11);
  constexpr std::size_t kMaxPixels = 3 * 64 + 5;  // beyond three 512-bit vectors
  std::vector<std::uint8_t> src_store(4 * kMaxPixels + 8), out_store(kMaxPixels + 8);
  for (auto& v : src_store)
    v = static_cast<std::uint8_t>(rng());
  for (int channels = 1; channels <= 4; ++channels) {
    for (std::size_t offset = 0; offset < 4; ++offset) {
      for (std::size_t n = 0; n <= kMaxPixels; ++n) {
        const std::uint8_t* src = src_store.data() + offset;
        std::uint8_t* out = out_store.data() + (offset + 1) % 4;
        std::fill(out_store.begin(), out_store.end(), 0xA5);
        to_gray({src, n * channels}, channels, {out, n});
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint8_t* px = src + i * channels;
          const std::uint8_t want = channels <= 2 ? px[0] : reference_luma(px[0], px[1], px[2]);
          ASSERT_EQ(out[i], want) << "channels=" << channels << " n=" << n << " i=" << i;
        }
        // Nothing written past the end.
        for (std::uint8_t* p = out + n; p < out_store.data() + out_store.size(); ++p)
          ASSERT_EQ(*p, 0xA5) << "channels=" << channels << " n=" << n;
      }
    }
  }
}

TEST(Kernel, ReportsTargets) {
  const std::vector<std::string> targets = simd_targets_available();
  ASSERT_FALSE(targets.empty());
  // Unforced dispatch picks the best target this CPU supports (listed first).
  EXPECT_EQ(simd_target(), targets.front());
  EXPECT_THROW(force_simd_target("NO_SUCH_TARGET"), std::invalid_argument);
  EXPECT_EQ(simd_target(), targets.front());
}

TEST(Kernel, RejectsBadShapes) {
  std::vector<std::uint8_t> src(12), out(4);
  EXPECT_THROW(to_gray(src, 5, out), std::invalid_argument);
  EXPECT_THROW(to_gray(src, 0, out), std::invalid_argument);
  EXPECT_THROW(to_gray(src, 2, out), std::invalid_argument);  // 12 != 4 * 2
}

std::uint64_t checksum_of(const std::string& s) {
  return checksum64({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

TEST(Checksum, Xxh3KnownVectors) {
  EXPECT_STREQ(kChecksumAlgorithm, "xxh3-64");
  // Published XXH3-64 (seed 0) of the empty input; the others are python3-xxhash's
  // xxh3_64_intdigest, the function the Python tools use.
  EXPECT_EQ(checksum_of(""), 0x2d06800538d394c2ull);
  EXPECT_EQ(checksum_of("a"), 0xe6c632b61e964e1full);
  EXPECT_EQ(checksum_of("foobar"), 0xd78fda63144c5c84ull);
  // A long input (the stripe loop, not the short-input paths): bytes i * 7 mod 251.
  std::vector<std::uint8_t> data(100000);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i * 7 % 251);
  EXPECT_EQ(checksum64(data), 0x17a701075a95b432ull);
}

TEST(Checksum, Fnv1a64KnownVectors) {
  // Still used for the input-set fingerprint.
  auto h = [](const char* s) {
    return fnv1a64({reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)});
  };
  EXPECT_EQ(h(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(h("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(h("foobar"), 0x85944171f73967e8ull);
}

}  // namespace
}  // namespace graybench
