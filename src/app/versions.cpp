#include "app/versions.hpp"

#include "h5/results.hpp"
#include "io/codec.hpp"
#include "mpi/comm.hpp"
#include "timing/build_info.hpp"

namespace graybench {

namespace {
/// "name version, name version, ..." of the codec libraries this build decodes and encodes with.
std::string codec_list() {
  std::string out;
  for (const auto& [name, ver] : codec_versions()) {
    if (!out.empty()) out += ", ";
    out.append(name).append(" ").append(ver);
  }
  return out;
}
}  // namespace

std::string version_text(const std::string& program) {
  // MPI_Get_library_version may be called before MPI_Init, so graybench-gen can use it too.
  return program + " " + version() + " (" + git_revision() + ", " + compiler() + ", " +
         build_type() + ")\n" + "MPI: " + mpi::library_version() + "\n" +
         "HDF5: " + hdf5_library_version() + "\n" + "codecs: " + codec_list() + "\n";
}

}  // namespace graybench
