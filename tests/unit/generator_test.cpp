#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "io/codec.hpp"
#include "io/file.hpp"
#include "io/generator.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

using test::slurp;
using test::TempDir;

GenOptions small() {
  GenOptions o;
  o.count = 12;
  o.sizes = {{40, 30}, {33, 17}};
  o.modes = parse_gen_modes("rgb,rgba,gray,graya,rgb16,gray16");
  return o;
}

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  TempDir a, b, c;
  const auto o = small();
  const auto pa = generate_dataset(a.path(), o);
  const auto pb = generate_dataset(b.path(), o);
  auto o2 = o;
  o2.seed = 2;
  const auto pc = generate_dataset(c.path(), o2);
  ASSERT_EQ(pa.size(), 12u);
  int differ = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(slurp(pa[i]), slurp(pb[i]));
    differ += slurp(pa[i]) != slurp(pc[i]);
  }
  EXPECT_EQ(differ, 12);
}

TEST(Generator, LayoutModesAndFormats) {
  TempDir d;
  const auto paths = generate_dataset(d.path(), small());
  EXPECT_EQ(paths[0], d / "set-0/img-00000.png");
  EXPECT_EQ(paths[1], d / "set-1/img-00000.png");
  EXPECT_EQ(paths[6], d / "set-0/img-00003.jpg");  // after 6 modes, the format changes
  const int channels[] = {3, 4, 1, 2, 3, 1};
  const int depth[] = {8, 8, 8, 8, 16, 16};
  for (int i = 0; i < 6; ++i) {
    const Image img = decode_image(read_file(paths[i]));
    EXPECT_EQ(img.channels, channels[i]) << i;
    EXPECT_EQ(img.bit_depth, depth[i]) << i;
  }
  // JPEG drops alpha and 16-bit; stb's writer always stores YCbCr, so gray modes come back
  // as RGB with R = G = B.
  for (int i = 6; i < 12; ++i) {
    const Image img = decode_image(read_file(paths[i]));
    EXPECT_EQ(img.channels, 3) << i;
    EXPECT_EQ(img.bit_depth, 8);
    if (i == 8) {
      for (std::size_t p = 0; p < img.pixel_count(); ++p) {
        ASSERT_EQ(img.pixels[3 * p], img.pixels[3 * p + 1]);
        ASSERT_EQ(img.pixels[3 * p], img.pixels[3 * p + 2]);
      }
    }
  }
}

TEST(Generator, ParsesAndRejectsOptions) {
  EXPECT_EQ(parse_gen_sizes("640x480,1x1").size(), 2u);
  EXPECT_THROW(parse_gen_sizes("640"), UsageError);
  EXPECT_THROW(parse_gen_sizes("0x5"), UsageError);
  EXPECT_THROW(parse_gen_sizes("5x5x"), UsageError);
  EXPECT_THROW(parse_gen_formats("gif"), UsageError);
  EXPECT_THROW(parse_gen_modes("cmyk"), UsageError);
  EXPECT_THROW(parse_gen_modes(""), UsageError);
}

}  // namespace
}  // namespace graybench
