# Spack package recipe for graybench. Use it from a repository of your own:
#   spack repo create myrepo && mkdir -p myrepo/packages/graybench
#   cp tools/packaging/package.py myrepo/packages/graybench/ && spack repo add myrepo
#   spack install graybench@main ^openmpi ^hdf5~mpi
#   spack load graybench        (or: spack module lmod refresh graybench; module load graybench)
# Variants track the CMake options and the optional codec/kernel libraries: a dependency that
# this revision's CMakeLists.txt does not look for is simply unused.

from spack.package import *


class Graybench(CMakePackage):
    """MPI batch grayscale conversion benchmark: sequential, threads, OpenMP, thread pool and
    process strategies per rank, per-image timings and checksums in a versioned HDF5 schema,
    Slurm sweep scripts and Python tools to merge and report results."""

    homepage = "https://example.org/graybench"
    git = "https://example.org/graybench.git"

    maintainers("graybench-developers")
    license("MIT")

    version("main", branch="main")

    variant("tests", default=False, description="Build the GoogleTest suite (ctest)")
    variant("benchmarks", default=False, description="Build the Google Benchmark programs")
    variant("jpeg", default=True, description="Decode JPEG with libjpeg-turbo (else stb_image)")
    variant("png", default=True, description="Encode PNG with libdeflate and ISA-L")
    variant("simd", default=True, description="Highway SIMD grayscale kernel with runtime dispatch")
    variant("tools", default=True,
            description="Python tools (graybench-merge, graybench-report): h5py, pandas, "
                        "matplotlib, pillow, xxhash at run time")

    depends_on("cmake@3.21:", type="build")
    depends_on("mpi")
    depends_on("hdf5@1.10:~mpi")
    depends_on("boost+program_options")
    depends_on("stb")
    depends_on("xxhash")
    depends_on("libjpeg-turbo", when="+jpeg")
    depends_on("libdeflate", when="+png")
    depends_on("isa-l", when="+png")
    depends_on("highway", when="+simd")
    depends_on("googletest", type=("build", "test"), when="+tests")
    depends_on("benchmark", type="build", when="+benchmarks")
    with when("+tools"):
        depends_on("python@3.9:", type="run")
        depends_on("py-h5py", type="run")
        depends_on("py-pandas", type="run")
        depends_on("py-matplotlib", type="run")
        depends_on("py-pillow", type="run")
        depends_on("py-xxhash", type="run")

    def cmake_args(self):
        return [
            self.define_from_variant("GRAYBENCH_BUILD_TESTS", "tests"),
            self.define_from_variant("GRAYBENCH_BUILD_BENCHMARKS", "benchmarks"),
            self.define("CMAKE_INSTALL_RPATH_USE_LINK_PATH", True),
        ]

    def setup_run_environment(self, env):
        env.set("GRAYBENCH_ROOT", self.prefix)
        env.set("GRAYBENCH_JOBS", join_path(self.prefix.share, "graybench", "jobs"))
        if self.spec.satisfies("+tools"):
            # bin/graybench-merge etc. run their scripts with this interpreter
            env.set("GRAYBENCH_PYTHON", self.spec["python"].command.path)
