#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/enum_names.hpp"

namespace graybench {

/// Pixel layout of a generated image.
enum class GenMode { kRgb, kRgba, kGray, kGrayAlpha, kRgb16, kGray16 };
GRAYBENCH_ENUM_NAMES(GenMode, "mode", {GenMode::kRgb, "rgb", "8-bit RGB"},
                     {GenMode::kRgba, "rgba", "8-bit RGB with alpha"},
                     {GenMode::kGray, "gray", "8-bit gray"},
                     {GenMode::kGrayAlpha, "graya", "8-bit gray with alpha"},
                     {GenMode::kRgb16, "rgb16", "16-bit RGB (PNG only)"},
                     {GenMode::kGray16, "gray16", "16-bit gray (PNG only)"})

/// File format of a generated image.
enum class GenFormat { kPng, kJpeg };
GRAYBENCH_ENUM_NAMES(GenFormat, "format", {GenFormat::kPng, "png", "PNG"},
                     {GenFormat::kJpeg, "jpg", "baseline JPEG"},
                     {GenFormat::kJpeg, "jpeg", "baseline JPEG", true})

struct GenSize {
  int width = 0;
  int height = 0;
};

/// What graybench-gen writes. Defaults: the demo's built-in data set.
struct GenOptions {
  int count = 48;
  std::uint64_t seed = 1;
  std::vector<GenSize> sizes = {{320, 240}, {640, 480}, {800, 600}};
  std::vector<GenFormat> formats = {GenFormat::kPng, GenFormat::kJpeg};
  std::vector<GenMode> modes = {GenMode::kRgb, GenMode::kRgba, GenMode::kGray, GenMode::kGrayAlpha};
  int subdirs = 2;  ///< images spread over set-0 .. set-(n-1); basenames repeat across them
  int jpeg_quality = 90;
};

/// Parses "rgb,rgba,gray,graya,rgb16,gray16", "png,jpg" and "640x480,32x32"; throws UsageError.
std::vector<GenMode> parse_gen_modes(const std::string& csv);
std::vector<GenFormat> parse_gen_formats(const std::string& csv);
std::vector<GenSize> parse_gen_sizes(const std::string& csv);

/// Writes the data set under `dir` (created if needed) and returns the written paths in order.
/// The same options always give byte-identical files. Image i goes to
/// set-(i % subdirs)/img-(i / subdirs).(png|jpg); mode cycles fastest, then format (JPEG drops
/// alpha and 16-bit precision, since baseline JPEG has neither).
/// `on_written(n)` is called after the n-th image is on disk (for progress).
std::vector<std::filesystem::path> generate_dataset(
    const std::filesystem::path& dir, const GenOptions& options,
    const std::function<void(int)>& on_written = {});

}  // namespace graybench
