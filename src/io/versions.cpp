#include "io/versions.hpp"

// CMake reads the version from stb_image.h's first line (stb has no version macro).
#ifndef GRAYBENCH_STB_IMAGE_VERSION
#define GRAYBENCH_STB_IMAGE_VERSION "unknown version"
#endif

namespace graybench {

std::string codec_versions() {
  return "stb_image " GRAYBENCH_STB_IMAGE_VERSION " (decode), stb_image_write (PNG encode)";
}

}  // namespace graybench
