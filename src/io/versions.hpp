#pragma once

#include <string>

namespace graybench {
/// The image codecs compiled in, with their versions, e.g. "stb_image v2.27 (PNG, JPEG, ...)".
std::string codec_versions();
}  // namespace graybench
