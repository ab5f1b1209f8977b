#include <gtest/gtest.h>

#include <vector>

#include "core/errors.hpp"
#include "io/codec.hpp"

namespace graybench {
namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(i * 37 + i / 7);
  return v;
}

TEST(Codec, PngRoundTripKeepsChannels) {
  for (int channels = 1; channels <= 4; ++channels) {
    const auto px = pattern(static_cast<std::size_t>(17) * 9 * channels);
    const auto png = encode_png(px, 17, 9, channels);
    const Image img = decode_image(png);
    EXPECT_EQ(img.width, 17);
    EXPECT_EQ(img.height, 9);
    EXPECT_EQ(img.channels, channels);
    EXPECT_EQ(img.bit_depth, 8);
    EXPECT_EQ(img.pixels, px);
  }
}

TEST(Codec, SixteenBitPngKeepsHighByte) {
  for (int channels : {1, 3}) {
    const std::size_t n = static_cast<std::size_t>(5) * 4 * channels;
    std::vector<std::uint8_t> be(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto v = static_cast<std::uint16_t>(i * 3001 + 255);
      be[2 * i] = static_cast<std::uint8_t>(v >> 8);
      be[2 * i + 1] = static_cast<std::uint8_t>(v);
    }
    const Image img = decode_image(encode_png16(be, 5, 4, channels));
    EXPECT_EQ(img.bit_depth, 16);
    EXPECT_EQ(img.channels, channels);
    ASSERT_EQ(img.pixels.size(), n);
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(img.pixels[i], be[2 * i]) << "sample " << i;
  }
}

TEST(Codec, JpegRoundTripIsClose) {
  std::vector<std::uint8_t> flat(32 * 16 * 3, 100);
  const Image img = decode_image(encode_jpeg(flat, 32, 16, 3, 95));
  EXPECT_EQ(img.channels, 3);
  for (auto v : img.pixels)
    EXPECT_NEAR(v, 100, 2);
}

TEST(Codec, GarbageAndTruncatedFilesAreDecodeErrors) {
  const std::vector<std::uint8_t> garbage = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'g'};
  try {
    decode_image(garbage);
    FAIL() << "no exception";
  } catch (const ImageError& e) {
    EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
  }
  EXPECT_THROW(decode_image({}), ImageError);
  auto png = encode_png(pattern(64 * 64 * 3), 64, 64, 3);
  png.resize(png.size() / 2);
  EXPECT_THROW(decode_image(png), ImageError);
}

TEST(Codec, EncodeRejectsBadDimensions) {
  EXPECT_THROW(encode_png(pattern(10), 4, 4, 1), ImageError);
  EXPECT_THROW(encode_jpeg(pattern(64), 4, 4, 4, 90), ImageError);
}

}  // namespace
}  // namespace graybench
