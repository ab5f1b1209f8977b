#pragma once

#include <cstdint>

#include "core/bytes.hpp"

namespace graybench {

/// A decoded image: interleaved 8-bit samples, `channels` per pixel (1 L, 2 LA, 3 RGB, 4 RGBA).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  int bit_depth = 8;  ///< bits per sample in the file (16-bit PNGs are reduced to 8, see docs)
  Bytes pixels;       ///< written in full by the decoder: resize() leaves it uninitialised

  std::size_t pixel_count() const { return static_cast<std::size_t>(width) * height; }
};

}  // namespace graybench
