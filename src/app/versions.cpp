#include "app/versions.hpp"

#include "h5/results.hpp"
#include "io/versions.hpp"
#include "mpi/comm.hpp"
#include "timing/build_info.hpp"

namespace graybench {

std::string version_text(const std::string& program) {
  // MPI_Get_library_version may be called before MPI_Init, so graybench-gen can use it too.
  return program + " " + version() + " (" + git_revision() + ", " + compiler() + ", " +
         build_type() + ")\n" + "MPI: " + mpi::library_version() + "\n" +
         "HDF5: " + hdf5_library_version() + "\n" + "codecs: " + codec_versions() + "\n";
}

}  // namespace graybench
