#pragma once

#include <string>

namespace graybench {
/// The HDF5 library version in use at run time, e.g. "1.10.8".
std::string hdf5_library_version();
}  // namespace graybench
