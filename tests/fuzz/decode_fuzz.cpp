// libFuzzer target: the per-image path graybench runs on untrusted files, minus the file system:
// decode under the pixel limit (each decoder checks its own reading of the header) ->
// grayscale -> checksum -> PNG encode.
// Built with -DGRAYBENCH_FUZZ=ON by clang (tools/fuzz.sh); one binary per --decoder choice
// (GRAYBENCH_FUZZ_DECODER: kAuto = libjpeg-turbo/libspng/stb, kStb = stb only).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/errors.hpp"
#include "io/codec.hpp"
#include "io/limits.hpp"
#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace graybench;
  const std::span<const std::uint8_t> in(data, size);
  // The same header check graybench applies, far lower: large images teach the fuzzer nothing
  // new and cost it executions (and its 2 GB memory limit).
  constexpr std::uint64_t kMaxPixels = std::uint64_t{1} << 16;
  constexpr Decoder kDecoder = Decoder::GRAYBENCH_FUZZ_DECODER;
  try {
    const Image img = decode_image(in, kDecoder, kMaxPixels);
    // Every decoder checks the limit on its own reading of the header: nothing larger may
    // come out (a header our probe misread once let 1 Gpix JPEGs through).
    if (img.pixel_count() > kMaxPixels) __builtin_trap();
    std::vector<std::uint8_t> gray(img.pixel_count());
    to_gray(img.pixels, img.channels, gray);
    volatile std::uint64_t sum = checksum64(gray);
    (void)sum;
    const auto png = encode_png(gray, img.width, img.height, 1);
    // The encoder's output must decode to the same pixels.
    const Image back = decode_image(png, kDecoder);
    if (back.pixels != gray) __builtin_trap();
  } catch (const ImageError&) {
    // A refused file is the expected outcome for most inputs.
  }
  return 0;
}
