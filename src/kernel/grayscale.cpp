#include "kernel/grayscale.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace graybench {

namespace {
template <int Channels>
void rgb_to_gray(const std::uint8_t* src, std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i, src += Channels)
    out[i] = luma(src[0], src[1], src[2]);
}
}  // namespace

void to_gray(std::span<const std::uint8_t> src, int channels, std::span<std::uint8_t> out) {
  if (channels < 1 || channels > 4) {
    throw std::invalid_argument("to_gray: unsupported channel count " + std::to_string(channels));
  }
  const std::size_t n = out.size();
  if (src.size() != n * static_cast<std::size_t>(channels)) {
    throw std::invalid_argument("to_gray: input has " + std::to_string(src.size()) +
                                " bytes, expected " + std::to_string(n) + " x " +
                                std::to_string(channels));
  }
  switch (channels) {
    case 1:
      std::copy(src.begin(), src.end(), out.begin());
      break;
    case 2:
      for (std::size_t i = 0; i < n; ++i)
        out[i] = src[2 * i];
      break;
    case 3:
      rgb_to_gray<3>(src.data(), out.data(), n);
      break;
    case 4:
      rgb_to_gray<4>(src.data(), out.data(), n);
      break;
    default:
      break;  // rejected above
  }
}

}  // namespace graybench
