# stb single-file libraries (stb_image, stb_image_write), header-only. Spack's builtin repository
# has no stb package; graybench compiles stb_image in one translation unit of its own.
from spack_repo.builtin.build_systems.generic import Package

from spack.package import *


class Stb(Package):
    """stb: single-file public domain libraries for C/C++ (stb_image, stb_image_write, ...).
    Installs the headers into include/stb, as Debian's libstb-dev does."""

    homepage = "https://github.com/nothings/stb"
    git = "https://github.com/nothings/stb.git"

    license("MIT OR Unlicense")

    # stb has no releases. This is the commit Debian 12 ships (libstb-dev 0.0~git20220908,
    # stb_image 2.27), the one graybench is tested with and records in its run metadata.
    version("2022-09-08", commit="8b5f1f37b5b75829fc72d38e7b5d4bcbf8a26d55")

    def install(self, spec, prefix):
        mkdirp(prefix.include.stb)
        for header in find(".", "stb*.h", recursive=False):
            install(header, prefix.include.stb)
