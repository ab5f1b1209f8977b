#include <gtest/gtest.h>

#include <string>
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

TEST(Codec, EncodeRejectsLevelsOutsideTheRange) {
  EXPECT_THROW(encode_png(pattern(16), 4, 4, 1, kPngLevelMin - 1), ImageError);
  EXPECT_THROW(encode_png(pattern(16), 4, 4, 1, kPngLevelMax + 1), ImageError);
}

/// Rows where each filter wins: noise (None), a horizontal ramp (Sub), repeated rows (Up),
/// a diagonal gradient (Paeth); and a flat area.
std::vector<std::uint8_t> filter_mix(int width, int height, int channels) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(width) * height * channels);
  const auto noise = pattern(static_cast<std::size_t>(width) * channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const std::size_t i = (static_cast<std::size_t>(y) * width + x) * channels + c;
        int value = 0;
        switch (y % 5) {
          case 0:
            value = noise[static_cast<std::size_t>(x) * channels + c] ^ y;
            break;
          case 1:
            value = x * 3 + c;
            break;
          case 2:
            value = (x * 7) ^ c;
            break;
          case 3:
            value = x + 2 * y + c * 5;
            break;
          default:
            value = 77;
            break;
        }
        v[i] = static_cast<std::uint8_t>(value);
      }
    }
  }
  return v;
}

TEST(Codec, PngRoundTripsAtEveryLevelWithBothDecoders) {
  for (int channels = 1; channels <= 4; ++channels) {
    const auto px = filter_mix(61, 23, channels);
    for (int level = kPngLevelMin; level <= kPngLevelMax; ++level) {
      const auto png = encode_png(px, 61, 23, channels, level);
      for (Decoder d : {Decoder::kAuto, Decoder::kStb}) {
        const Image img = decode_image(png, d);
        EXPECT_EQ(img.channels, channels);
        EXPECT_EQ(img.pixels, px) << "level " << level << " decoder " << to_string(d);
      }
    }
  }
}

TEST(Codec, DecodeIntoReusesTheImage) {
  Image img;
  const auto big = filter_mix(40, 30, 3), small = filter_mix(7, 5, 1);
  decode_image(encode_png(big, 40, 30, 3), img);
  EXPECT_EQ(img.pixels, big);
  decode_image(encode_png(small, 7, 5, 1), img);
  EXPECT_EQ(img.width, 7);
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.pixels, small);
}

TEST(Codec, JpegDecodersAgreeClosely) {
  const auto px = filter_mix(48, 32, 3);
  const auto jpg = encode_jpeg(px, 48, 32, 3, 95);
  const Image a = decode_image(jpg, Decoder::kAuto), b = decode_image(jpg, Decoder::kStb);
  ASSERT_EQ(a.pixels.size(), b.pixels.size());
  EXPECT_EQ(a.channels, 3);
  for (std::size_t i = 0; i < a.pixels.size(); ++i)
    ASSERT_NEAR(a.pixels[i], b.pixels[i], 16) << "sample " << i;
}

TEST(Codec, BrokenJpegsAreDecodeErrorsWithLibjpegsReason) {
  const auto jpg = encode_jpeg(filter_mix(64, 64, 3), 64, 64, 3, 90);
  for (std::size_t keep : {std::size_t{3}, std::size_t{200}, jpg.size() / 2, jpg.size() - 2}) {
    const std::vector<std::uint8_t> cut(jpg.begin(), jpg.begin() + static_cast<long>(keep));
    try {
      decode_image(cut);
      FAIL() << "no exception for " << keep << " bytes";
    } catch (const ImageError& e) {
      EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
      EXPECT_NE(std::string(e.what()).find("libjpeg"), std::string::npos) << e.what();
    }
  }
}

TEST(Codec, DecoderNamesRoundTrip) {
  for (Decoder d : {Decoder::kAuto, Decoder::kStb})
    EXPECT_EQ(parse_enum<Decoder>(to_string(d)), d);
  EXPECT_FALSE(parse_enum<Decoder>("libpng"));
}

TEST(Codec, VersionsNameEveryLibrary) {
  const auto v = codec_versions();
  ASSERT_EQ(v.size(), 5u);
  for (const auto& [name, version] : v) {
    EXPECT_FALSE(name.empty());
    EXPECT_FALSE(version.empty()) << name;
  }
}

}  // namespace
}  // namespace graybench
