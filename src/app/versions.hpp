#pragma once

#include <string>

namespace graybench {
/// `--version` text of `program`: its version and build, then the MPI library, HDF5 and codec
/// versions, one per line.
std::string version_text(const std::string& program);
}  // namespace graybench
