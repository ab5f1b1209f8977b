#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/work_item.hpp"

namespace graybench {

/// The sorted, de-duplicated input list and where its output tree is rooted.
struct InputList {
  std::vector<InputFile> files;
  std::string root;  ///< common ancestor directory of all inputs: outputs mirror paths below it
};

/// True for the extensions stb decodes: png, jpg, jpeg, bmp, tga, gif, pnm, pgm, ppm, psd
/// (case-insensitive).
bool is_supported_image(const std::filesystem::path& path);

/// Output name of an input relative to the mirror root: the relative path with ".png"
/// appended unless it already ends in ".png" ("a/x.jpg" -> "a/x.jpg.png", "a/x.png" -> "a/x.png"),
/// so inputs that differ only by extension never share an output.
std::string mirror_name(const std::filesystem::path& relative);

/// Lists the images named by `inputs` (files, or directories scanned recursively, following no
/// directory symlinks) and by `list_files` (one path per line, relative to the current
/// directory; blank lines and lines starting with '#' ignored). Sorted by path; the same file
/// reached twice (also through a symlink or a hard link) is kept once. With `output_dir`,
/// refuses outputs that would overwrite an input or the `results` file, or land on one file.
/// Throws UsageError with one clear line.
InputList list_inputs(const std::vector<std::string>& inputs,
                      const std::vector<std::string>& list_files,
                      const std::optional<std::string>& output_dir = std::nullopt,
                      const std::optional<std::string>& results = std::nullopt);

/// Hex FNV-1a 64 over the sorted "path\tsize\n" lines: identifies an input set in run metadata.
std::string fingerprint(const std::vector<InputFile>& files);

}  // namespace graybench
